"""Checks of notebook 07's exercises (the backbone benchmark): a transfer model written in Keras,
and a choice read off the results table.

Each function takes the learner's objects, tests the result (the model's structure, what the
backbone receives, what trains, a trained accuracy above a profile-aware floor, a pick that
follows the table) and calls :func:`seminar_utils.checks.verify`.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from . import at_least, close, equal, exercise, has_shape, is_true, verify

__all__ = ["ACCURACY_FLOORS", "head_params", "exercise_1", "exercise_2"]

#: Test accuracy (10 CIFAR-10 classes) a frozen MobileNet with the benchmark's head reaches at
#: least, per profile: with ImageNet weights, and with random weights (no floor: a random frozen
#: MobileNet at 32 px can give chance exactly, 0.100 in a quick run; smoke trains 3 steps, so
#: only "it ran" is checked there).
ACCURACY_FLOORS: dict[str, tuple[float, float]] = {
    "full": (0.6, 0.0), "gpu": (0.5, 0.0), "quick": (0.25, 0.0), "smoke": (0.0, 0.0)}


def head_params(features: int, units: int = 256, classes: int = 10) -> int:
    """Parameters of the benchmark's head on ``features`` pooled features: Dense(units), then
    Dense(classes) (pooling and dropout have none).

    >>> head_params(1024)
    264970
    """
    return features * units + units + units * classes + classes


def _floor(pretrained: bool) -> float:
    from ..profiles import resolve_profile
    imagenet, random = ACCURACY_FLOORS.get(resolve_profile(), (0.0, 0.0))
    return imagenet if pretrained else random


def _base(model: Any) -> Any:
    """The backbone: the layer holding the most parameters (a nested model), or None."""
    layers = [layer for layer in getattr(model, "layers", []) if layer.count_params()]
    return max(layers, key=lambda layer: layer.count_params()) if layers else None


def _what_the_backbone_gets(model: Any) -> tuple[float, float] | None:
    """The range layer "preprocess" makes of images at 0 and at 255 (None without that layer)."""
    import keras
    try:
        layer = model.get_layer("preprocess")
    except (ValueError, AttributeError):
        return None
    probe = keras.Model(model.inputs[0], layer.output)
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    images = np.stack([np.zeros(shape, "float32"), np.full(shape, 255.0, "float32")])
    out = keras.ops.convert_to_numpy(probe(images, training=False))
    return float(out.min()), float(out.max())


def _trainable(model: Any) -> int:
    return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))


def _epochs(history: Any) -> int:
    h = getattr(history, "history", history) or {}
    return len(h.get("loss", []))


@exercise
def exercise_1(model: Any, history: Any, test_accuracy: float, pretrained: bool = False,
               features: int = 1024, classes: int = 10) -> None:
    """MobileNet end to end: its own preprocessing in a layer "preprocess", a frozen base, the
    benchmark's head, trained and evaluated.

    >>> exercise_1(ex1_model, ex1_history, ex1_test_accuracy)        # doctest: +SKIP
    Exercise 1: 6 of 6 checks passed
    """
    base = _base(model)
    seen = _what_the_backbone_gets(model) if base is not None else None
    trainable = _trainable(model) if base is not None else -1
    expected_head = head_params(features, classes=classes)
    floor = _floor(pretrained)
    checks = [
        has_shape("the model's output", getattr(model, "output", None), (None, classes),
                  hint=f"end with Dense({classes}, activation='softmax'): one probability per "
                       f"CIFAR-10 class"),
        is_true("a layer named 'preprocess' turns 0-255 pixels into MobileNet's [-1, 1]",
                seen is not None and abs(seen[0] + 1) < 1e-3 and abs(seen[1] - 1) < 1e-3,
                found=("no layer named 'preprocess'" if seen is None else
                       f"0 -> {seen[0]:.4g}, 255 -> {seen[1]:.4g}"),
                hint="MobileNet was trained on x / 127.5 - 1 (preprocess_input, mode 'tf'): "
                     "keras.layers.Rescaling(1 / 127.5, offset=-1, name='preprocess'). Dividing "
                     "by 255 gives [0, 1], the source's mistake"),
        is_true("the MobileNet base is frozen", base is not None and not base.trainable_weights,
                found=("no layer with weights" if base is None else
                       f"{base.name}: {_trainable(base):,} trainable parameters"),
                hint="base.trainable = False before compile(): only the new head may learn"),
        equal("trainable parameters (the head)", trainable, expected_head,
              hint=f"the benchmark's head: GlobalAveragePooling2D, Dense(256, 'relu'), "
                   f"Dropout(0.5), Dense({classes}, 'softmax') = {expected_head:,} parameters "
                   f"on MobileNet's {features} features"),
        at_least("epochs trained", _epochs(history), 1,
                 hint="ex1_history = ex1_model.fit(...) (the History object fit returns)"),
        at_least("test accuracy", test_accuracy, floor,
                 hint="evaluate on the benchmark's test images: "
                      "ex1_model.evaluate(bench_data.x_test, bench_data.y_test)[1]. Near chance "
                      "(0.10)? Check what the base receives (the preprocessing) first"),
    ]
    verify("Exercise 1", checks)


def _rows(table: Any) -> list[Mapping[str, Any]]:
    return [r for r in getattr(table, "rows", table)
            if isinstance(r.get("weights_mb"), (int, float)) and not math.isnan(r["weights_mb"])]


@exercise
def exercise_2(pick: str, ms_per_image: float, table: Any | Sequence[Mapping[str, Any]],
               limit_mb: float = 50.0) -> None:
    """The most accurate model whose weight file is under ``limit_mb`` MB, and its inference time.

    >>> exercise_2(ex2_pick, ex2_ms, table)                          # doctest: +SKIP
    Exercise 2: 3 of 3 checks passed
    """
    rows = _rows(table)
    by = {r["model"]: r for r in rows}
    small = [r for r in rows if r["weights_mb"] < limit_mb]
    best = max(small, key=lambda r: r["test_accuracy"]) if small else None
    chosen = by.get(pick)
    ms = float(chosen["inference_ms_per_image"]) if chosen else float("nan")
    checks = [
        is_true(f"the pick's weight file is under {limit_mb:g} MB",
                chosen is not None and chosen["weights_mb"] < limit_mb,
                found=(f"{pick!r} is not a model of the table" if chosen is None else
                       f"{pick}: {chosen['weights_mb']:.1f} MB"),
                hint="filter the rows first: [r for r in table if r['weights_mb'] < 50]"),
        equal("the most accurate model under the limit", pick, best["model"] if best else None,
              hint="among the small models, take the highest test_accuracy "
                   "(max(small, key=lambda r: r['test_accuracy']))"),
        close("its inference time (ms per image)", ms_per_image, ms,
              0.005 + 0.01 * abs(ms) if math.isfinite(ms) else 0.0,
              hint="read the pick's own row: r['inference_ms_per_image'] (rounding to two "
                   "decimals is fine)"),
    ]
    verify("Exercise 2", checks)
