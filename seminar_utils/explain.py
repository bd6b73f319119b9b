"""Looking inside a trained convnet: Grad-CAM, occlusion maps, activations and filter patterns.

Notebook 06 writes the core of each method by hand where it is taught (the Grad-CAM gradient,
one step of gradient ascent); this module holds the versions that later cells reuse, made
robust to the shapes of model this course builds:

* ``Sequential`` and functional models, convolutional bases nested inside them
  (``Sequential([base, GlobalAveragePooling2D(), Dense(...)])`` or ``inputs -> base -> head``),
  functional models built on ``base.output``, and ``Sequential`` models never called yet;
* softmax, sigmoid (one unit) and linear (logit) outputs.

How it works. :func:`grad_cam` and :func:`occlusion_map` run the model once, eagerly, with a
temporary hook on the chosen layer (and on the output layer) that records what the layer
returns. The gradient of the class score with respect to the recorded feature map is exact
whatever the nesting, and ``model.inputs`` is never needed. The hooks do not change what the
model computes and are removed on exit. :func:`activation_model` builds a real functional model
from a new input to the chosen layers, descending into nested bases.

Class scores are the pre-activation logits when the output layer's softmax or sigmoid can be
taken off cleanly (a ``Dense``/``Conv``/``Activation`` layer with that activation, or a
``Softmax`` layer); otherwise the model's output (for example a probability) is used.

Every function works in the model's input space: apply the model's preprocessing
(``preprocess_input``, rescaling) before calling them, or use a model that contains it.
Layers may be named by their own name, also inside nested bases, or by a path such as
``"vgg16/block5_conv3"`` when a name is ambiguous.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Callable, Iterator, Sequence

import numpy as np

__all__ = [
    "grad_cam",
    "overlay",
    "occlusion_map",
    "activation_model",
    "plot_activations",
    "filter_pattern",
    "filter_grid",
    "conv_layer_names",
    "responsive_filters",
]

_MISSING = object()


# --------------------------------------------------------------------------------------------
# Finding layers, also inside nested models
# --------------------------------------------------------------------------------------------

def _walk(model: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[Any, tuple[str, ...]]]:
    """``(layer, path)`` for every layer of ``model``, depth first, descending into nested models."""
    import keras
    for layer in getattr(model, "layers", []):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        path = prefix + (layer.name,)
        yield layer, path
        if isinstance(layer, keras.Model):
            yield from _walk(layer, path)


def _paths(model: Any) -> dict[int, str]:
    out: dict[int, str] = {}
    for layer, path in _walk(model):
        out.setdefault(id(layer), "/".join(path))
    return out


def _find_layer(model: Any, name: str) -> Any | None:
    """The layer called ``name`` (or at path ``"outer/inner"``) anywhere in ``model``, or None."""
    matches: dict[int, tuple[Any, str]] = {}
    for layer, path in _walk(model):
        full = "/".join(path)
        if layer.name == name or full == name:
            matches.setdefault(id(layer), (layer, full))
    if len(matches) > 1:
        paths = sorted(p for _, p in matches.values())
        raise ValueError(f"Layer name {name!r} is ambiguous in model {model.name!r}: it matches "
                         f"{paths}. Pass the full path, e.g. layer_name={paths[0]!r}.")
    return next(iter(matches.values()))[0] if matches else None


def _call(model: Any, x: Any):
    """``model(x, training=False)``; a functional model built on a list of one input gets ``[x]``."""
    struct = getattr(model, "_inputs_struct", None)
    if isinstance(struct, (list, tuple)) and len(struct) == 1:
        return model([x], training=False)
    return model(x, training=False)


def _ensure_built(model: Any, x: Any) -> None:
    """Call a never-called model once so that its layers exist (never relies on model.inputs)."""
    if not getattr(model, "built", True):
        _call(model, x[:1])


# --------------------------------------------------------------------------------------------
# Hooks: record what a layer returns during one ordinary forward pass
# --------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _hooks(pairs: Sequence[tuple[Any, Callable[[Callable], Callable]]]) -> Iterator[None]:
    """Temporarily replace ``layer.call`` by ``make(original_call)`` for each ``(layer, make)``.

    Keras dispatches ``layer(x)`` to ``self.call``, so an instance attribute wraps it; the
    original is restored on exit, also after an exception.
    """
    installed: list[tuple[Any, Any]] = []
    try:
        for layer, make in pairs:
            previous = layer.__dict__.get("call", _MISSING)
            object.__setattr__(layer, "call", make(layer.call))
            installed.append((layer, previous))
        yield
    finally:
        for layer, previous in reversed(installed):
            if previous is _MISSING:
                object.__delattr__(layer, "call")
            else:
                object.__setattr__(layer, "call", previous)


def _recorder(layer: Any, record: list) -> Callable[[Callable], Callable]:
    def make(inner: Callable) -> Callable:
        def call(*args, **kwargs):
            out = inner(*args, **kwargs)
            record.append((layer, out))
            return out
        return call
    return make


def _output_layer(model: Any) -> Any | None:
    """The leaf layer that produces the model's (single) output, or None if unknown."""
    import keras
    layer = model
    for _ in range(64):
        if not isinstance(layer, keras.Model):
            return layer
        candidate = None
        if not isinstance(layer, keras.Sequential):
            try:
                outputs = layer.outputs
                if len(outputs) == 1:
                    candidate = outputs[0]._keras_history[0]
            except (AttributeError, ValueError, TypeError, IndexError):
                candidate = None
        if candidate is None:
            layers = [sub for sub in getattr(layer, "layers", [])
                      if not isinstance(sub, keras.layers.InputLayer)]
            candidate = layers[-1] if layers else None
        if candidate is None or candidate is layer:
            return None
        layer = candidate
    return None


