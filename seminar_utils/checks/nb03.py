"""Checks of notebook 03's exercises (mixup): CutMix written by hand, then trained with.

Exercise 1 tests a learner's ``cut_mix(batch_one, batch_two, seed, alpha)`` on flat-coloured
images, where every pasted pixel is visible: a pasted rectangle, labels weighted by the pasted
area, new boxes for a new seed, and it runs inside ``tf.data``. Exercise 2 tests a model
trained with it: the stage's architecture and epochs, soft labels, a profile-aware floor.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import Check, at_least, at_most, close, equal, exercise, has_shape, is_true, verify

__all__ = ["flat_batches", "exercise_1", "exercise_2", "EXERCISE_2_FLOORS"]

#: Test-accuracy floors of exercise 2 per profile: quick from runs of the reference answer over
#: seeds 1-3 (perf/seed_spread.py, 90 epochs: 0.427-0.435), with margin; gpu and full are
#: expectations (no GPU run was possible); smoke only asks for a finished training run.
EXERCISE_2_FLOORS: dict[str, float] = {"full": 0.70, "gpu": 0.55, "quick": 0.40, "smoke": 0.0}


def flat_batches(n: int = 8, side: int = 32, num_classes: int = 10) -> tuple[Any, Any]:
    """Two batches of flat-coloured images (every image one grey level) with one-hot labels.

    Image k of the first batch has level 10 + 10 k and class k; of the second, 150 + 10 k and
    class (k + 1) mod ``num_classes``: any pasted pixel differs from its image's own level.

    >>> (x1, y1), (x2, y2) = flat_batches(4)
    >>> x1.shape, float(x1[1, 0, 0, 0]), int(y2[0].argmax())
    ((4, 32, 32, 3), 20.0, 1)
    """
    k = np.arange(n)
    levels_one, levels_two = 10.0 + 10 * k, 150.0 + 10 * k
    x1 = np.broadcast_to(levels_one[:, None, None, None], (n, side, side, 3)).astype("float32")
    x2 = np.broadcast_to(levels_two[:, None, None, None], (n, side, side, 3)).astype("float32")
    y1 = np.eye(num_classes, dtype="float32")[k % num_classes]
    y2 = np.eye(num_classes, dtype="float32")[(k + 1) % num_classes]
    return (x1, y1), (x2, y2)


def _call(cut_mix: Callable, batch_one, batch_two, seed, alpha: float):
    out = cut_mix(batch_one, batch_two, seed, alpha)
    images, labels = (np.asarray(getattr(t, "numpy", lambda: t)()) for t in out)
    return images, labels


def _is_rectangle(mask: np.ndarray) -> bool:
    """True when the True pixels of a 2-D mask fill their bounding box (or there are none)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return True
    return bool(mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].all())


