"""Checks of notebook 04's exercises (feature extraction and the architectures lesson).

Each function takes what the exercise asks the learner to define and calls
:func:`seminar_utils.checks.verify`; the notebook's check cell is one call, e.g.
``checks.nb04.exercise_1(flatten_head=ex1_flatten, gap_head=ex1_gap)``.
"""

from __future__ import annotations

from typing import Any, Sequence

from . import Check, at_least, equal, exercise, has_shape, is_true, verify

__all__ = ["FLATTEN_HEAD_PARAMS", "GAP_HEAD_PARAMS", "LINEAR_FLOORS", "exercise_1", "exercise_2",
           "exercise_3", "exercise_4", "exercise_5"]

#: Flatten(4x4x512) -> Dense(256) -> Dense(1): (8,192 + 1) x 256 + (256 + 1).
FLATTEN_HEAD_PARAMS = (4 * 4 * 512 + 1) * 256 + 257
#: GlobalAveragePooling2D -> Dense(256) -> Dense(1): (512 + 1) x 256 + (256 + 1).
GAP_HEAD_PARAMS = (512 + 1) * 256 + 257
#: Best validation accuracy a linear classifier on cached features must reach, per profile
#: (quick: measured 0.73-0.76 on the CIFAR-10 stand-in's features; smoke: random weights).
LINEAR_FLOORS = {"full": 0.85, "gpu": 0.85, "quick": 0.65, "smoke": 0.3}


def _layers_of(model: Any) -> list[Any]:
    return list(getattr(model, "layers", []) or [])


def _kinds(model: Any) -> list[str]:
    return [type(layer).__name__ for layer in _layers_of(model)]


def _is_model(value: Any) -> bool:
    import keras
    return isinstance(value, keras.Model)


def _params(model: Any) -> int | None:
    try:
        return int(model.count_params())
    except Exception:  # an unbuilt model or not a model at all
        return None


def _output(model: Any) -> Any:
    """The model's (first) output tensor; ``model.output`` fails on a Sequential never called."""
    outputs = getattr(model, "outputs", None)
    return outputs[0] if outputs else None


def _activation(layer: Any) -> str:
    act = getattr(layer, "activation", None)
    return getattr(act, "__name__", str(act))


@exercise
def exercise_1(flatten_head: Any, gap_head: Any) -> None:
    """The source's head on VGG16's 4x4x512 output, with Flatten and with global average pooling.

    >>> import keras
    >>> L = keras.layers
    >>> def head(pool):
    ...     return keras.Sequential([keras.Input((4, 4, 512)), pool, L.Dense(256, activation="relu"),
    ...                              L.Dense(1, activation="sigmoid")])
    >>> exercise_1(head(L.Flatten()), head(L.GlobalAveragePooling2D()))
    Exercise 1: 6 of 6 checks passed
    """
    checks: list[Check] = []
    for label, model, pool, params in (("Flatten head", flatten_head, "Flatten", FLATTEN_HEAD_PARAMS),
                                       ("GAP head", gap_head, "GlobalAveragePooling2D",
                                        GAP_HEAD_PARAMS)):
        if not _is_model(model):
            checks.append(is_true(f"{label} is a Keras model", False, f"found {type(model).__name__}",
                                  "build it with keras.Sequential([keras.Input((4, 4, 512)), ...])"))
            continue
        checks.append(is_true(f"{label} starts with {pool}", pool in _kinds(model),
                              f"layers: {', '.join(_kinds(model))}",
                              f"the 4x4x512 maps go through layers.{pool}() first"))
        checks.append(equal(f"{label} parameters", _params(model), params,
                            "Dense(256) on the pooled or flattened vector, then Dense(1); did the "
                            "input have shape (4, 4, 512), and did you add a layer too many?"))
        out = _output(model)
        last = _layers_of(model)[-1] if _layers_of(model) else None
        checks.append(is_true(f"{label} ends in one sigmoid unit",
                              out is not None and tuple(out.shape) == (None, 1)
                              and _activation(last) == "sigmoid",
                              f"output {getattr(out, 'shape', None)}, activation {_activation(last)}",
                              "cats vs dogs is binary: Dense(1, activation='sigmoid')"))
    verify("Exercise 1", checks)