def _activation_name(layer: Any) -> str | None:
    import keras
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    if not hasattr(layer, "activation"):
        return None
    act = layer.activation
    if act is None:
        return "linear"
    return getattr(act, "__name__", None)


def _logit_hook(layer: Any, store: dict) -> Callable[[Callable], Callable]:
    """A hook on the output layer that records its pre-activation values (the logits)."""
    import keras
    kind = _activation_name(layer)
    store["kind"] = kind

    def make(inner: Callable) -> Callable:
        def call(*args, **kwargs):
            if isinstance(layer, keras.layers.Softmax):
                store["logits"] = args[0] if args else kwargs.get("inputs")
                out = inner(*args, **kwargs)
            elif kind in ("softmax", "sigmoid"):
                activation = layer.activation
                object.__setattr__(layer, "activation", keras.activations.linear)
                try:
                    z = inner(*args, **kwargs)
                finally:
                    object.__setattr__(layer, "activation", activation)
                store["logits"] = z
                out = activation(z)
            else:
                out = inner(*args, **kwargs)
                if kind == "linear":
                    store["logits"] = out
            store["output"] = out
            return out
        return call
    return make


def _forward(model: Any, x: Any, target: Any | None = None):
    """One eager forward pass: ``(predictions, logits or None, kind, feature map or None)``."""
    import tensorflow as tf
    record: list = []
    store: dict = {}
    pairs = []
    if target is not None:
        pairs.append((target, _recorder(target, record)))
    out_layer = _output_layer(model)
    if out_layer is not None:
        pairs.append((out_layer, _logit_hook(out_layer, store)))
    with _hooks(pairs):
        preds = _call(model, x)
    if isinstance(preds, (list, tuple, dict)):
        raise ValueError(f"Model {model.name!r} has several outputs; these tools need a "
                         "classifier with one output of shape (batch, classes).")
    if len(preds.shape) != 2:
        raise ValueError(f"Model {model.name!r} returns shape {tuple(preds.shape)}; these tools "
                         "need a classifier output of shape (batch, classes).")
    logits, kind = store.get("logits"), store.get("kind")
    out = store.get("output")
    # Keep the logits only if the hooked layer really produced the model's output.
    if logits is None or out is None or tuple(out.shape) != tuple(preds.shape):
        logits, kind = None, None
    elif out is not preds and float(tf.reduce_max(tf.abs(tf.cast(out, preds.dtype) - preds))) > 1e-5:
        logits, kind = None, None
    feature = None
    if target is not None:
        if not record:
            raise RuntimeError(f"Layer {target.name!r} was not called during the forward pass of "
                               f"model {model.name!r}, so it has no feature map to explain.")
        feature = record[-1][1]
    return preds, logits, kind, feature


def _conv_layers(model: Any, x1: Any) -> list[tuple[Any, str]]:
    """The leaf layers with a 4-D output, in the order they run, found by one traced call."""
    import keras
    layers = [layer for layer, _ in _walk(model)]
    record: list = []
    with _hooks([(layer, _recorder(layer, record)) for layer in layers]):
        _call(model, x1)
    paths = _paths(model)
    seen: dict[int, Any] = {}
    for layer, out in record:
        if isinstance(layer, keras.Model) or id(layer) in seen:
            continue
        shape = getattr(out, "shape", None)
        if shape is not None and len(shape) == 4:
            seen[id(layer)] = layer
    return [(layer, paths.get(id(layer), layer.name)) for layer in seen.values()]


