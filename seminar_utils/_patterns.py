"""Inside a trained convnet: intermediate activations and the patterns its filters respond to.

:func:`activation_model` builds a real functional model to the named layers (also inside
nested bases, at any input size the layers allow); the filter patterns come from gradient
ascent on the input through it, as in keras.io "visualizing what convnets learn". Public
through :mod:`seminar_utils.explain`.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import numpy as np

from ._trace import conv_layer_names, find_layer, layer_paths, missing_layer, not_reached, trace
from ._trace import input_shape as _input_shape

__all__ = ["activation_model", "plot_activations", "filter_pattern", "filter_grid",
           "responsive_filters"]


# --------------------------------------------------------------------------------------------
# Intermediate activations
# --------------------------------------------------------------------------------------------

def activation_model(model: Any, layer_names: str | Sequence[str],
                     input_shape: Sequence[int | None] | None = None):
    """A functional model from a new input to the outputs of the named layers.

    Names may point inside nested bases (``"conv2d"`` or ``"base/conv2d"``). A single name
    gives a one-output model, a list gives a list of outputs. ``input_shape`` (without the
    batch axis) is needed for a model that was never called, and may change the spatial size
    of a fully convolutional path: the layers after the last named one are left out, so a
    ``Flatten`` -> ``Dense`` head does not get in the way. Run it with ``predict`` or
    ``training=False``: called directly with the default ``training=None``, random augmentation
    layers copied from the model (``RandomFlip``, ``RandomRotation``, ...) treat the call as
    training and transform the input.

    >>> import keras, numpy as np
    >>> base = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c1")])
    >>> m = keras.Sequential([base, keras.layers.Flatten(), keras.layers.Dense(2)])
    >>> activation_model(m, "c1").predict(np.zeros((1, 8, 8, 1)), verbose=0).shape
    (1, 6, 6, 2)
    """
    import keras
    single = isinstance(layer_names, str)
    names = [layer_names] if single else list(layer_names)
    if not names:
        raise ValueError("layer_names is empty.")
    shape = tuple(input_shape) if input_shape is not None else _input_shape(model)
    if shape is None:
        raise ValueError(f"Model {model.name!r} has not been built yet, so its input shape is "
                         "unknown: call it once on a batch (model(images[:1])) or pass "
                         "input_shape=(H, W, C).")
    layers = []
    for name in names:
        layer = find_layer(model, name)
        if layer is None:
            known = ", ".join(layer_paths(model).values())
            raise ValueError(f"No layer named {name!r} in model {model.name!r}. Layers "
                             f"(nested ones as base/layer): {known}")
        layers.append(layer)
    tr = trace(model, shape, stop_after=layers)
    outputs = [tr.output_of(layer) for layer in layers]
    for layer, out in zip(layers, outputs):
        if out is None:
            raise not_reached(model, layer)
    return keras.Model(tr.input, outputs[0] if single else outputs, name=f"{model.name}_activations")


def plot_activations(activations: Any, title: str = "", ncols: int = 16, size: float = 0.9,
                     cmap: str = "viridis"):
    """Every channel of one layer's activation as a tile, each scaled to its own min-max.

    ``activations``: (1, h, w, c) or (h, w, c), e.g. ``activation_model(m, "conv1").predict(x[:1])``.
    An all-zero channel (a filter that did not fire: common after ReLU) is drawn as a grey
    tile marked "empty" instead of a black square that would look like a dark pattern;
    a constant non-zero channel is marked "constant". Returns the figure.

    >>> a = np.random.rand(1, 6, 6, 4); a[..., 1] = 0
    >>> fig = plot_activations(a, "demo", ncols=2)
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['empty']
    """
    import matplotlib
    import matplotlib.pyplot as plt
    a = np.asarray(activations.numpy() if hasattr(activations, "numpy") else activations,
                   dtype=np.float32)
    if a.ndim == 4:
        if a.shape[0] != 1:
            raise ValueError(f"Pass the activations of one image, got a batch of {a.shape[0]}.")
        a = a[0]
    if a.ndim != 3:
        raise ValueError(f"Expected activations of shape (1, h, w, c) or (h, w, c), got {a.shape}.")
    h, w, c = a.shape
    ncols = max(1, min(ncols, c))
    nrows = int(np.ceil(c / ncols))
    gap = max(1, min(h, w) // 16)
    mosaic = np.ones((nrows * (h + gap) - gap, ncols * (w + gap) - gap, 3), np.float32)
    colormap = matplotlib.colormaps[cmap]
    marks = []
    for k in range(c):
        ch = a[..., k]
        r, q = divmod(k, ncols)
        y0, x0 = r * (h + gap), q * (w + gap)
        lo, hi = float(ch.min()), float(ch.max())
        if hi > lo:
            tile = colormap((ch - lo) / (hi - lo))[..., :3]
        else:
            tile = np.full((h, w, 3), 0.55, np.float32)
            marks.append((y0 + h / 2, x0 + w / 2, "empty" if hi == 0 else "constant"))
        mosaic[y0:y0 + h, x0:x0 + w] = tile
    fig, ax = plt.subplots(figsize=(size * ncols, size * nrows * h / w + 0.5))
    ax.imshow(mosaic, interpolation="nearest")
    for yy, xx, text in marks:
        ax.text(xx, yy, text, ha="center", va="center", color="white", fontsize=7)
    ax.axis("off")
    n_empty = sum(m[2] == "empty" for m in marks)
    ax.set_title(f"{title} ({c} channels, {h}x{w}; {n_empty} empty)".strip())
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# Filter patterns by gradient ascent
# --------------------------------------------------------------------------------------------

def _feature_extractor(model: Any, layer_name: str, size: Sequence[int] | None):
    shape = _input_shape(model)
    if shape is None:
        raise ValueError(f"Model {model.name!r} has not been built yet: call it once on a batch "
                         "(model(images[:1])) so that its input channels are known.")
    if size is None:
        size = shape[:2] if None not in shape[:2] else (128, 128)
    height, width = int(size[0]), int(size[1])
    channels = shape[-1] or 3
    if find_layer(model, layer_name) is None:
        own = shape if None not in shape else (height, width, channels)
        raise missing_layer(model, layer_name, conv_layer_names(model, np.zeros((1,) + own, np.float32)))
    feat = activation_model(model, layer_name, input_shape=(height, width, channels))
    if len(feat.output.shape) != 4:
        raise ValueError(f"Layer {layer_name!r} has output shape {tuple(feat.output.shape)}; "
                         "filter patterns need a 4-D (batch, height, width, filters) output.")
    return feat, (height, width, channels)


def _ascent_step(feat: Any) -> Callable:
    import tensorflow as tf
    fh, fw = feat.output.shape[1:3]
    border = 2 if (fh or 0) > 8 and (fw or 0) > 8 else 0   # ignore border artifacts (keras.io)

    @tf.function
    def step(img, index, step_size):
        with tf.GradientTape() as tape:
            tape.watch(img)
            act = tf.gather(feat(img, training=False), index, axis=-1)
            if border:
                act = act[:, border:-border, border:-border]
            loss = tf.reduce_mean(act)
        grads = tf.math.l2_normalize(tape.gradient(loss, img))
        return loss, img + step_size * grads

    return step


def _deprocess(img: np.ndarray, margin: int) -> np.ndarray:
    x = img.astype(np.float64)
    x -= x.mean()
    x /= x.std() + 1e-5
    x *= 0.1
    x += 0.5
    x = np.clip(x, 0, 1) * 255
    if margin > 0:
        x = x[margin:-margin, margin:-margin]
    return np.clip(x, 0, 255).astype(np.uint8)


def _start_image(shape: tuple[int, int, int], seed: int, init: tuple[float, float]) -> np.ndarray:
    """The seeded grey-plus-noise image that gradient ascent starts from, shape (1, h, w, c)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(init[0], init[1], (1,) + tuple(shape)).astype(np.float32)