@exercise
def exercise_2(block: Any, conv_params: int) -> None:
    """A MobileNet block (3x3 depthwise, then 1x1 pointwise to 512 channels) on 28x28x256 maps.

    ``conv_params`` is the learner's count for the ordinary ``Conv2D(512, 3, use_bias=False)``
    that the block replaces.

    >>> import keras
    >>> L = keras.layers
    >>> inp = keras.Input((28, 28, 256))
    >>> x = L.ReLU()(L.BatchNormalization()(L.DepthwiseConv2D(3, padding="same", use_bias=False)(inp)))
    >>> x = L.ReLU()(L.BatchNormalization()(L.Conv2D(512, 1, use_bias=False)(x)))
    >>> exercise_2(keras.Model(inp, x), 3 * 3 * 256 * 512)
    Exercise 2: 5 of 5 checks passed
    """
    import keras
    if not _is_model(block):
        return verify("Exercise 2", [is_true("the block is a Keras model", False,
                                             f"found {type(block).__name__}",
                                             "keras.Model(inputs, outputs) from keras.Input((28, 28, 256))")])
    # (in Keras 3 DepthwiseConv2D is not a subclass of Conv2D)
    depthwise = [layer for layer in _layers_of(block)
                 if isinstance(layer, keras.layers.DepthwiseConv2D)]
    pointwise = [layer for layer in _layers_of(block) if isinstance(layer, keras.layers.Conv2D)
                 and tuple(layer.kernel_size) == (1, 1)]
    convs = depthwise + [layer for layer in _layers_of(block)
                         if isinstance(layer, keras.layers.Conv2D)]
    weights = sum(_params(layer) or 0 for layer in convs)
    verify("Exercise 2", [
        has_shape("output", _output(block), (None, 28, 28, 512),
                  "padding='same' keeps 28x28; the 1x1 convolution sets 512 channels"),
        is_true("a 3x3 DepthwiseConv2D", any(tuple(d.kernel_size) == (3, 3) for d in depthwise),
                f"layers: {', '.join(_kinds(block))}",
                "layers.DepthwiseConv2D(3, padding='same'): one 3x3 filter per input channel"),
        is_true("a 1x1 Conv2D with 512 filters", any(p.filters == 512 for p in pointwise),
                f"layers: {', '.join(_kinds(block))}",
                "the pointwise step is layers.Conv2D(512, 1): it mixes the channels"),
        equal("convolution weights (depthwise + pointwise, no biases)", weights,
              3 * 3 * 256 + 256 * 512,
              "3*3*256 for the depthwise filters plus 256*512 for the 1x1 convolution; "
              "use_bias=False (BatchNormalization follows)"),
        equal("your count for Conv2D(512, 3) without bias", conv_params, 3 * 3 * 256 * 512,
              "kernel height x width x input channels x filters"),
    ])