def _no_conv_error(model: Any) -> ValueError:
    return ValueError(f"Model {model.name!r} has no layer with a 4-D output (batch, height, width, "
                      "channels), so there is no convolutional feature map to explain.")


def _select_conv_layer(model: Any, x1: Any, layer_name: str | None) -> tuple[Any, str]:
    if layer_name is not None:
        layer = _find_layer(model, layer_name)
        if layer is not None:
            return layer, _paths(model).get(id(layer), layer.name)
    convs = _conv_layers(model, x1)
    if layer_name is None:
        if not convs:
            raise _no_conv_error(model)
        return convs[-1]
    if not convs:
        raise ValueError(f"No layer named {layer_name!r} in model {model.name!r}; "
                         "and the model has no layer with a 4-D output at all.")
    raise ValueError(f"No layer named {layer_name!r} in model {model.name!r}. Layers with a 4-D "
                     f"output (conv feature maps), nested ones as base/layer: "
                     f"{', '.join(p for _, p in convs)}")


def conv_layer_names(model: Any, images: Any | None = None) -> list[str]:
    """Names (``base/layer`` inside nested models) of the layers with a 4-D output, in run order.

    ``images`` (a batch or one image) is needed only for a model that was never called.

    >>> import keras
    >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c"),
    ...                       keras.layers.Flatten(), keras.layers.Dense(2)])
    >>> conv_layer_names(m)
    ['c']
    """
    if images is None:
        shape = _input_shape(model)
        if shape is None or any(d is None for d in shape):
            raise ValueError(f"Model {model.name!r} has no fixed input shape; pass images=... .")
        x1 = np.zeros((1,) + tuple(shape), np.float32)
    else:
        x1 = _as_batch(images)[:1]
    _ensure_built(model, x1)
    return [p for _, p in _conv_layers(model, x1)]


# --------------------------------------------------------------------------------------------
# Class scores
# --------------------------------------------------------------------------------------------

def _as_batch(images: Any) -> np.ndarray:
    x = np.asarray(images.numpy() if hasattr(images, "numpy") else images, dtype=np.float32)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"Expected images of shape (N, H, W, C) or one (H, W, C) image, got {x.shape}.")
    return x


def _predicted(preds: Any, logits: Any | None, kind: str | None) -> np.ndarray:
    p = np.asarray(preds)
    if p.shape[-1] == 1:
        if logits is not None:
            return (np.asarray(logits)[:, 0] > 0).astype(int)
        threshold = 0.5 if (p.min() >= 0 and p.max() <= 1) else 0.0
        return (p[:, 0] > threshold).astype(int)
    return p.argmax(axis=-1).astype(int)


def _classes(class_index: Any, n: int, preds: Any, logits: Any | None, kind: str | None) -> np.ndarray:
    if class_index is None:
        return _predicted(preds, logits, kind)
    c = np.asarray(class_index)
    if c.ndim == 0:
        c = np.full(n, int(c))
    c = c.astype(int).reshape(-1)
    if len(c) != n:
        raise ValueError(f"class_index has {len(c)} entries for {n} images; pass one int, "
                         "one per image, or None for the predicted class.")
    n_classes = max(int(preds.shape[-1]), 2)
    if c.min() < 0 or c.max() >= n_classes:
        raise ValueError(f"class_index must be in [0, {n_classes - 1}], got {sorted(set(c.tolist()))}.")
    return c


def _scores(preds: Any, logits: Any | None, classes: np.ndarray):
    """The score of the chosen class per image (a differentiable tensor of shape (N,))."""
    import tensorflow as tf
    src = logits if logits is not None else preds
    src = tf.cast(src, tf.float32)
    if src.shape[-1] == 1:
        s = src[:, 0]
        if logits is not None:
            complement = -s          # logit of 1 - p
        else:
            complement = 1.0 - s     # probability of the negative class
        return tf.where(tf.constant(classes == 1), s, complement)
    return tf.gather(src, tf.constant(classes, tf.int32), axis=1, batch_dims=1)


# --------------------------------------------------------------------------------------------
# Grad-CAM
# --------------------------------------------------------------------------------------------