def _ascend(feat: Any, step: Callable, shape: tuple[int, int, int], filter_index: int, steps: int,
            step_size: float, seed: int, init: tuple[float, float], margin: int | None):
    import tensorflow as tf
    n_filters = int(feat.output.shape[-1])
    if not 0 <= filter_index < n_filters:
        raise ValueError(f"filter_index must be in [0, {n_filters - 1}] (the layer has "
                         f"{n_filters} filters), got {filter_index}.")
    img = tf.constant(_start_image(shape, seed, init))
    index, lr = tf.constant(filter_index, tf.int32), tf.constant(step_size, tf.float32)
    losses = []
    for _ in range(steps):
        loss, img = step(img, index, lr)
        losses.append(float(loss))
    losses.append(float(step(img, index, lr)[0]))
    if max(losses) == min(losses):
        warnings.warn(f"Filter {filter_index} gives a constant activation ({losses[0]:.3g}) and no "
                      "gradient for the starting image, so the ascent did not move: the filter is "
                      "dead for such inputs, or init is not a sensible grey in this model's input "
                      "space.", RuntimeWarning, stacklevel=3)
    m = min(shape[:2]) // 8 if margin is None else int(margin)
    return _deprocess(img.numpy()[0], m), losses


def filter_pattern(model: Any, layer_name: str, filter_index: int,
                   size: Sequence[int] | None = None, steps: int = 30, step_size: float = 10.0,
                   seed: int = 0, init: tuple[float, float] = (0.4, 0.6), margin: int | None = None,
                   return_losses: bool = False):
    """The input pattern that a filter responds to most, found by gradient ascent on the input.

    Starts from grey plus small noise (uniform in ``init``, seeded), then ``steps`` times adds
    ``step_size`` times the L2-normalised gradient of the filter's mean activation (2 border
    pixels ignored). The result is deprocessed as in keras.io "visualizing what convnets
    learn": centred, scaled to std 0.1 around 0.5, clipped, to 0-255, a ``margin`` cropped
    (default: an eighth of the size). Returns a uint8 (h, w, channels) image, and with
    ``return_losses=True`` also the mean activation before the first and after every step
    (``steps + 1`` values). The ascent works in the model's input space: ``init`` must be a
    sensible grey there (the default suits [0, 1] inputs), and any preprocessing is the
    caller's concern. ``size`` None: the model's input size, or 128x128 when it is free.
    A filter that does not respond at all to the start gives a grey image and a RuntimeWarning.

    >>> import keras
    >>> m = keras.Sequential([keras.Input((16, 16, 1)), keras.layers.Conv2D(2, 3, name="c")])
    >>> img, losses = filter_pattern(m, "c", 0, steps=5, return_losses=True)
    >>> img.shape, img.dtype, len(losses)
    ((12, 12, 1), dtype('uint8'), 6)
    """
    feat, shape = _feature_extractor(model, layer_name, size)
    pattern, losses = _ascend(feat, _ascent_step(feat), shape, filter_index, steps, step_size,
                              seed, init, margin)
    return (pattern, losses) if return_losses else pattern


