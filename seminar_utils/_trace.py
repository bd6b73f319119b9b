"""Reaching the tensors inside a model with public Keras API: the common ground of ``explain``.

``layer.output`` names a layer's *first* call, which may belong to another model that shares the
layer, and a nested base hides its layers from the outer graph. So the model is re-traced on a
new ``keras.Input`` through its own layers (same weights): a ``Sequential`` layer by layer, a
functional model with ``keras.models.clone_model(clone_function=<the same layer>,
call_function=...)``, nested models traced into. Every call is recorded; from the recording,
``keras.Model(trace.input, [feature map, class scores])`` is the keras.io Grad-CAM model, and a
fixed-size nested block (an augmentation ``Sequential`` with its own ``Input``) works at any size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

__all__ = ["Call", "Trace", "trace", "find_layer", "layer_paths", "input_shape", "as_batch",
           "ensure_built", "conv_layers", "class_scores", "missing_layer",
           "not_reached", "conv_layer_names"]

_SUPPORTED = ("a Sequential or functional Keras model with one image input, whose layers may include "
              "nested Sequential or functional models (a base such as a keras.applications model)")


def _unsupported(model: Any, why: str) -> ValueError:
    """The error for a model shape these tools cannot look inside, naming what they support."""
    return ValueError(f"Cannot explain model {model.name!r}: {why}. Supported: {_SUPPORTED}; "
                      "Grad-CAM and occlusion also need one output of shape (batch, classes).")


def missing_layer(model: Any, name: str, conv_paths: Sequence[str]) -> ValueError:
    """The error for a layer name not in ``model``, listing the layers with a 4-D output."""
    return ValueError(f"No layer named {name!r} in model {model.name!r}. Layers with a 4-D output "
                      f"(conv feature maps), nested ones as base/layer: {', '.join(conv_paths) or 'none'}")


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


def layer_paths(model: Any) -> dict[int, str]:
    """``id(layer) -> "base/layer"`` for every layer of ``model``, nested ones included.

    >>> import keras
    >>> base = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(1, 3, name="c")],
    ...                         name="base")
    >>> list(layer_paths(keras.Sequential([base, keras.layers.Flatten(name="f")])).values())
    ['base', 'base/c', 'f']
    """
    out: dict[int, str] = {}
    for layer, path in _walk(model):
        out.setdefault(id(layer), "/".join(path))
    return out


def find_layer(model: Any, name: str) -> Any | None:
    """The layer called ``name`` (or at path ``"outer/inner"``) anywhere in ``model``, or None.

    >>> import keras
    >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="d")])
    >>> find_layer(m, "d").name, find_layer(m, "nope")
    ('d', None)
    """
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


def input_shape(model: Any) -> tuple | None:
    """The model's input shape without the batch axis, or None while it is unknown (never built).

    >>> import keras
    >>> input_shape(keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten()]))
    (8, 8, 3)
    """
    if not getattr(model, "built", False):
        return None
    inputs = getattr(model, "inputs", None)   # only Sequential and functional models have inputs
    return tuple(inputs[0].shape[1:]) if inputs else None


def as_batch(images: Any) -> np.ndarray:
    """Images as a float32 batch (N, H, W, C); one (H, W, C) image becomes a batch of one.

    >>> as_batch(np.zeros((4, 4, 3), np.uint8)).shape
    (1, 4, 4, 3)
    """
    x = np.asarray(images.numpy() if hasattr(images, "numpy") else images, dtype=np.float32)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"Expected images of shape (N, H, W, C) or one (H, W, C) image, got {x.shape}.")
    return x


def ensure_built(model: Any, x: np.ndarray) -> None:
    """Call a model that was never called once on ``x[:1]``, so that its layers and weights exist.

    >>> import keras
    >>> m = keras.Sequential([keras.layers.Dense(2)])
    >>> ensure_built(m, np.zeros((3, 4))); m.built
    True
    """
    if not getattr(model, "built", True):
        model(x[:1], training=False)


# --------------------------------------------------------------------------------------------
# Tracing
# --------------------------------------------------------------------------------------------

@dataclass
class Call:
    """One layer call of a trace; ``leaf`` is False for a nested model that was traced into."""
    layer: Any
    args: tuple
    output: Any
    leaf: bool = True


@dataclass
class Trace:
    """A model re-traced on ``input``: its ``output`` (None when stopped early) and every call."""
    input: Any
    output: Any = None
    calls: list[Call] = field(default_factory=list)

    def output_of(self, layer: Any) -> Any | None:
        """What ``layer`` returned (its last call), or None if it was not called."""
        return next((c.output for c in reversed(self.calls) if c.layer is layer), None)


class _Done(Exception):
    """Raised inside a trace once every wanted layer is recorded and the rest is not needed."""


def _graph_input(layer: Any) -> Any | None:
    """A functional model's ``input`` structure; None for leaves, Sequential and subclassed models."""
    import keras
    if not isinstance(layer, keras.Model) or isinstance(layer, keras.Sequential):
        return None
    return getattr(layer, "input", None) if getattr(layer, "inputs", None) else None


def _subclassed(layer: Any) -> bool:
    import keras
    return (isinstance(layer, keras.Model) and not isinstance(layer, keras.Sequential)
            and _graph_input(layer) is None)


def _subclassed_error(model: Any, which: str = "") -> ValueError:
    return _unsupported(model, f"it is a subclassed model ({type(model).__name__}), whose layers"
                               f"{which} public Keras API cannot reach")


def not_reached(model: Any, layer: Any) -> ValueError:
    """The error for a layer that a trace of ``model`` did not call: why it could not be reached."""
    for outer, _ in _walk(model):
        if _subclassed(outer) and any(sub is layer for sub, _ in _walk(outer)):
            return _subclassed_error(outer, f" (here {layer.name!r})")
    return ValueError(f"Layer {layer.name!r} is not on the path from the input to the output of "
                      f"model {model.name!r}.")


