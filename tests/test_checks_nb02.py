"""Notebook 02's exercise checks: the reference answers pass, typical mistakes fail with their hint."""

from __future__ import annotations


import numpy as np
import pytest

keras = pytest.importorskip("keras")
layers = keras.layers

from seminar_utils.checks import ExerciseFailed, nb02  # noqa: E402


@pytest.fixture(scope="module")
def photos() -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    x[..., 0] = np.linspace(0, 255, 32)[None, None, :]
    return x


def reference_augmentation():
    """The reference answer of exercise 1 (as in the notebook's Solutions section)."""
    return keras.Sequential([
        layers.RandomRotation(20 / 360, fill_mode="nearest"),
        layers.RandomTranslation(0.1, 0.1, fill_mode="nearest"),
        layers.RandomZoom((-0.15, 0.15), (-0.15, 0.15), fill_mode="nearest"),
        layers.RandomFlip("horizontal"),
        layers.RandomContrast(0.3, value_range=(0, 255)),
    ], name="my_augmentation")


def test_exercise_1_reference_passes(photos, capsys):
    nb02.exercise_1(reference_augmentation(), photos)
    assert capsys.readouterr().out == "Exercise 1: 10 of 10 checks passed\n"


def test_exercise_1_one_layer_per_axis_and_any_order_pass(photos, capsys):
    aug = keras.Sequential([
        layers.RandomFlip("horizontal"),
        layers.RandomContrast(0.3),
        layers.RandomTranslation(0.0, 0.1, fill_mode="nearest"),
        layers.RandomTranslation(0.1, 0.0, fill_mode="nearest"),
        layers.RandomZoom((-0.15, 0.15), (-0.15, 0.15), fill_mode="nearest"),
        layers.RandomRotation(20 / 360, fill_mode="nearest"),
    ])
    nb02.exercise_1(aug, photos)
    assert "10 of 10 checks passed" in capsys.readouterr().out


def test_exercise_1_typical_mistakes_fail_with_their_hints(photos):
    wrong = keras.Sequential([
        layers.RandomRotation(0.2, fill_mode="nearest"),      # "20 %" instead of 20 degrees
        layers.RandomTranslation(0.1, 0.1),                   # default fill_mode 'reflect'
        layers.RandomZoom(0.15, fill_mode="nearest"),         # keeps the aspect ratio
        layers.RandomFlip("horizontal"),
    ])                                                        # and no contrast
    with pytest.raises(ExerciseFailed) as e:
        nb02.exercise_1(wrong, photos)
    msg = str(e.value)
    assert "Exercise 1: 6 of 10 checks passed" in msg
    assert "factor=20 / 360" in msg
    assert "fill_mode='nearest'" in msg
    assert "width_factor=None keeps the aspect ratio" in msg
    assert "a RandomContrast layer" in msg and "value_range=(0, 255)" in msg


def test_exercise_1_contrast_on_the_wrong_scale_and_not_a_model(photos):
    aug = reference_augmentation()
    bad = keras.Sequential(aug.layers[:-1] + [layers.RandomContrast(0.3, value_range=(0, 1))])
    with pytest.raises(ExerciseFailed, match="RandomContrast ranges"):
        nb02.exercise_1(bad, photos)
    with pytest.raises(ExerciseFailed, match="is a keras.Sequential"):
        nb02.exercise_1(layers.RandomFlip("horizontal"), photos)      # a layer, not a Sequential


def make_variant(image_size, dropout=None, l2=None, batchnorm=False, name="variant"):
    """The reference answer of exercise 2 (as in the notebook's Solutions section)."""
    reg = keras.regularizers.L2(l2) if l2 else None
    stack = [keras.Input((image_size, image_size, 3)), layers.Rescaling(1 / 255)]
    for filters in (32, 64, 128, 128):
        stack.append(layers.Conv2D(filters, 3, kernel_regularizer=reg, use_bias=not batchnorm,
                                   activation=None if batchnorm else "relu"))
        if batchnorm:
            stack += [layers.BatchNormalization(momentum=0.9), layers.Activation("relu")]
        stack.append(layers.MaxPooling2D(2))
    stack.append(layers.Flatten())
    if dropout:
        stack.append(layers.Dropout(dropout))
    stack += [layers.Dense(512, activation="relu", kernel_regularizer=reg),
              layers.Dense(1, activation="sigmoid")]
    return keras.Sequential(stack, name=name)