def filter_grid(model: Any, layer_name: str, filter_indices: Sequence[int],
                size: Sequence[int] | None = None, steps: int = 30, step_size: float = 10.0,
                seed: int = 0, ncols: int = 8, init: tuple[float, float] = (0.4, 0.6),
                margin: int | None = None, tile: float = 1.6):
    """A figure of :func:`filter_pattern` for several filters of one layer (one traced step).

    Each tile is titled with the filter index and its mean activation at the end.

    >>> import keras
    >>> m = keras.Sequential([keras.Input((16, 16, 3)),
    ...                       keras.layers.Conv2D(4, 3, name="c")])
    >>> len(filter_grid(m, "c", [0, 1, 2], steps=3).axes)
    3
    """
    import matplotlib.pyplot as plt
    indices = list(filter_indices)
    if not indices:
        raise ValueError("filter_indices is empty.")
    feat, shape = _feature_extractor(model, layer_name, size)
    step = _ascent_step(feat)
    ncols = max(1, min(ncols, len(indices)))
    nrows = int(np.ceil(len(indices) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(tile * ncols, tile * nrows + 0.4), squeeze=False)
    for ax, k in zip(axes.flat, indices):
        pattern, losses = _ascend(feat, step, shape, int(k), steps, step_size, seed, init, margin)
        ax.imshow(pattern[..., 0] if pattern.shape[-1] == 1 else pattern[..., :3],
                  cmap="gray" if pattern.shape[-1] == 1 else None, vmin=0, vmax=255)
        ax.set_title(f"{k}: {losses[-1]:.2g}", fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    for ax in list(axes.flat)[len(indices):]:
        fig.delaxes(ax)
    fig.suptitle(f"filter patterns of {layer_name}")
    fig.tight_layout()
    return fig


def responsive_filters(model: Any, layer_name: str, n: int, size: Sequence[int] | None = None,
                       seed: int = 0, init: tuple[float, float] = (0.4, 0.6)) -> list[int]:
    """The ``n`` filters of a layer that respond most to the starting image of gradient ascent.

    A filter whose ReLU output is zero everywhere on the start image has no gradient, so
    :func:`filter_pattern` cannot move it and draws a flat grey tile (with a RuntimeWarning);
    trained models have many such filters for a grey input. This ranks the filters by their
    mean activation on exactly the start image that :func:`filter_pattern` and
    :func:`filter_grid` use for the same ``size``, ``seed`` and ``init``, and returns the
    ``n`` strongest, in index order. Only filters with a positive mean activation are
    returned, so the list is shorter than ``n`` (possibly empty) when fewer respond: a wider
    ``init`` range (more noise) wakes more of them up.

    >>> import keras
    >>> m = keras.Sequential([keras.Input((16, 16, 1)),
    ...                       keras.layers.Conv2D(4, 3, kernel_initializer="ones", name="c")])
    >>> responsive_filters(m, "c", 2)      # all four respond equally: ties go to the lower index
    [0, 1]
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}.")
    feat, shape = _feature_extractor(model, layer_name, size)
    act = np.asarray(feat(_start_image(shape, seed, init), training=False), dtype=np.float64)
    strength = act.mean(axis=(0, 1, 2))
    order = sorted((k for k in range(len(strength)) if strength[k] > 0), key=lambda k: (-strength[k], k))
    return sorted(order[:n])