def _apply(layer: Any, args: tuple, kwargs: dict, tr: Trace, stop: dict[int, Any]) -> Any:
    """Apply ``layer`` to symbolic ``args`` as the model would, recording every call in ``tr``."""
    import keras
    structure = _graph_input(layer)
    traced_into = structure is not None or isinstance(layer, keras.Sequential)
    if traced_into:   # a nested model: one image input, given as x or [x]
        x = args[0][0] if isinstance(args[0], (list, tuple)) and len(args[0]) == 1 else args[0]
    if isinstance(layer, keras.Sequential):
        out = x
        for sub in layer.layers:
            out = _apply(sub, (out,), {}, tr, stop)
    elif traced_into:
        if isinstance(structure, dict) or (isinstance(structure, (list, tuple)) and len(structure) != 1):
            raise _unsupported(layer, "it has several inputs")
        if len(layer.outputs) != 1:
            raise _unsupported(layer, "it has several outputs")
        n = len(tr.calls)
        keras.models.clone_model(layer, input_tensors=[x] if isinstance(structure, (list, tuple)) else x,
                                 clone_function=lambda same: same,   # the same layers, same weights
                                 call_function=lambda op, *a, **k: _apply(op, a, k, tr, stop))
        # The graph runs node by node in topological order, so the output's node runs last.
        out = tr.calls[-1].output if len(tr.calls) > n else x
    else:
        out = layer(*args, **kwargs)   # a leaf, or a subclassed model called whole
    tr.calls.append(Call(layer, args, out, leaf=not traced_into))
    if stop and id(layer) in stop and all(tr.output_of(w) is not None for w in stop.values()):
        raise _Done
    return out


def trace(model: Any, shape: Sequence[int | None], stop_after: Sequence[Any] = ()) -> Trace:
    """Re-trace ``model`` on a new ``keras.Input(shape)``, recording every layer call.

    With ``stop_after`` (layers), tracing stops once each of them has been called: the layers
    after them are not needed and may not fit another input size (``Flatten`` -> ``Dense``).

    >>> import keras
    >>> m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c"),
    ...                       keras.layers.Flatten(), keras.layers.Dense(3)])
    >>> tr = trace(m, (12, 12, 1), stop_after=[m.get_layer("c")])
    >>> tr.output_of(m.get_layer("c")).shape, tr.output
    ((None, 10, 10, 2), None)
    """
    import keras
    if not isinstance(model, keras.Model):
        raise TypeError(f"Expected a Keras model, got {type(model).__name__}.")
    if _subclassed(model):
        raise _subclassed_error(model)
    tr = Trace(keras.Input(shape=tuple(shape)))
    try:
        tr.output = _apply(model, (tr.input,), {}, tr, {id(layer): layer for layer in stop_after})
    except _Done:
        pass
    return tr


def conv_layers(model: Any, tr: Trace) -> list[tuple[Any, str]]:
    """``(layer, path)`` of the leaf layers with a 4-D output in ``tr``, in the order they ran."""
    import keras
    paths = layer_paths(model)
    seen: dict[int, Any] = {}
    for call in tr.calls:
        shape = getattr(call.output, "shape", None)
        if (call.leaf and id(call.layer) in paths and not isinstance(call.layer, keras.Model)
                and shape is not None and len(shape) == 4):
            seen.setdefault(id(call.layer), call.layer)
    return [(layer, paths[key]) for key, layer in seen.items()]


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
        shape = input_shape(model)
        if shape is None or None in shape:
            raise ValueError(f"Model {model.name!r} has no fixed input shape; pass images=... .")
    else:
        x = as_batch(images)
        ensure_built(model, x)
        shape = x.shape[1:]
    return [path for _, path in conv_layers(model, trace(model, shape))]


# --------------------------------------------------------------------------------------------
# Class scores: logits where the output's softmax/sigmoid can be taken off with public attributes
# --------------------------------------------------------------------------------------------

def class_scores(model: Any, tr: Trace) -> tuple[Any, bool]:
    """``(scores, are_logits)``: the tensor in ``tr`` that class scores are read from.

    Where the output layer is a ``Dense`` with softmax or sigmoid, the logits are its input times
    ``kernel`` plus ``bias``; after a ``Softmax`` layer or a softmax/sigmoid ``Activation`` layer,
    they are that layer's input; a linear output is the logits. Otherwise (any other last
    layer) the model's output itself is used, for example a probability.

    >>> import keras
    >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    >>> scores, are_logits = class_scores(m, trace(m, (3,)))
    >>> tuple(scores.shape), are_logits
    ((None, 2), True)
    """
    import keras
    out = tr.output
    if isinstance(out, (list, tuple, dict)):
        raise _unsupported(model, "it has several outputs")
    if out is None or len(out.shape) != 2:
        raise _unsupported(model, f"its output has shape {None if out is None else tuple(out.shape)}")
    last = next((c for c in reversed(tr.calls) if c.leaf and c.output is out), None)
    if last is None or len(last.args) != 1:
        return out, False
    layer, x = last.layer, last.args[0]
    act = getattr(layer, "activation", None)
    squash = act is keras.activations.softmax or act is keras.activations.sigmoid
    if isinstance(layer, keras.layers.Softmax) or (isinstance(layer, keras.layers.Activation) and squash):
        return x, True
    if isinstance(layer, keras.layers.Dense) and squash:
        ops = keras.ops
        z = ops.matmul(ops.cast(x, "float32"), ops.cast(layer.kernel, "float32"))
        return (z + ops.cast(layer.bias, "float32") if layer.bias is not None else z), True
    return out, act is keras.activations.linear
