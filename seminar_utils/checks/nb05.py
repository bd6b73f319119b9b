"""Checks of notebook 05's exercises (fine-tuning): what trains, what stays frozen, what moved.

Each function takes the learner's objects, tests the result (which layers train, the learning
rate, weights that must or must not have changed, a trained accuracy above a profile-aware
floor) and calls :func:`seminar_utils.checks.verify`.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from . import Check, at_least, close, equal, exercise, is_true, verify

__all__ = ["ACCURACY_FLOORS", "exercise_1", "exercise_2", "exercise_3"]

#: Validation accuracy a fine-tuned cats-vs-dogs model reaches at least, per profile (real data
#: and a real base; on stand-in data or random weights only "it ran" is checked: 0.0).
ACCURACY_FLOORS: dict[str, float] = {"full": 0.9, "gpu": 0.85, "quick": 0.65, "smoke": 0.0}


def _floor(real: bool) -> float:
    from ..profiles import resolve_profile
    return ACCURACY_FLOORS.get(resolve_profile(), 0.0) if real else 0.0


def _base(model: Any) -> Any:
    """The backbone inside a transfer model (layer "backbone"), or None."""
    try:
        return model.get_layer("backbone")
    except (ValueError, AttributeError):
        return None


def _base_or_fail(model: Any, title: str) -> Any:
    """The model's base (layer "backbone"), or the exercise fails saying where to start from."""
    base = _base(model)
    if base is None:
        verify(title, [is_true("the model has its base as layer 'backbone'", False,
                               found="no layer named 'backbone'",
                               hint="start from keras.models.load_model(phase1_path)")])
    return base


def _is_bn(layer: Any) -> bool:
    import keras
    return isinstance(layer, keras.layers.BatchNormalization)


def _is_conv(layer: Any) -> bool:
    import keras
    return isinstance(layer, keras.layers.Conv2D)


def _training(model: Any, base: Any) -> list[str]:
    """Names of the layers of ``base`` whose weights ``model`` trains.

    Keras 3 decides by each weight's own flag (what ``layer.trainable`` sets), even inside a base
    whose ``trainable`` reads False, so the model's trainable weights are what counts.
    """
    ids = {id(v) for v in model.trainable_weights}
    return [layer.name for layer in base.layers if any(id(w) in ids for w in layer.weights)]


def _start(base: Any, layer_name: str) -> int:
    return [layer.name for layer in base.layers].index(layer_name)


def _short(names: Sequence[str], n: int = 4) -> str:
    names = list(names)
    return ", ".join(names) if len(names) <= n else f"{', '.join(names[:n])} ... ({len(names)})"


def _compare_training(found: list[str], expected: list[str], base: Any, bn_rule: str) -> Check:
    extra = [n for n in found if n not in expected]
    missing = [n for n in expected if n not in found]
    if not found:
        hint = ("nothing in the base trains: does the loop's flag turn on (is the layer name "
                "right)? Set layer.trainable = True on the top block's layers")
    elif extra and all(_is_bn(base.get_layer(n)) for n in extra):
        hint = bn_rule
    elif extra:
        hint = ("layers below the top block train too: they should stay frozen (the lower "
                "layers hold general features)")
    else:
        hint = "some of the layers you should unfreeze are still frozen"
    what = f"trainable: extra {_short(extra)}; missing {_short(missing)}"
    return is_true("the right layers of the base train", not extra and not missing,
                   found=what, hint=hint)


def _weights(layer: Any) -> list[np.ndarray]:
    return [np.asarray(w) for w in layer.get_weights()]


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(x.shape == y.shape and np.allclose(x, y) for x, y in zip(a, b))


def _learning_rate(model: Any) -> float | None:
    opt = getattr(model, "optimizer", None)
    if opt is None:
        return None
    import keras
    try:
        return float(keras.ops.convert_to_numpy(opt.learning_rate))
    except (TypeError, ValueError, AttributeError):
        return None


