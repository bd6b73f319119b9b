"""Model inspection shared by the notebooks: a deterministic layer table and parameter counts.

``model.summary()`` pads to the terminal width and names layers by a session counter, so its
text changes between runs; :func:`layer_table` prints the same facts in a stable form that
nbval can check.
"""

from __future__ import annotations

from typing import Any


def count_params(model: Any) -> dict[str, int]:
    """Total, trainable and non-trainable parameter counts of a built Keras model.

    >>> import keras
    >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> count_params(m)
    {'total': 8, 'trainable': 8, 'non_trainable': 0}
    """
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    non_trainable = sum(int(w.numpy().size) for w in model.non_trainable_weights)
    return {"total": trainable + non_trainable, "trainable": trainable, "non_trainable": non_trainable}


def _shape(layer: Any) -> str:
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def layer_table(model: Any) -> str:
    """A fixed-width table of layer name, type, output shape and parameters, with totals.

    >>> import keras
    >>> m = keras.Sequential([keras.Input((28, 28, 1)),
    ...                       keras.layers.Conv2D(32, 3, name="conv1")], name="demo")
    >>> print(layer_table(m))  # doctest: +NORMALIZE_WHITESPACE
    layer  type    output shape       params
    conv1  Conv2D  (None, 26, 26, 32)    320
    total params: 320 (trainable 320, non-trainable 0)
    """
    rows = [("layer", "type", "output shape", "params")]
    for layer in model.layers:
        rows.append((layer.name, type(layer).__name__, _shape(layer), f"{layer.count_params():,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]:>{widths[3]}}"
             for r in rows]
    c = count_params(model)
    lines.append(f"total params: {c['total']:,} (trainable {c['trainable']:,}, "
                 f"non-trainable {c['non_trainable']:,})")
    return "\n".join(line.rstrip() for line in lines)