@exercise
def exercise_1(cut_mix: Callable, trials: int = 40) -> None:
    """Check a by-hand CutMix ``cut_mix(batch_one, batch_two, seed, alpha) -> (images, labels)``.

    ``seed`` is a shape-[2] integer tensor, as the notebook's ``mix_up`` receives in ``tf.data``;
    the tests call it with ``alpha = 1`` (lambda uniform), where the mean pasted area is known.

    >>> exercise_1(my_cut_mix)                                    # doctest: +SKIP
    Exercise 1: 9 of 9 checks passed
    """
    import tensorflow as tf
    alpha = 1.0
    one, two = flat_batches()
    (x1, y1), (x2, y2) = one, two
    checks: list[Check] = []
    try:
        images, labels = _call(cut_mix, one, two, tf.constant([1, 2], tf.int64), alpha)
    except Exception as err:  # the learner's code may fail in any way: say how, then stop
        verify("Exercise 1", [is_true(
            "cut_mix runs on two batches and a seed", False, f"{type(err).__name__}: {err}",
            "define cut_mix(batch_one, batch_two, seed, alpha) with batch = (images, labels); "
            "return (images, labels)")])
        return
    checks.append(has_shape("mixed images", images, x1.shape,
                            "the images keep their batch, height, width and channels"))
    checks.append(has_shape("mixed labels", labels, y1.shape, "one soft label vector per image"))
    if images.shape != x1.shape or labels.shape != y1.shape:
        verify("Exercise 1", checks)
    checks.append(at_most("largest |label sum - 1|", float(np.abs(labels.sum(axis=1) - 1).max()),
                          1e-5, "weights (1 - a) and a of the two one-hot labels sum to 1"))
    own, partner = images == x1, images == x2
    checks.append(is_true("every pixel comes from one of the two images (a paste, not a blend)",
                          (own | partner).all(), "some pixels are neither image's value",
                          "inside the box take image two's pixel, outside image one's: "
                          "mask * two + (1 - mask) * one with a 0/1 mask"))
    pasted = partner.any(axis=-1)
    checks.append(is_true("the pasted pixels of each image form one rectangle, in every channel",
                          all(_is_rectangle(m) for m in pasted)
                          and (partner.all(axis=-1) == pasted).all(),
                          "a pasted region that is not a box",
                          "build the mask from row and column ranges: (rows >= top) & "
                          "(rows < bottom) & (cols >= left) & (cols < right)"))
    area = pasted.mean(axis=(1, 2))
    partner_weight = (labels * y2).sum(axis=1)
    checks.append(at_most("largest |partner label weight - pasted area|",
                          float(np.abs(partner_weight - area).max()), 1e-5,
                          "compute the label weight from the box after clipping it at the "
                          "image border (the mask's mean), not from the lambda you drew"))
    # many seeds: the boxes change with the seed and their mean area is E[1 - lambda] = 1/2
    areas, same_seed = [], True
    for s in range(trials):
        seed = tf.constant([s, 7], tf.int64)
        im, _ = _call(cut_mix, one, two, seed, alpha)
        areas.append((im == x2).any(axis=-1).mean(axis=(1, 2)))
        if s == 0:
            again, _ = _call(cut_mix, one, two, seed, alpha)
            same_seed = bool(np.array_equal(im, again))
    areas = np.concatenate(areas)
    checks.append(is_true("the same seed gives the same boxes; another seed, other boxes",
                          same_seed and np.unique(np.round(areas, 4)).size > 5,
                          f"same seed repeats: {same_seed}, distinct areas: "
                          f"{np.unique(np.round(areas, 4)).size}",
                          "draw lambda and the box centre with stateless ops from `seed` "
                          "(tf.random.stateless_uniform, the notebook's sample_beta_distribution)"))
    checks.append(close(f"mean pasted area over {trials} seeds", float(areas.mean()), 0.4, 0.15,
                        "with alpha = 1, lambda is uniform: a box of side sqrt(1 - lambda) times "
                        "the image side covers 1/2 of the image on average (about 1/3 when the "
                        "border clips boxes centred anywhere)"))
    try:
        ds = tf.data.Dataset.from_tensors((one, two, tf.constant([3, 4], tf.int64)))
        next(iter(ds.map(lambda a, b, s: cut_mix(a, b, s, alpha))))
        in_graph, why = True, ""
    except Exception as err:
        in_graph, why = False, f"{type(err).__name__}: {str(err).splitlines()[0][:120]}"
    checks.append(is_true("cut_mix runs inside tf.data's map (graph mode)", in_graph, why,
                          "use TensorFlow ops only (no .numpy(), no NumPy random, no Python "
                          "if on tensors)"))
    verify("Exercise 1", checks)


@exercise
def exercise_2(model: Any, history: Any, test_accuracy: float, reference_params: int,
               epochs: int, profile: str | None = None) -> None:
    """Check the model trained with CutMix: architecture, epochs, soft-label loss, accuracy floor.

    ``reference_params``: the parameter count of the stage's model; ``epochs``: the stage's
    epochs in this profile; ``profile`` picks the accuracy floor (:data:`EXERCISE_2_FLOORS`).

    >>> exercise_2(ex2_model, ex2_history, ex2_test_accuracy, 549_898, 30, "quick")  # doctest: +SKIP
    Exercise 2: 5 of 5 checks passed
    """
    from ..profiles import resolve_profile
    profile = resolve_profile(profile)
    floor = EXERCISE_2_FLOORS[profile]
    hist = getattr(history, "history", history) or {}
    loss = getattr(model, "loss", None)
    loss_name = loss if isinstance(loss, str) else type(loss).__name__
    checks = [
        equal("model parameters", int(model.count_params()), int(reference_params),
              "train the same model as the stage you compare with (build it afresh)"),
        equal("epochs trained", len(hist.get("loss", [])), int(epochs),
              "train for the stage's epochs (from cfg) so the comparison is fair"),
        is_true("the loss takes soft labels (categorical cross-entropy)",
                "categorical" in str(loss_name).lower() and "sparse" not in str(loss_name).lower(),
                f"loss {loss_name!r}",
                "CutMix labels are mixtures like [0.7, 0.3]: use 'categorical_crossentropy'"),
        is_true("the test accuracy is a number in [0, 1]",
                isinstance(test_accuracy, (int, float, np.floating)) and 0 <= test_accuracy <= 1,
                repr(test_accuracy), "take the accuracy from model.evaluate on the test set"),
        at_least(f"test accuracy ({profile} profile)", float(test_accuracy), floor,
                 "compare your pipeline with the mixup one: one-hot labels, shuffled partner "
                 "copy, boxes that change every batch; and the same learning-rate schedule"),
    ]
    verify("Exercise 2", checks)
