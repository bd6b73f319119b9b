"""Where a classifier saw the evidence: Grad-CAM heatmaps, occlusion maps and their overlay.

Both read one class score per image: the class logit where the output's softmax or sigmoid
can be taken off (see ``_trace.class_scores``), else the output itself. Public through
:mod:`seminar_utils.explain`.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ._trace import (as_batch, class_scores, conv_layers, ensure_built, find_layer, missing_layer,
                     not_reached, trace)

__all__ = ["grad_cam", "overlay", "occlusion_map"]


# --------------------------------------------------------------------------------------------
# Class scores
# --------------------------------------------------------------------------------------------

def _class_array(class_index: Any, n: int, n_outputs: int) -> np.ndarray | None:
    """``class_index`` (None, one int, or one per image) checked and spread to one int per image."""
    if class_index is None:
        return None
    c = np.asarray(class_index)
    if c.ndim == 0:
        c = np.full(n, int(c))
    c = c.astype(int).reshape(-1)
    if len(c) != n:
        raise ValueError(f"class_index has {len(c)} entries for {n} images; pass one int, "
                         "one per image, or None for the predicted class.")
    n_classes = max(n_outputs, 2)   # a one-unit sigmoid output has two classes
    if c.min() < 0 or c.max() >= n_classes:
        raise ValueError(f"class_index must be in [0, {n_classes - 1}], got {sorted(set(c.tolist()))}.")
    return c


def _predicted(scores: Any, are_logits: bool) -> np.ndarray:
    """The predicted class per image; one unit: class 1 when the logit > 0 (p > 0.5)."""
    s = np.asarray(scores)
    if s.shape[-1] == 1:
        probability = not are_logits and s.min() >= 0 and s.max() <= 1
        return (s[:, 0] > (0.5 if probability else 0.0)).astype(int)
    return s.argmax(axis=-1).astype(int)


def _chosen_scores(scores: Any, are_logits: bool, classes: np.ndarray):
    """The score of the chosen class per image (a differentiable tensor of shape (N,)).

    One unit: class 1 scores the logit (or p), class 0 its complement (-logit, or 1 - p).
    """
    import tensorflow as tf
    s = tf.cast(scores, tf.float32)
    if s.shape[-1] == 1:
        v = s[:, 0]
        return tf.where(tf.constant(classes == 1), v, -v if are_logits else 1.0 - v)
    return tf.gather(s, tf.constant(classes, tf.int32), axis=1, batch_dims=1)


def _explainer(model: Any, x: np.ndarray, layer_name: str | None = None, feature: bool = False):
    """``(keras.Model, are_logits)``: from a new input to [the conv feature map,] the class scores.

    With ``feature``, the feature map is that of ``layer_name``, by default the last layer with
    a 4-D output that is not a pooling layer (also inside a nested base).
    """
    import keras
    ensure_built(model, x)
    tr = trace(model, x.shape[1:])
    scores, are_logits = class_scores(model, tr)
    if not feature:
        return keras.Model(tr.input, scores), are_logits
    convs = conv_layers(model, tr)
    names = ", ".join(path for _, path in convs)
    target = find_layer(model, layer_name) if layer_name is not None else None
    if target is None and layer_name is not None:
        raise missing_layer(model, layer_name, [path for _, path in convs])
    if target is None:
        if not convs:
            raise ValueError(f"Model {model.name!r} has no layer with a 4-D output (batch, height, "
                             "width, channels), so there is no convolutional feature map to explain.")
        # The last feature map that is not a pooling layer's: pooling only coarsens the map
        # (VGG16: block5_conv3, not block5_pool), as keras.io names the last convolution.
        pooling = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
        target = next((layer for layer, _ in reversed(convs) if not isinstance(layer, pooling)),
                      convs[-1][0])
    maps = tr.output_of(target)
    if maps is None:
        raise not_reached(model, target)
    if len(maps.shape) != 4:
        raise ValueError(f"Layer {target.name!r} has output shape {tuple(maps.shape)}; Grad-CAM needs "
                         f"a 4-D feature map (batch, height, width, channels). Choose one of: {names}")
    return keras.Model(tr.input, [maps, scores]), are_logits


# --------------------------------------------------------------------------------------------
# Grad-CAM
# --------------------------------------------------------------------------------------------

def grad_cam(model: Any, images: Any, class_index: int | Sequence[int] | None = None,
             layer_name: str | None = None, batch_size: int = 32) -> np.ndarray:
    """Grad-CAM heatmaps, one per image: where the chosen layer saw evidence for the class.

    As on keras.io: a model from the input to [the feature maps ``A`` of ``layer_name``, the
    class scores]; ``ReLU(sum_k w_k A_k)`` with ``w_k`` the spatial mean of ``d score / d A_k``
    (tf.GradientTape), in the formula's order (the ReLU keeps evidence *for* the class at the
    feature map's resolution); then resized (bilinear) to the image size and divided by its
    maximum, so each map lies in [0, 1] (an all-zero map stays zero). ``layer_name`` defaults
    to the last layer with a 4-D output that is not a pooling layer (the last convolution or its
    activation), also inside a nested base; name another as ``"conv2"`` or ``"base/conv2"``.

    ``class_index``: None for the predicted class of each image, an int, or one per image.
    The score is the class logit where the output softmax/sigmoid can be taken off, else the
    output. A one-unit sigmoid output has two classes: 1 scores the logit (or p), 0 its
    complement (-logit, or 1 - p). ``images`` are (N, H, W, C) in the model's input space (one
    (H, W, C) image counts as N = 1). A ``Sequential`` never called is built by calling it once.

    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.layers.Conv2D(4, 3, padding="same", name="c"),
    ...                       keras.layers.GlobalAveragePooling2D(),
    ...                       keras.layers.Dense(3, activation="softmax")])
    >>> h = grad_cam(m, np.random.rand(2, 16, 16, 1))
    >>> h.shape, h.dtype, bool(h.min() >= 0 and h.max() <= 1)
    ((2, 16, 16), dtype('float32'), True)
    """
    import tensorflow as tf
    x = as_batch(images)
    n, height, width = x.shape[:3]
    explainer, are_logits = _explainer(model, x, layer_name, feature=True)
    classes = _class_array(class_index, n, int(explainer.outputs[1].shape[-1]))
    heatmaps = []
    for start in range(0, n, batch_size):
        xb = tf.convert_to_tensor(x[start:start + batch_size])
        with tf.GradientTape() as tape:
            tape.watch(xb)   # records the pass even when the base is frozen
            maps, scores = explainer(xb, training=False)
            chosen = _predicted(scores, are_logits) if classes is None else classes[start:start + batch_size]
            total = tf.reduce_sum(_chosen_scores(scores, are_logits, chosen))
        grads = tape.gradient(total, maps)
        if grads is None:
            raise ValueError(f"The output of model {model.name!r} does not depend on the chosen layer's "
                             "feature map; choose a layer on the path to the output.")
        maps = tf.cast(maps, tf.float32)
        weights = tf.reduce_mean(tf.cast(grads, tf.float32), axis=(1, 2))           # (N, K)
        cam = tf.nn.relu(tf.reduce_sum(maps * weights[:, None, None, :], axis=-1))    # (N, h, w)
        cam = tf.image.resize(cam[..., None], (height, width), method="bilinear")[..., 0]
        peak = tf.reduce_max(cam, axis=(1, 2), keepdims=True)
        heatmaps.append(tf.math.divide_no_nan(cam, peak).numpy())
    return np.concatenate(heatmaps).astype(np.float32)


def overlay(image: Any, heatmap: Any, alpha: float = 0.4, cmap: str = "jet") -> np.ndarray:
    """The heatmap in colour blended over the image: an RGB float array in [0, 1] to display.

    ``image``: (H, W), (H, W, 1) or (H, W, 3), uint8 0-255 or float in [0, 1] or [0, 255].
    ``heatmap``: values in [0, 1]; resized (bilinear) when its size differs from the image.

    >>> out = overlay(np.zeros((8, 8, 3), np.uint8), np.ones((4, 4)))
    >>> out.shape, float(out.min()) >= 0, float(out.max()) <= 1
    ((8, 8, 3), True, True)
    """
    import matplotlib
    from PIL import Image
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}.")
    raw = np.asarray(image)
    img = raw.astype(np.float32)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    if img.ndim != 3 or img.shape[-1] not in (3, 4):
        raise ValueError(f"Expected an image of shape (H, W), (H, W, 1) or (H, W, 3), got {raw.shape}.")
    img = img[..., :3]
    if np.issubdtype(raw.dtype, np.integer) or img.max() > 1.0:
        img = img / 255.0
    img = np.clip(img, 0.0, 1.0)
    heat = np.squeeze(np.asarray(heatmap, dtype=np.float32))
    if heat.ndim != 2:
        raise ValueError(f"Expected a 2-D heatmap, got shape {np.asarray(heatmap).shape}.")
    if heat.shape != img.shape[:2]:
        heat = np.asarray(Image.fromarray(heat, mode="F").resize(
            (img.shape[1], img.shape[0]), Image.BILINEAR), dtype=np.float32)
    heat = np.clip(np.nan_to_num(heat), 0.0, 1.0)
    colors = matplotlib.colormaps[cmap](heat)[..., :3]
    return np.clip((1 - alpha) * img + alpha * colors, 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Occlusion sensitivity
# --------------------------------------------------------------------------------------------

def _pair(v: int | Sequence[int]) -> tuple[int, int]:
    return (int(v), int(v)) if np.ndim(v) == 0 else (int(v[0]), int(v[1]))


def _starts(size: int, patch: int, stride: int) -> list[int]:
    last = max(size - patch, 0)
    starts = list(range(0, last + 1, stride))
    if starts[-1] != last:
        starts.append(last)   # cover the bottom/right edge too
    return starts


def occlusion_map(model: Any, image: Any, class_index: int | None = None,
                  patch: int | Sequence[int] = 16, stride: int | Sequence[int] = 8,
                  fill: float | None = None, batch_size: int = 128) -> np.ndarray:
    """How much the class score drops when each region of the image is hidden, in [0, 1].

    A ``patch`` square filled with ``fill`` (None: the image's mean value, a grey in the
    image's own range) slides with ``stride`` over the image; every occluded copy is scored
    (in batches) with the same class score as :func:`grad_cam` (the logit when available).
    Each pixel gets the mean drop over the patches that cover it, negative drops (occlusion
    that helps the class) are set to 0, and the map is divided by its maximum.

    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.layers.Conv2D(2, 3), keras.layers.GlobalAveragePooling2D(),
    ...                       keras.layers.Dense(2, activation="softmax")])
    >>> occlusion_map(m, np.random.rand(16, 16, 1), patch=8, stride=4).shape
    (16, 16)
    """
    x = as_batch(image)
    if x.shape[0] != 1:
        raise ValueError(f"occlusion_map explains one image; got a batch of {x.shape[0]}.")
    img = x[0]
    height, width = img.shape[:2]
    (ph, pw), (sy, sx) = _pair(patch), _pair(stride)
    if min(ph, pw, sy, sx) < 1:
        raise ValueError("patch and stride must be positive.")
    ph, pw = min(ph, height), min(pw, width)
    value = float(img.mean()) if fill is None else float(fill)
    scorer, are_logits = _explainer(model, x)
    scores = scorer(x, training=False)
    classes = _class_array(class_index, 1, int(scores.shape[-1]))
    if classes is None:
        classes = _predicted(scores, are_logits)
    base = float(_chosen_scores(scores, are_logits, classes).numpy()[0])
    boxes = [(y, xx) for y in _starts(height, ph, sy) for xx in _starts(width, pw, sx)]
    total = np.zeros((height, width), np.float64)
    count = np.zeros((height, width), np.float64)
    for start in range(0, len(boxes), batch_size):
        chunk = boxes[start:start + batch_size]
        batch = np.repeat(img[None], len(chunk), axis=0)
        for i, (y, xx) in enumerate(chunk):
            batch[i, y:y + ph, xx:xx + pw] = value
        occluded = _chosen_scores(scorer(batch, training=False), are_logits,
                                  np.repeat(classes, len(chunk))).numpy()
        for (y, xx), s in zip(chunk, occluded):
            total[y:y + ph, xx:xx + pw] += base - float(s)
            count[y:y + ph, xx:xx + pw] += 1
    drop = np.maximum(total / np.maximum(count, 1), 0.0)
    peak = drop.max()
    return (drop / peak if peak > 0 else drop).astype(np.float32)