def grad_cam(model: Any, images: Any, class_index: int | Sequence[int] | None = None,
             layer_name: str | None = None, batch_size: int = 32) -> np.ndarray:
    """Grad-CAM heatmaps, one per image: where the chosen layer saw evidence for the class.

    The feature maps ``A`` of ``layer_name`` (by default the last layer with a 4-D output,
    also inside a nested base) are weighted by the spatial mean of ``d score / d A`` and
    summed over channels; the map is resized (bilinear) to the image size, passed through a
    ReLU and divided by its maximum, so each map lies in [0, 1] (an all-zero map stays zero).

    ``class_index``: None for the predicted class of each image, an int, or one per image.
    The score is the class logit when the output softmax/sigmoid can be removed cleanly,
    else the output itself. A one-unit sigmoid output has two classes: 1 scores the logit
    (or p), 0 its complement (-logit, or 1 - p). ``images`` are (N, H, W, C) in the model's
    input space (one (H, W, C) image counts as N = 1). Works for models never called.

    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.layers.Conv2D(4, 3, padding="same", name="c"),
    ...                       keras.layers.GlobalAveragePooling2D(),
    ...                       keras.layers.Dense(3, activation="softmax")])
    >>> h = grad_cam(m, np.random.rand(2, 16, 16, 1))
    >>> h.shape, h.dtype, bool(h.min() >= 0 and h.max() <= 1)
    ((2, 16, 16), dtype('float32'), True)
    """
    import tensorflow as tf
    x = _as_batch(images)
    n, height, width = x.shape[:3]
    _ensure_built(model, x)
    target, _ = _select_conv_layer(model, x[:1], layer_name)
    if class_index is not None and np.ndim(class_index) > 0 and len(class_index) != n:
        raise ValueError(f"class_index has {len(class_index)} entries for {n} images.")
    heatmaps = []
    for start in range(0, n, batch_size):
        xb = tf.convert_to_tensor(x[start:start + batch_size])
        ci = class_index if class_index is None or np.ndim(class_index) == 0 else \
            np.asarray(class_index)[start:start + batch_size]
        with tf.GradientTape() as tape:
            tape.watch(xb)   # records the pass even when the base is frozen
            preds, logits, kind, feature = _forward(model, xb, target)
            if len(feature.shape) != 4:
                raise ValueError(f"Layer {target.name!r} has output shape {tuple(feature.shape)}; "
                                 "Grad-CAM needs a 4-D feature map (batch, height, width, channels). "
                                 f"Choose one of: {', '.join(conv_layer_names(model, x[:1]))}")
            classes = _classes(ci, int(xb.shape[0]), preds, logits, kind)
            total = tf.reduce_sum(_scores(preds, logits, classes))
        grads = tape.gradient(total, feature)
        if grads is None:
            raise ValueError(f"The output of model {model.name!r} does not depend on layer "
                             f"{target.name!r}; choose a layer on the path to the output.")
        feature = tf.cast(feature, tf.float32)
        weights = tf.reduce_mean(tf.cast(grads, tf.float32), axis=(1, 2))           # (N, K)
        cam = tf.reduce_sum(feature * weights[:, None, None, :], axis=-1)             # (N, h, w)
        cam = tf.image.resize(cam[..., None], (height, width), method="bilinear")[..., 0]
        cam = tf.nn.relu(cam)
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
    x = _as_batch(image)
    if x.shape[0] != 1:
        raise ValueError(f"occlusion_map explains one image; got a batch of {x.shape[0]}.")
    img = x[0]
    height, width = img.shape[:2]
    (ph, pw), (sy, sx) = _pair(patch), _pair(stride)
    if min(ph, pw, sy, sx) < 1:
        raise ValueError("patch and stride must be positive.")
    ph, pw = min(ph, height), min(pw, width)
    value = float(img.mean()) if fill is None else float(fill)
    _ensure_built(model, x)
    preds, logits, kind, _ = _forward(model, x)
    classes = _classes(class_index, 1, preds, logits, kind)
    base = float(_scores(preds, logits, classes).numpy()[0])
    boxes = [(y, xx) for y in _starts(height, ph, sy) for xx in _starts(width, pw, sx)]
    total = np.zeros((height, width), np.float64)
    count = np.zeros((height, width), np.float64)
    for start in range(0, len(boxes), batch_size):
        chunk = boxes[start:start + batch_size]
        batch = np.repeat(img[None], len(chunk), axis=0)
        for i, (y, xx) in enumerate(chunk):
            batch[i, y:y + ph, xx:xx + pw] = value
        p, z, k, _ = _forward(model, batch)
        scores = _scores(p, z, np.repeat(classes, len(chunk))).numpy()
        for (y, xx), s in zip(chunk, scores):
            total[y:y + ph, xx:xx + pw] += base - float(s)
            count[y:y + ph, xx:xx + pw] += 1
    drop = np.maximum(total / np.maximum(count, 1), 0.0)
    peak = drop.max()
    return (drop / peak if peak > 0 else drop).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Intermediate activations