NAMES = ["baseline", "dropout 0.5", "dropout 0.5 + augmentation"]
RESULTS = {"baseline": dict(best_val=0.70, gap=0.30), "dropout 0.5": dict(best_val=0.71, gap=0.2),
           "dropout 0.5 + augmentation": dict(best_val=0.74, gap=0.02)}


def test_exercise_2_reference_passes(capsys):
    nb02.exercise_2(make_variant, RESULTS, NAMES, 48, profile="quick")
    assert capsys.readouterr().out == "Exercise 2: 8 of 8 checks passed\n"
    # in smoke the floor is loose and the overfitting comparison is left out (1 epoch)
    weak = {n: dict(best_val=0.5, gap=0.0) for n in NAMES}
    nb02.exercise_2(make_variant, weak, NAMES, 48, profile="smoke")
    assert capsys.readouterr().out == "Exercise 2: 7 of 7 checks passed\n"


def test_exercise_2_builder_mistakes_fail_with_their_hints():
    def bn_after_relu_no_dense_l2(image_size, dropout=None, l2=None, batchnorm=False):
        reg = keras.regularizers.L2(l2) if l2 else None
        stack = [keras.Input((image_size, image_size, 3)), layers.Rescaling(1 / 255)]
        for filters in (32, 64, 128, 128):
            stack.append(layers.Conv2D(filters, 3, activation="relu", kernel_regularizer=reg))
            if batchnorm:
                stack.append(layers.BatchNormalization())
            stack.append(layers.MaxPooling2D(2))
        stack += [layers.Flatten()] + ([layers.Dropout(0.5)] if dropout else [])  # always 0.5
        stack += [layers.Dense(512, activation="relu"),
                  layers.Dense(1, activation="sigmoid")]
        return keras.Sequential(stack)

    with pytest.raises(ExerciseFailed) as e:
        nb02.exercise_2(bn_after_relu_no_dense_l2, RESULTS, NAMES, 48, profile="quick")
    msg = str(e.value)
    assert "Exercise 2: 5 of 8 checks passed" in msg
    assert "dropout rates of make_variant(dropout=0.3): expected [0.3], found [0.5]" in msg
    assert "to Dense(512)" in msg and "L2 factors found, layer by layer: [0.001, 0.001, 0.001, 0.001, None" in msg
    assert "the normalisation comes before the ReLU" in msg


def test_exercise_2_a_builder_that_raises_is_a_failed_check():
    def broken(image_size, **options):
        raise TypeError("make_variant() got an unexpected keyword argument 'l2'")

    with pytest.raises(ExerciseFailed, match="TypeError: make_variant"):
        nb02.exercise_2(broken, RESULTS, NAMES, 48, profile="quick")


def test_exercise_2_results_below_the_floor_or_not_overfitting_fail():
    stuck = {**RESULTS, "dropout 0.5": dict(best_val=0.5, gap=0.0)}
    with pytest.raises(ExerciseFailed, match=r"lowest best validation accuracy \(dropout 0.5\)"):
        nb02.exercise_2(make_variant, stuck, NAMES, 48, profile="quick")
    level = {**RESULTS, "dropout 0.5 + augmentation": dict(best_val=0.74, gap=0.35)}
    with pytest.raises(ExerciseFailed, match="un-augmented training photos"):
        nb02.exercise_2(make_variant, level, NAMES, 48, profile="quick")
    with pytest.raises(ExerciseFailed, match=r"missing: \['dropout 0.5'\]"):
        nb02.exercise_2(make_variant, {k: v for k, v in RESULTS.items() if k != "dropout 0.5"},
                        NAMES, 48, profile="quick")


def test_the_unedited_student_release_fails_with_what_to_do(photos):
    """The release keeps the placeholders before each solution (None, {}): the checks say what is missing."""
    with pytest.raises(ExerciseFailed, match="augmentation is still None .the placeholder."):
        nb02.exercise_1(None, photos)
    with pytest.raises(ExerciseFailed, match="make_variant is still None .the placeholder."):
        nb02.exercise_2(None, {}, NAMES, 48, profile="smoke")
    with pytest.raises(ExerciseFailed) as e:                # make_variant written, ablation not run
        nb02.exercise_2(make_variant, {}, NAMES, 48, profile="smoke")
    msg = str(e.value)
    assert "missing: ['baseline', 'dropout 0.5', 'dropout 0.5 + augmentation']" in msg
