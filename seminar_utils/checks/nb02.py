"""Checks of notebook 02's exercises: an augmentation written as layers, and the source's ablation.

Exercise 1 compares the learner's ``keras.Sequential`` with what
:func:`seminar_utils.augment.build_augmentation` makes of the same ImageDataGenerator settings
(:func:`~seminar_utils.augment.layer_ranges`: the same random layers with the same ranges, in any
order). Exercise 2 tests the learner's variant builder on small models (structure, parameter
count, regularisers) and the trained results against floors that depend on the profile.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from . import Check, at_least, equal, exercise, has_shape, is_true, verify

__all__ = ["EXERCISE_1_SETTINGS", "exercise_1", "exercise_2"]

#: The generator of exercise 1, as ImageDataGenerator arguments (plus the lecture's contrast).
EXERCISE_1_SETTINGS: dict[str, Any] = dict(rotation_range=20, width_shift_range=0.1,
                                           height_shift_range=0.1, zoom_range=0.15,
                                           horizontal_flip=True, fill_mode="nearest", contrast=0.3)

_HINTS_1 = {
    "RandomRotation": "rotation_range is in degrees, RandomRotation takes a fraction of a full "
                      "turn: factor=20 / 360; and fill_mode='nearest' (the layers default to "
                      "'reflect')",
    "RandomTranslation": "width_shift_range and height_shift_range are fractions of the size: "
                         "RandomTranslation(height_factor=0.1, width_factor=0.1, "
                         "fill_mode='nearest'), height first",
    "RandomZoom": "ImageDataGenerator zooms height and width independently: give both "
                  "height_factor=(-0.15, 0.15) and width_factor=(-0.15, 0.15) (width_factor=None "
                  "keeps the aspect ratio), and fill_mode='nearest'",
    "RandomFlip": "horizontal_flip=True is RandomFlip('horizontal') (left-right only)",
    "RandomContrast": "RandomContrast(0.3, value_range=(0, 255)): the photos are 0-255 pixels",
}

# Floors for a trained variant's best validation accuracy: smoke trains 1 epoch on a few dozen
# photos (only "it ran"); quick's variants (48 px, 500 photos) reached 0.60-0.67 over seeds, and a
# model stuck at 0.5 (one class for every photo) must fail; gpu and full train at 96-150 px.
_FLOORS = {"smoke": 0.3, "quick": 0.55, "gpu": 0.6, "full": 0.65}


def _numpy(x: Any) -> np.ndarray:
    import keras
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float32)


@exercise
def exercise_1(augmentation: Any, images: Any) -> None:
    """Exercise 1: ``augmentation`` does what ``EXERCISE_1_SETTINGS`` asks, on ``images`` (0-255).

    >>> from seminar_utils import augment
    >>> exercise_1(augment.build_augmentation(EXERCISE_1_SETTINGS),
    ...            np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)))
    Exercise 1: 10 of 10 checks passed
    """
    from .. import augment
    if not callable(augmentation) or not hasattr(augmentation, "layers"):
        verify("Exercise 1", [is_true(
            "my_augmentation is a keras.Sequential of random layers", False,
            f"found {type(augmentation).__name__}",
            "build it as keras.Sequential([layers.RandomRotation(...), ...])")])
        return
    expected = augment.layer_ranges(augment.build_augmentation(EXERCISE_1_SETTINGS))
    found = augment.layer_ranges(augmentation)
    checks: list[Check] = []
    for kind, ranges in expected.items():
        got = found.get(kind)
        if got is None:
            checks.append(is_true(f"a {kind} layer", False,
                                  f"random layers found: {', '.join(found) or 'none'}",
                                  _HINTS_1[kind]))
        else:
            checks.append(equal(f"{kind} ranges", got, ranges, _HINTS_1[kind]))
    extra = [kind for kind in found if kind not in expected]
    checks.append(is_true("no other random layer", not extra, f"also found {', '.join(extra)}",
                          "the generator asks for rotation, shifts, zoom, flip and contrast only"))
    x = _numpy(images)
    out = _numpy(augmentation(x, training=True))
    checks += [
        has_shape("output shape (training)", out, x.shape,
                  "random layers keep the batch shape; add no resizing or cropping layer"),
        is_true("it changes the photos when training", not np.allclose(out, x),
                "the output equals the input: call it with training=True"),
        is_true("training=False leaves the photos alone",
                np.allclose(_numpy(augmentation(x, training=False)), x),
                "every layer must be a random augmentation layer (they are the identity in "
                "evaluate and predict)"),
        is_true("pixels stay in 0-255", out.min() >= -1e-3 and out.max() <= 255 + 1e-3,
                f"found {out.min():.1f} to {out.max():.1f}",
                "value_range=(0, 255) on RandomContrast: the photos are not scaled to [0, 1]"),
    ]
    verify("Exercise 1", checks)


def _structure_checks(make_variant: Callable[..., Any], image_size: int) -> list[Check]:
    import keras
    from ..models import small_convnet
    L = keras.layers
    base = make_variant(image_size)
    drop = make_variant(image_size, dropout=0.3)
    l2 = make_variant(image_size, l2=1e-3)
    bn = make_variant(image_size, batchnorm=True)
    regs = [getattr(layer, "kernel_regularizer", None) for layer in l2.layers
            if isinstance(layer, (L.Conv2D, L.Dense))]
    l2_values = [round(float(r.get_config().get("l2", 0)), 8) if r is not None else None for r in regs]
    bn_layers = [i for i, layer in enumerate(bn.layers) if isinstance(layer, L.BatchNormalization)]
    before_bn = [bn.layers[i - 1] for i in bn_layers]
    linear_convs = all(isinstance(layer, L.Conv2D) and layer.get_config()["activation"] == "linear"
                       for layer in before_bn)
    return [
        equal("output shape", tuple(base.output_shape), (None, 1),
              "one sigmoid unit: the probability of 'dog'"),
        equal("baseline parameters", base.count_params(),
              small_convnet((image_size, image_size, 3)).count_params(),
              "the baseline is the source's convnet: Conv2D 32-64-128-128 (3x3, ReLU) each followed "
              "by MaxPooling2D(2), Flatten, Dense(512, ReLU), Dense(1, sigmoid), no padding"),
        equal("dropout rates of make_variant(dropout=0.3)",
              [round(layer.rate, 4) for layer in drop.layers if isinstance(layer, L.Dropout)], [0.3],
              "one Dropout(dropout) between Flatten and Dense(512), only when dropout is given"),
        is_true("L2 1e-3 on every Conv2D and the hidden Dense",
                len(l2_values) >= 5 and all(v == 1e-3 for v in l2_values[:-1]),
                f"L2 factors found, layer by layer: {l2_values}",
                "pass kernel_regularizer=keras.regularizers.L2(l2) to the four Conv2D and to "
                "Dense(512)"),
        is_true("four BatchNormalization layers, each right after a Conv2D without activation",
                len(bn_layers) == 4 and linear_convs,
                f"{len(bn_layers)} BatchNormalization layers"
                + ("" if linear_convs else "; not all follow a Conv2D with activation=None"),
                "Conv2D(filters, 3, activation=None), then BatchNormalization(), then "
                "Activation('relu'): the normalisation comes before the ReLU"),
    ]


@exercise
def exercise_2(make_variant: Callable[..., Any], ablation: Mapping[str, Mapping[str, float]],
               variants: Sequence[str], image_size: int, profile: str | None = None) -> None:
    """Exercise 2: the variant builder and the trained ablation (``name -> {best_val, gap}``).

    ``variants``: the names that were to be trained. The accuracy floor depends on the profile
    (``profile`` or :func:`seminar_utils.profiles.resolve_profile`); outside smoke the baseline
    must also overfit more than the variant with dropout and augmentation.

    >>> exercise_2(make_variant, ablation, list(VARIANTS), 48)   # doctest: +SKIP
    Exercise 2: 8 of 8 checks passed
    """
    from ..profiles import resolve_profile
    profile = resolve_profile(profile)
    floor = _FLOORS.get(profile, 0.6)
    try:
        checks = _structure_checks(make_variant, image_size)
    except Exception as err:  # the learner's builder failed: say so, as a failed check
        checks = [is_true("make_variant builds the four kinds of variant", False,
                          f"{type(err).__name__}: {str(err)[:200]}",
                          "make_variant(image_size, dropout=None, l2=None, batchnorm=False) must "
                          "return a keras.Sequential for any combination")]
    missing = [n for n in variants if n not in ablation]
    checks.append(is_true("every variant trained", not missing, f"missing: {missing}",
                          "train each name of the list and store its results in ablation[name]"))
    bests = {n: r.get("best_val", float("nan")) for n, r in ablation.items()}
    worst = min(bests, key=lambda n: bests[n] if np.isfinite(bests[n]) else -1.0, default=None)
    checks.append(at_least(f"lowest best validation accuracy ({worst})",
                           bests.get(worst, float("nan")), floor,
                           "a variant near 0.5 predicts one class: check the learning rate, that "
                           "the validation data are not augmented, and (BatchNorm) the momentum"))
    if profile != "smoke" and {"baseline", "dropout 0.5 + augmentation"} <= set(ablation):
        base_gap = ablation["baseline"].get("gap", float("nan"))
        reg_gap = ablation["dropout 0.5 + augmentation"].get("gap", float("nan"))
        checks.append(is_true("the baseline overfits more than dropout + augmentation",
                              base_gap > reg_gap,
                              f"gap: baseline {base_gap:+.3f}, dropout 0.5 + augmentation "
                              f"{reg_gap:+.3f}",
                              "measure the gap as accuracy on the un-augmented training photos "
                              "minus validation accuracy, after the last epoch"))
    verify("Exercise 2", checks)
