"""Checks of notebook 01's exercises (CNN basics on MNIST); each check cell calls one function.

Trained metrics are compared with floors from ``seminar_utils.profiles`` (the notebook's
``exercise_floors`` setting for the active profile), so that a grading run in ``smoke`` asks
only for a model that learns at all.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from . import Check, at_least, at_most, equal, exercise, is_true, verify

__all__ = ["EX1_EXPECTED", "exercise_1", "exercise_2", "exercise_3", "exercise_4"]

#: Exercise 1's answer: layer name -> (output shape without the batch axis, parameters).
EX1_EXPECTED: dict[str, tuple[tuple[int, int, int], int]] = {
    "conv_a": ((16, 16, 16), 1216), "pool": ((8, 8, 16), 0), "conv_b": ((6, 6, 8), 1160)}

_EX1_HINTS = {
    "conv_a": "padding='same' keeps ceil(32 / stride) = 16 positions; parameters are "
              "(5*5*3 + 1) * 16: every filter sees all 3 input channels, plus one bias",
    "pool": "MaxPooling2D(2) halves each side and has no weights",
    "conv_b": "a 3x3 'valid' convolution loses 2 pixels per side: 8 - 3 + 1 = 6; parameters "
              "(3*3*16 + 1) * 8: the input now has 16 channels",
}


def _floor(name: str, profile: str | None) -> float:
    from ..profiles import get_settings, resolve_profile
    cfg = get_settings("01_cnn_basics", resolve_profile(profile))
    return float(cfg.exercise_floors[name])


def _layers_of(model: Any, kind: str) -> list[Any]:
    return [layer for layer in getattr(model, "layers", []) if type(layer).__name__ == kind]


def _shape(layer: Any) -> tuple[int, ...] | None:
    try:
        return tuple(layer.output.shape[1:])
    except (AttributeError, ValueError):
        return None


def _last(history: Any, key: str) -> float:
    values = getattr(history, "history", {}).get(key) or [float("nan")]
    return float(values[-1])


def _is_model(model: Any) -> Check:
    return is_true("a Keras model was built", hasattr(model, "layers") and hasattr(model, "fit"),
                   f"found {type(model).__name__}", "assign the model you built to the variable")


@exercise
def exercise_1(by_hand: Mapping[str, Any], model: Any) -> None:
    """Shapes and parameter counts written by hand, and the same three layers built in Keras.

    ``by_hand`` maps ``conv_a``, ``pool``, ``conv_b`` to ``(output shape, parameters)``;
    ``model`` has layers of those names.

    >>> exercise_1(EX1_EXPECTED, None)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ExerciseFailed: ...
    """
    checks: list[Check] = []
    for name, (shape, params) in EX1_EXPECTED.items():
        mine = dict(by_hand or {}).get(name, (None, None))
        mine_shape, mine_params = (tuple(mine[0]) if mine[0] is not None else None), mine[1]
        checks.append(equal(f"{name} output shape by hand", mine_shape, shape, _EX1_HINTS[name]))
        checks.append(equal(f"{name} parameters by hand", mine_params, params, _EX1_HINTS[name]))
    checks.append(_is_model(model))
    if checks[-1].ok:
        names = [layer.name for layer in model.layers]
        checks.append(equal("layer names", names, list(EX1_EXPECTED),
                            "name the layers conv_a, pool, conv_b (name=... in each layer)"))
        if checks[-1].ok:
            for name, (shape, params) in EX1_EXPECTED.items():
                layer = model.get_layer(name)
                checks.append(equal(f"{name} in Keras: output shape", _shape(layer), shape,
                                    _EX1_HINTS[name]))
                checks.append(equal(f"{name} in Keras: parameters", layer.count_params(), params,
                                    _EX1_HINTS[name]))
    verify("Exercise 1", checks)


def _conv_stack(model: Any) -> list[Check]:
    convs = _layers_of(model, "Conv2D")
    return [equal("Conv2D filters", [c.filters for c in convs], [32, 64, 64],
                  "keep the MNIST CNN's three convolutions (32, 64, 64 filters, 3x3)")]


@exercise
def exercise_2(model: Any, history: Any, profile: str | None = None) -> None:
    """The MNIST CNN with ``GlobalAveragePooling2D`` in place of ``Flatten`` + ``Dense(64)``.

    >>> exercise_2(None, None, profile="smoke")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ExerciseFailed: ...
    """
    checks = [_is_model(model)]
    if checks[0].ok:
        checks += _conv_stack(model)
        checks.append(equal("GlobalAveragePooling2D layers", len(_layers_of(model, "GlobalAveragePooling2D")),
                            1, "put one GlobalAveragePooling2D after the last convolution"))
        checks.append(equal("Flatten layers", len(_layers_of(model, "Flatten")), 0,
                            "GAP replaces Flatten: one average per channel instead of every position"))
        checks.append(equal("parameters", model.count_params(), 56_394,
                            "the convolutions keep 55,744; GAP hands 64 numbers to Dense(10): "
                            "(64 + 1) * 10 = 650. A Dense(64) left in adds 4,160"))
    checks.append(at_least("validation accuracy after training", _last(history, "val_accuracy"),
                           _floor("gap", profile),
                           "train it with the fit call below the solution; a GAP model learns "
                           "a little slower than the Flatten one, but not this much"))
    verify("Exercise 2", checks)


def _initializer(layer: Any) -> str:
    init = layer.get_config().get("kernel_initializer")
    return init.get("class_name", "") if isinstance(init, dict) else str(init)


@exercise
def exercise_3(model: Any, history: Any, profile: str | None = None) -> None:
    """The MNIST CNN with BatchNorm after each convolution, ``he_normal`` and ``Dropout(0.3)``.

    >>> exercise_3(None, None, profile="smoke")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ExerciseFailed: ...
    """
    checks = [_is_model(model)]
    if checks[0].ok:
        layers = list(model.layers)
        checks += _conv_stack(model)
        after_conv = [type(layers[i + 1]).__name__ if i + 1 < len(layers) else None
                      for i, layer in enumerate(layers) if type(layer).__name__ == "Conv2D"]
        checks.append(equal("layer after each Conv2D", after_conv, ["BatchNormalization"] * 3,
                            "add layers.BatchNormalization() right after every Conv2D"))
        inits = [_initializer(c) for c in _layers_of(model, "Conv2D")]
        checks.append(equal("Conv2D kernel initializers", inits, ["HeNormal"] * 3,
                            'pass kernel_initializer="he_normal" to every Conv2D'))
        drops = _layers_of(model, "Dropout")
        checks.append(equal("Dropout rates", [d.rate for d in drops], [0.3],
                            "one layers.Dropout(0.3)"))
        checks.append(is_true("Dropout right before the output layer",
                              len(layers) > 1 and type(layers[-2]).__name__ == "Dropout",
                              f"found {type(layers[-2]).__name__ if len(layers) > 1 else 'none'}",
                              "put the Dropout between Dense(64) and the Dense(10) output"))
        n_bn = sum(int(w.numpy().size) for w in model.non_trainable_weights)
        checks.append(equal("non-trainable parameters", n_bn, 2 * (32 + 64 + 64),
                            "BatchNorm keeps a moving mean and variance per channel: "
                            "2 * (32 + 64 + 64)"))
    checks.append(at_least("validation accuracy after training", _last(history, "val_accuracy"),
                           _floor("regularised", profile),
                           "train it with the fit call below the solution"))
    verify("Exercise 3", checks)


@exercise
def exercise_4(history: Any, learning_rate: float, baseline: float, n_train: int,
               batch_size: int, profile: str | None = None) -> None:
    """A learning rate that makes large batches learn: beat ``baseline`` (same batch, 1e-3).

    ``history`` comes from ``fit`` with ``batch_size`` on ``n_train`` images; ``baseline`` is
    the validation accuracy of the same run at Adam's default learning rate.

    >>> exercise_4(None, 1e-3, 0.5, 6000, 1024, profile="smoke")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ExerciseFailed: ...
    """
    steps = (getattr(history, "params", None) or {}).get("steps")
    expected_steps = math.ceil(n_train / batch_size)
    val = _last(history, "val_accuracy")
    checks = [
        equal("steps per epoch", steps, expected_steps,
              f"fit on the sweep's {n_train:,} images with batch_size={batch_size}: "
              f"ceil({n_train} / {batch_size}) = {expected_steps} steps"),
        is_true("a larger learning rate than Adam's default 1e-3",
                isinstance(learning_rate, (int, float)) and learning_rate > 1e-3,
                f"found {learning_rate!r}",
                "with 8x larger batches there are 8x fewer steps: each step must go further"),
        at_most("learning rate", learning_rate if isinstance(learning_rate, (int, float)) else 1.0,
                0.05, "0.1 killed the network in the sweep above; stay well below it"),
        at_least("gain in validation accuracy over learning rate 1e-3",
                 val - float(baseline), _floor("large_batch_gain", profile),
                 "compare the sweep's curves: between 1e-3 and 1e-1 there is a learning rate "
                 "that learns faster without diverging"),
    ]
    verify("Exercise 4", checks)