def _best_val_accuracy(history: Any) -> float:
    h = getattr(history, "history", history) or {}
    if not h.get("val_accuracy") or not h.get("val_loss"):
        return float("nan")
    return float(h["val_accuracy"][int(np.argmin(h["val_loss"]))])


def _epochs(history: Any) -> int:
    h = getattr(history, "history", history) or {}
    return len(h.get("val_loss", []))


def _load(path: str | os.PathLike) -> Any:
    import keras
    return keras.models.load_model(path, compile=False)


@exercise
def exercise_1(model: Any, history: Any, start_from: str | os.PathLike, top_block_start: str,
               learning_rate: float, epochs: int, real: bool = True) -> None:
    """Fine-tune only the top block's convolutions at a low learning rate (written in Keras).

    ``start_from`` is the phase-1 model file the learner started from: the layers below the top
    block must still hold its weights, and the top block's convolutions must have moved.

    >>> exercise_1(ex1_model, ex1_history, phase1_path, "block5_conv1", 1e-5, 5)  # doctest: +SKIP
    Exercise 1: 8 of 8 checks passed
    """
    base = _base_or_fail(model, "Exercise 1")
    start = _start(base, top_block_start)
    expected = [layer.name for layer in base.layers[start:] if _is_conv(layer)]
    head = [layer for layer in model.layers if layer.weights and layer is not base]
    lr = _learning_rate(model)
    before = _load(start_from).get_layer("backbone")
    below = [layer.name for layer in base.layers[:start] if layer.weights]
    unchanged = all(_same(_weights(base.get_layer(n)), _weights(before.get_layer(n))) for n in below)
    moved = [n for n in expected
             if not _same(_weights(base.get_layer(n)), _weights(before.get_layer(n)))]
    acc = _best_val_accuracy(history)
    floor = _floor(real)
    checks = [
        _compare_training(_training(model, base), expected, base,
                          "BatchNormalization layers train: keep them frozen (only the "
                          "convolutions train; a frozen BatchNorm also stays in inference mode)"),
        is_true("the new head trains", bool(head) and all(layer.trainable for layer in head),
                found=", ".join(f"{layer.name}: {layer.trainable}" for layer in head),
                hint="leave the head trainable: fine-tuning trains it together with the top block"),
        is_true("compiled after the change", lr is not None, found="model.optimizer is None",
                hint="call model.compile(...) after changing trainable: fit() sees the change only "
                     "after a new compile()"),
        close("learning rate", lr if lr is not None else float("nan"), learning_rate,
              learning_rate * 1e-3,
              hint="use a learning rate 10-100x below the head's: large steps would overwrite "
                   "the pretrained features"),
        equal("epochs trained", _epochs(history), epochs,
              hint="fit(..., validation_data=val_ds, epochs=...) once, from the phase-1 model"),
        is_true("the layers below the top block kept their pretrained weights", unchanged,
                found="some weights below the top block changed",
                hint="were they trainable while fitting? Freeze everything below the top block"),
        is_true("the top block's convolutions moved", bool(expected) and len(moved) == len(expected),
                found=f"{len(moved)} of {len(expected)} changed",
                hint="did fit() run after compile(), with these layers trainable?"),
        at_least("best validation accuracy", acc, floor,
                 hint="too low: a learning rate too high can wreck the pretrained features; "
                      "check that the model started from the phase-1 file"),
    ]
    verify("Exercise 1", checks)


