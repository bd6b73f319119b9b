"""Mixup (notebook 03): x = l x_i + (1 - l) x_j and the one-hot labels alike, l ~ Beta(a, a).

:func:`sample_beta` draws l as g1 / (g1 + g2) from two Gamma(a) samples; :func:`mixup_batch`
mixes a batch with a shuffled copy of itself (what ``keras.layers.MixUp`` does);
:func:`mixup_dataset` does it inside ``tf.data``, with new draws every epoch. TensorFlow ops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["sample_beta", "mixup_batch", "mixup_dataset"]


def _seed_pair(seed: int | tf.Tensor) -> tf.Tensor:
    """A stateless-op seed, shape [2] int64, from an int or a shape-[2] integer tensor."""
    import tensorflow as tf
    if isinstance(seed, (int, np.integer)):
        return tf.constant([int(seed), 0], dtype=tf.int64)
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    return tf.reshape(seed, [2])


def sample_beta(alpha: float, size: int | tf.Tensor, seed: int | tf.Tensor | None = None) -> tf.Tensor:
    """``size`` draws of lambda ~ Beta(alpha, alpha) as g1 / (g1 + g2), g1, g2 ~ Gamma(alpha).

    TensorFlow ops, so it runs inside ``tf.data``. ``seed``: None (stateful, like the source's
    ``tf.random.gamma``), an int, or a shape-[2] integer tensor (stateless: same seed, same
    draws). Mean 1/2, variance 1 / (4 (2 alpha + 1)).

    >>> lam = sample_beta(0.2, 5, seed=1)
    >>> bool(((lam >= 0) & (lam <= 1)).numpy().all())
    True
    """
    import tensorflow as tf
    if not float(alpha) > 0:
        raise ValueError(f"alpha must be > 0; got {alpha}.")
    shape = tf.reshape(tf.cast(size, tf.int32), [1])
    if seed is None:
        g1 = tf.random.gamma(shape, alpha)
        g2 = tf.random.gamma(shape, alpha)
    else:
        seeds = tf.random.experimental.stateless_split(_seed_pair(seed), 2)
        g1 = tf.random.stateless_gamma(shape, seeds[0], alpha)
        g2 = tf.random.stateless_gamma(shape, seeds[1], alpha)
    total = g1 + g2
    # for tiny alpha both Gamma draws can underflow to 0: call that pair an even mix
    return tf.where(total > 0, g1 / tf.where(total > 0, total, 1.0), 0.5)


def _mix(x1, y1, x2, y2, lam):
    """lam x1 + (1 - lam) x2 and the same for the labels, one lam per example."""
    import tensorflow as tf
    x1, x2 = tf.cast(x1, tf.float32), tf.cast(x2, tf.float32)
    y1, y2 = tf.cast(y1, tf.float32), tf.cast(y2, tf.float32)
    lx = tf.reshape(lam, tf.concat([tf.shape(lam), tf.ones([tf.rank(x1) - 1], tf.int32)], 0))
    ly = tf.reshape(lam, tf.concat([tf.shape(lam), tf.ones([tf.rank(y1) - 1], tf.int32)], 0))
    x = lx * x1 + (1.0 - lx) * x2
    # a convex combination stays within its two inputs; clip away float rounding
    x = tf.clip_by_value(x, tf.minimum(x1, x2), tf.maximum(x1, x2))
    return x, ly * y1 + (1.0 - ly) * y2


def _one_hot(labels, num_classes: int | None):
    """Float one-hot labels; integer labels are encoded (they need ``num_classes``)."""
    import tensorflow as tf
    labels = tf.convert_to_tensor(labels)
    if labels.dtype.is_integer:
        if num_classes is None:
            raise ValueError("mixup needs one-hot (float) labels: pass num_classes to one-hot "
                             "the integer labels.")
        return tf.one_hot(tf.reshape(tf.cast(labels, tf.int32), [-1]), num_classes)
    return tf.cast(labels, tf.float32)


def mixup_batch(images: tf.Tensor | np.ndarray, labels: tf.Tensor | np.ndarray, alpha: float = 0.2,
                seed: int | tf.Tensor | None = None, num_classes: int | None = None,
                return_lambda: bool = False) -> tuple[tf.Tensor, ...]:
    """Mix a batch with a shuffled copy of itself: x = l x_i + (1 - l) x_j, same for labels.

    ``labels`` one-hot floats (or integers with ``num_classes``); l ~ Beta(alpha, alpha) per
    example (:func:`sample_beta`). Mixed labels still sum to 1; images stay in their range.
    Inside ``tf.data`` use :func:`mixup_dataset`, which gives every batch its own seed.

    >>> x, y = mixup_batch(np.ones((4, 8, 8, 3)), np.eye(2)[[0, 1, 0, 1]], seed=0)
    >>> np.allclose(y.numpy().sum(axis=1), 1)
    True
    """
    import tensorflow as tf
    images = tf.convert_to_tensor(images)
    labels = _one_hot(labels, num_classes)
    n = tf.shape(images)[0]
    if seed is None:
        perm = tf.random.shuffle(tf.range(n))
        lam = sample_beta(alpha, n)
    else:
        s_perm, s_lam = tf.unstack(tf.random.experimental.stateless_split(_seed_pair(seed), 2))
        perm = tf.argsort(tf.random.stateless_uniform(tf.reshape(n, [1]), s_perm))
        lam = sample_beta(alpha, n, s_lam)
    x, y = _mix(images, labels, tf.gather(images, perm), tf.gather(labels, perm), lam)
    return (x, y, lam) if return_lambda else (x, y)


def mixup_dataset(ds: tf.data.Dataset, alpha: float = 0.2, num_classes: int | None = None,
                  seed: int | None = None, partner: tf.data.Dataset | None = None,
                  num_parallel_calls: int | None = None) -> tf.data.Dataset:
    """Mixup inside ``tf.data`` on ``(images, labels)`` batches, with new draws every epoch.

    Without ``partner`` each batch is mixed with a shuffled copy of itself
    (:func:`mixup_batch`, what ``keras.layers.MixUp`` does). With ``partner`` (a second,
    differently shuffled copy of the data, batched the same way) batches are zipped and mixed
    pairwise, as the source notebook did. Why every batch gets a stateless seed from
    ``Dataset.random(rerandomize_each_iteration=True)``: stateful random ops in a ``map``
    restart from the same state every epoch once a global seed is set (``set_seed``), so
    every epoch would repeat the same lambdas and pairings. ``seed``: an int reproduces the
    draws run to run; None follows the global seed, or is random without one.

    >>> train_ds = mixup_dataset(train_ds, alpha=0.2, num_classes=10, seed=0)  # doctest: +SKIP
    """
    import tensorflow as tf
    calls = tf.data.AUTOTUNE if num_parallel_calls is None else num_parallel_calls
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    zipped = tf.data.Dataset.zip((ds, seeds) if partner is None else (ds, partner, seeds))

    def mix(*elem):
        s = elem[-1]
        if partner is None:
            (x, y) = elem[0]
            return mixup_batch(x, y, alpha, seed=s, num_classes=num_classes)
        (x1, y1), (x2, y2) = elem[0], elem[1]
        y1, y2 = _one_hot(y1, num_classes), _one_hot(y2, num_classes)
        m = tf.minimum(tf.shape(x1)[0], tf.shape(x2)[0])
        lam = sample_beta(alpha, m, s)
        return _mix(x1[:m], y1[:m], x2[:m], y2[:m], lam)

    return zipped.map(mix, num_parallel_calls=calls).prefetch(tf.data.AUTOTUNE)
