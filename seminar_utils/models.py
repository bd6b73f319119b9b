"""Model inspection shared by the notebooks: a deterministic layer table and parameter counts.

``model.summary()`` pads to the terminal width and names layers by a session counter, so its
text changes between runs; :func:`layer_table` prints the same facts in a stable form that
nbval can check.
"""

from __future__ import annotations

from typing import Any

from .table import Table

__all__ = ["count_params", "layer_table", "small_convnet"]


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


def layer_table(model: Any) -> Table:
    """Layer name, type, output shape and parameters of a model, with the totals as a note.

    A stable stand-in for ``model.summary()``, whose width follows the terminal and whose
    automatic layer names change between runs: nbval can compare this text.

    >>> import keras
    >>> m = keras.Sequential([keras.Input((28, 28, 1)),
    ...                       keras.layers.Conv2D(32, 3, name="conv1")], name="demo")
    >>> print(layer_table(m))
    layer  type    output shape        params
    -----  ------  ------------------  ------
    conv1  Conv2D  (None, 26, 26, 32)     320
    total params: 320 (trainable 320, non-trainable 0)
    """
    c = count_params(model)
    rows = [{"layer": layer.name, "type": type(layer).__name__, "shape": _shape(layer),
             "params": layer.count_params()} for layer in model.layers]
    return Table(rows, [("layer", "layer"), ("type", "type"), ("shape", "output shape"),
                        ("params", "params")],
                 note=f"total params: {c['total']:,} (trainable {c['trainable']:,}, "
                      f"non-trainable {c['non_trainable']:,})")


def small_convnet(input_shape: tuple[int, int, int] = (150, 150, 3), dropout: float | None = None,
                  augmentation: Any = None, name: str = "small_convnet"):
    """The source's cats-vs-dogs convnet: Conv 32-64-128-128 (3x3, ReLU) each followed by 2x2
    max pooling, Flatten, [Dropout], Dense 512 ReLU, Dense 1 sigmoid; inputs are 0-255 pixels.

    3,453,121 parameters at 150x150x3. Notebook 02 trains it; notebook 06 regenerates it when
    notebook 02's saved model is missing.

    >>> small_convnet().count_params()
    3453121
    """
    import keras
    from keras import layers
    stack = [keras.Input(input_shape, name="image")]
    if augmentation is not None:
        stack.append(augmentation)
    stack.append(layers.Rescaling(1 / 255, name="rescale"))
    for i, filters in enumerate([32, 64, 128, 128], start=1):
        stack += [layers.Conv2D(filters, 3, activation="relu", name=f"conv{i}"),
                  layers.MaxPooling2D(2, name=f"pool{i}")]
    stack.append(layers.Flatten(name="flatten"))
    if dropout:
        stack.append(layers.Dropout(dropout, name="dropout"))
    stack += [layers.Dense(512, activation="relu", name="dense"),
              layers.Dense(1, activation="sigmoid", name="output")]
    return keras.Sequential(stack, name=name)