@exercise
def exercise_3(model: Any, history: Any, profile: str | None = None) -> None:
    """A linear classifier (one sigmoid unit) trained on the cached features of section 5.

    The accuracy floor depends on the profile (:data:`LINEAR_FLOORS`; loose on generated data).

    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1, activation="sigmoid")])
    >>> class H: history = {"val_accuracy": [0.5, 0.9]}
    >>> exercise_3(m, H(), profile="smoke")
    Exercise 3: 4 of 4 checks passed
    """
    import keras
    from ..profiles import resolve_profile
    from ..results import standin_assets
    profile = resolve_profile(profile)
    floor = 0.3 if "cats_and_dogs_filtered" in standin_assets() else LINEAR_FLOORS[profile]
    if not _is_model(model):
        return verify("Exercise 3", [is_true("the classifier is a Keras model", False,
                                             f"found {type(model).__name__}")])
    dense = [layer for layer in _layers_of(model) if isinstance(layer, keras.layers.Dense)]
    n_in = model.inputs[0].shape[-1] if getattr(model, "inputs", None) else None
    curve = list(getattr(history, "history", {}).get("val_accuracy", []))
    verify("Exercise 3", [
        is_true("exactly one Dense layer, with one sigmoid unit",
                len(dense) == 1 and dense[0].units == 1 and _activation(dense[0]) == "sigmoid",
                f"Dense layers: {[(d.units, _activation(d)) for d in dense]}",
                "a linear classifier has no hidden layer: Dense(1, activation='sigmoid') only"),
        equal("parameters (one weight per feature + a bias)", _params(model),
              None if n_in is None else int(n_in) + 1,
              "the input is the feature vector of section 5, keras.Input((f_train.shape[1],))"),
        is_true("fit() ran with validation data", bool(curve), "no 'val_accuracy' in the history",
                "pass validation_data=(f_val, y_val) to fit and keep what fit returns"),
        at_least(f"best validation accuracy ({profile})", max(curve) if curve else float("nan"),
                 floor, "too few epochs, a learning rate far from 1e-3, or labels mixed up "
                        "(y_train goes with f_train)"),
    ])


@exercise
def exercise_4(features: Any, original: Any, layer: str = "block4_pool") -> None:
    """Cut a pretrained VGG16 at ``layer`` the right way: a new Model, the original unchanged.

    >>> import keras
    >>> vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(64, 64, 3))
    >>> cut = keras.Model(vgg.input, vgg.get_layer("block4_pool").output)
    >>> exercise_4(cut, vgg)
    Exercise 4: 4 of 4 checks passed
    """
    if not (_is_model(features) and _is_model(original)):
        return verify("Exercise 4", [is_true("two Keras models", False,
                                             f"found {type(features).__name__}, "
                                             f"{type(original).__name__}")])
    size = original.inputs[0].shape[1]
    depth = len(_layers_of(original))
    verify("Exercise 4", [
        is_true(f"the new model ends at {layer}", _layers_of(features)[-1].name == layer,
                f"its last layer is {_layers_of(features)[-1].name}",
                f"keras.Model(vgg.input, vgg.get_layer({layer!r}).output)"),
        has_shape("its output", _output(features), (None, size // 16, size // 16, 512),
                  "four 2x2 poolings divide the size by 16; 512 channels in block 4"),
        is_true("the new model shares the pretrained layers (no copy, no new weights)",
                features.get_layer(layer) is original.get_layer(layer),
                "a different layer object", "build the new model from the original's tensors"),
        is_true("the original model is unchanged", _output(original).shape[1] == size // 32
                and depth == 19, f"{depth} layers, output {_output(original).shape}",
                "layers.pop() and del on model.layers change nothing; if you rebuilt the "
                "original, build it again with include_top=False"),
    ])


@exercise
def exercise_5(batch: Any, names: Sequence[str]) -> None:
    """Three CIFAR-10 cats resized to 224x224, preprocessed for ResNet50, and their top-1 names.

    >>> import numpy as np
    >>> exercise_5(np.full((3, 224, 224, 3), -100.0, "float32"), ["tabby", "Egyptian_cat", "fox"])
    Exercise 5: 3 of 3 checks passed
    """
    import numpy as np
    arr = np.asarray(batch) if batch is not None else np.zeros(0)
    verify("Exercise 5", [
        has_shape("the batch", arr, (3, 224, 224, 3),
                  "three images, resized to ResNet50's native 224x224 with keras.ops.image.resize"),
        is_true("the batch was preprocessed (caffe style: channel means subtracted)",
                arr.size > 0 and float(arr.min()) < -50.0 and float(arr.max()) <= 160.0,
                f"values in [{float(arr.min()) if arr.size else 0:.0f}, "
                f"{float(arr.max()) if arr.size else 0:.0f}]",
                "keras.applications.resnet50.preprocess_input on the resized 0-255 images"),
        is_true("one name per image", len(list(names)) == 3
                and all(isinstance(n, str) and n for n in names), f"found {names!r}",
                "decode_predictions(probs, top=1) gives [(id, name, p)] per image: keep the name"),
    ])