# --------------------------------------------------------------------------------------------

def _input_shape(model: Any) -> tuple | None:
    """The model's input shape without the batch axis, or None when it is not known yet."""
    if not getattr(model, "built", True):
        return None
    try:
        inputs = model.inputs
        if inputs:
            return tuple(inputs[0].shape[1:])
    except (AttributeError, ValueError, TypeError):
        pass
    return None


def _contains(model: Any, wanted: dict[int, Any]) -> bool:
    return any(id(layer) in wanted for layer, _ in _walk(model))


def _fits(model: Any, x: Any) -> bool:
    """Whether symbolic ``x`` matches the input shape ``model`` was built for (None matches all).

    A nested model built for another size (an augmentation ``Sequential`` with its own ``Input``
    inside a model rebuilt at a new size) must be applied layer by layer: calling it whole would
    fail its input check.
    """
    shape = _input_shape(model)
    if shape is None:
        return True
    got = tuple(x.shape[1:])
    return len(shape) == len(got) and all(a is None or b is None or a == b for a, b in zip(shape, got))


def _inline(layer: Any, x: Any, wanted: dict[int, Any], got: dict[int, Any], need_output: bool):
    """Apply ``layer`` to the symbolic tensor ``x`` in a new graph, descending into nested models
    that contain wanted layers, and record the wanted layers' outputs in ``got``."""
    import keras
    if id(layer) in wanted:
        y = layer(x)
        got[id(layer)] = y
        return y
    if not (isinstance(layer, keras.Model) and (_contains(layer, wanted) or not _fits(layer, x))):
        return layer(x)
    if isinstance(layer, keras.Sequential):
        subs = layer.layers
        for i, sub in enumerate(subs):
            if not need_output and len(got) == len(wanted):
                return None
            later = any(id(l) in wanted and id(l) not in got
                        for s in subs[i + 1:] for l in [s] + [t for t, _ in _walk(s)])
            x = _inline(sub, x, wanted, got, need_output or later)
        return x
    if not hasattr(layer, "_run_through_graph"):
        raise ValueError(f"Cannot look inside model {layer.name!r}: it is a subclassed model. "
                         "Name a layer of a Sequential or functional model instead.")

    def operation_fn(op: Any) -> Callable:
        if id(op) in wanted:
            def record(*args, **kwargs):
                got[id(op)] = op(*args, **kwargs)
                return got[id(op)]
            return record
        if not need_output and len(got) == len(wanted):
            return lambda *args, **kwargs: None   # everything needed is recorded: skip the rest
        if isinstance(op, keras.Model):   # _inline calls it whole when it fits and has no wanted layer
            return lambda *args, **kwargs: _inline(op, args[0], wanted, got, True)
        return op

    y = layer._run_through_graph(x, operation_fn=operation_fn)
    if isinstance(y, (list, tuple)) and len(y) == 1:
        y = y[0]
    return y


def activation_model(model: Any, layer_names: str | Sequence[str],
                     input_shape: Sequence[int | None] | None = None):
    """A functional model from a new input to the outputs of the named layers.

    Names may point inside nested bases (``"conv2d"`` or ``"base/conv2d"``). A single name
    gives a one-output model, a list gives a list of outputs. ``input_shape`` (without the
    batch axis) is needed for a model that was never called, and may change the spatial size
    of a fully convolutional path. Run it with ``predict`` or ``training=False``: called
    directly with the default ``training=None``, random augmentation layers copied from the
    model (``RandomFlip``, ``RandomRotation``, ...) treat the call as training and transform
    the input.

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
    wanted: dict[int, Any] = {}
    order = []
    for name in names:
        layer = _find_layer(model, name)
        if layer is None:
            known = ", ".join(_paths(model).values())
            raise ValueError(f"No layer named {name!r} in model {model.name!r}. Layers "
                             f"(nested ones as base/layer): {known}")
        wanted[id(layer)] = layer
        order.append(id(layer))
    inp = keras.Input(shape=shape)
    got: dict[int, Any] = {}
    _inline(model, inp, wanted, got, need_output=False)
    missing = [wanted[i].name for i in order if i not in got]
    if missing:
        raise ValueError(f"Layers {missing} are not on the path from the input of model "
                         f"{model.name!r}.")
    outputs = [got[i] for i in order]
    return keras.Model(inp, outputs[0] if single else outputs, name=f"{model.name}_activations")


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
    if _find_layer(model, layer_name) is None:
        x1 = np.zeros((1, height, width, channels), np.float32)
        _select_conv_layer(model, x1, layer_name)   # raises, listing the 4-D layers
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