@exercise
def exercise_2(model: Any, base: Any, blocks: int, trainable_tensors: int,
               from_layer: str = "conv4_block1_preact_bn") -> None:
    """Unfreeze conv4 + conv5 of the source's ResNet50V2 model (BatchNorm kept frozen) and count.

    >>> exercise_2(ex2_model, ex2_base, ex2_blocks, ex2_tensors)            # doctest: +SKIP
    Exercise 2: 4 of 4 checks passed
    """
    names = [layer.name for layer in base.layers]
    if from_layer not in names:
        verify("Exercise 2", [is_true(f"the base has a layer {from_layer!r}", False,
                                             found=f"{base.name}: {_short(names[1:])}",
                                             hint="build keras.applications.ResNet50V2(...)")])
        return
    start = names.index(from_layer)
    expected = [layer.name for layer in base.layers[start:] if layer.weights and not _is_bn(layer)]
    inside = set(names)
    expected_tensors = (sum(len(base.get_layer(n).weights) for n in expected)
                        + sum(len(layer.weights) for layer in model.layers
                              if layer is not base and layer.name not in inside))
    checks = [
        equal("blocks in conv4 + conv5", blocks, 9,
              hint="ResNet50V2 has 3, 4, 6 and 3 blocks in conv2 ... conv5; "
                   "[b for b, _ in freezing.blocks(base)] lists them"),
        _compare_training(_training(model, base), expected, base,
                          "BatchNormalization layers train: keep them frozen "
                          "(layer.trainable = False for every BatchNormalization layer)"),
        equal("trainable weight tensors you reported", trainable_tensors,
              len(model.trainable_weights),
              hint="count len(model.trainable_weights) after the change"),
        equal("trainable weight tensors", len(model.trainable_weights), expected_tensors,
              hint="the head adds its Dense kernels and biases; every unfrozen convolution its "
                   "kernel (and bias); BatchNorm's gamma and beta only if it trains"),
    ]
    verify("Exercise 2", checks)


@exercise(optional=("drift",))          # None: a base without BatchNorm has no drift
def exercise_3(model: Any, history: Any, start_from: str | os.PathLike, top_block_start: str,
               drift: float | None, epochs: int, real: bool = True) -> None:
    """Phase 2 again with BatchNorm trainable: what trains, how far the moving mean moved.

    ``drift`` is the learner's mean absolute change of the first BatchNorm layer's moving mean
    in the top block (None when the base has no BatchNorm, as VGG16).

    >>> exercise_3(ex3_model, ex3_history, phase1_path, "conv5_block1_preact_bn", ex3_drift, 5)  # doctest: +SKIP
    Exercise 3: 6 of 6 checks passed
    """
    base = _base_or_fail(model, "Exercise 3")
    start = _start(base, top_block_start)
    expected = [layer.name for layer in base.layers[start:] if layer.weights]
    bns = [layer for layer in base.layers[start:] if _is_bn(layer)]
    checks = [
        _compare_training(_training(model, base), expected, base, "unexpected layers train"),
        is_true("BatchNorm layers of the top block train",
                all(n in _training(model, base) for n in (layer.name for layer in bns)),
                found="some BatchNormalization layers are frozen",
                hint="this exercise lets BatchNorm train: keep_bn_frozen=False "
                     "(what base.trainable = True does)"),
        equal("epochs trained", _epochs(history), epochs,
              hint="train as long as phase 2 did, so that the two compare"),
        at_least("best validation accuracy", _best_val_accuracy(history), _floor(real),
                 hint="too low: check the learning rate and that the model started from the "
                      "phase-1 file"),
    ]
    if bns:
        before = _load(start_from).get_layer("backbone").get_layer(bns[0].name)
        true_drift = float(np.mean(np.abs(np.asarray(bns[0].moving_mean)
                                          - np.asarray(before.moving_mean))))
        checks += [
            at_least(f"{bns[0].name}'s moving mean moved", true_drift, 1e-6,
                     hint="a trainable BatchNorm layer follows each batch's statistics in fit(); "
                          "did fit() run with it trainable?"),
            close("the drift you measured", drift if drift is not None else float("nan"),
                  true_drift, max(1e-6, 0.01 * true_drift),
                  hint="np.abs(moving_mean_after - moving_mean_before).mean(), with the values "
                       "before fit() copied (keras.ops.convert_to_numpy(...).copy())"),
        ]
    verify("Exercise 3", checks)
