"""Notebook 07's exercise checks: the reference answers pass, a deliberate mistake per exercise
fails with the message that explains it. Small objects only (MobileNet at 32 px, untrained)."""

from __future__ import annotations

import pytest

keras = pytest.importorskip("keras")

from seminar_utils.checks import ExerciseFailed  # noqa: E402
from seminar_utils.checks import nb07  # noqa: E402


def mobilenet_model(preprocess=None, frozen=True, dense_units=256, name="preprocess"):
    """The reference answer of exercise 1 (untrained), with one part swappable for a mistake."""
    base = keras.applications.MobileNet(include_top=False, weights=None, input_shape=(32, 32, 3))
    base.trainable = not frozen
    inputs = keras.Input(shape=(32, 32, 3))
    layer = preprocess or keras.layers.Rescaling(1 / 127.5, offset=-1, name=name)
    x = layer(inputs)
    x = base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    if dense_units:
        x = keras.layers.Dense(dense_units, activation="relu")(x)
        x = keras.layers.Dropout(0.5)(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs)


HISTORY = {"loss": [2.1, 1.9], "accuracy": [0.2, 0.3]}


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setenv("SEMINAR_PROFILE", "quick")


def test_head_params_is_the_benchmark_head():
    assert nb07.head_params(1024) == 1024 * 256 + 256 + 256 * 10 + 10 == 264_970
    assert nb07.head_params(2048, classes=4) == 2048 * 256 + 256 + 256 * 4 + 4


def test_exercise_1_reference_answer_passes(quick, capsys):
    nb07.exercise_1(mobilenet_model(), HISTORY, 0.2)
    assert capsys.readouterr().out == "Exercise 1: 6 of 6 checks passed\n"
    nb07.exercise_1(mobilenet_model(), HISTORY, 0.1)       # random weights may give chance exactly
    assert "6 of 6 checks passed" in capsys.readouterr().out
    # with ImageNet weights the floor is higher (quick: 0.25)
    nb07.exercise_1(mobilenet_model(), HISTORY, 0.5, pretrained=True)
    with pytest.raises(ExerciseFailed, match="expected at least 0.25, found 0.2"):
        nb07.exercise_1(mobilenet_model(), HISTORY, 0.2, pretrained=True)


def test_exercise_1_the_course_preprocess_layer_is_right_too(quick, capsys):
    from seminar_utils.backbones import Preprocess
    model = mobilenet_model(preprocess=Preprocess("MobileNet", name="preprocess"))
    nb07.exercise_1(model, HISTORY, 0.2)
    assert "6 of 6 checks passed" in capsys.readouterr().out


def test_exercise_1_pixels_divided_by_255_fail_as_the_source_did(quick):
    wrong = mobilenet_model(preprocess=keras.layers.Rescaling(1 / 255, name="preprocess"))
    with pytest.raises(ExerciseFailed, match=r"0 -> 0, 255 -> 1\n.*the source's mistake"):
        nb07.exercise_1(wrong, HISTORY, 0.2)


def test_exercise_1_a_missing_preprocess_layer_is_named(quick):
    with pytest.raises(ExerciseFailed, match="no layer named 'preprocess'"):
        nb07.exercise_1(mobilenet_model(name="scale"), HISTORY, 0.2)


def test_exercise_1_a_trainable_base_fails_twice(quick, capsys):
    with pytest.raises(ExerciseFailed) as err:
        nb07.exercise_1(mobilenet_model(frozen=False), HISTORY, 0.2)
    text = str(err.value)
    assert "4 of 6 checks passed" in text
    assert "the MobileNet base is frozen" in text and "base.trainable = False" in text
    assert "trainable parameters (the head): expected 264,970" in text


def test_exercise_1_another_head_and_a_low_accuracy_fail(quick):
    with pytest.raises(ExerciseFailed, match=r"the head\): expected 264,970, found 10,250"):
        nb07.exercise_1(mobilenet_model(dense_units=0), HISTORY, 0.2)
    with pytest.raises(ExerciseFailed, match=r"test accuracy: expected at least 0\.25, found 0\.1\n"
                                             r".*Check what the base receives"):
        nb07.exercise_1(mobilenet_model(), HISTORY, 0.10, pretrained=True)   # ImageNet: a floor
    with pytest.raises(ExerciseFailed, match="epochs trained"):
        nb07.exercise_1(mobilenet_model(), {"loss": []}, 0.2)


def test_exercise_1_floors_are_loose_in_smoke(monkeypatch, capsys):
    monkeypatch.setenv("SEMINAR_PROFILE", "smoke")
    nb07.exercise_1(mobilenet_model(), HISTORY, 0.05, pretrained=True)
    assert "6 of 6 checks passed" in capsys.readouterr().out


TABLE = [
    {"model": "VGG16", "weights_mb": 59.0, "test_accuracy": 0.40, "inference_ms_per_image": 3.2},
    {"model": "MobileNetV2", "weights_mb": 9.9, "test_accuracy": 0.30, "inference_ms_per_image": 0.51},
    {"model": "DenseNet121", "weights_mb": 29.1, "test_accuracy": 0.33, "inference_ms_per_image": 1.34},
    {"model": "ResNet50V2", "weights_mb": 96.0, "test_accuracy": 0.45, "inference_ms_per_image": 1.9},
]


def test_exercise_2_reference_answer_passes(capsys):
    from seminar_utils.benchmark import ResultTable
    small = [r for r in TABLE if r["weights_mb"] < 50]
    phone = max(small, key=lambda r: r["test_accuracy"])
    nb07.exercise_2(phone["model"], phone["inference_ms_per_image"], ResultTable(TABLE))
    nb07.exercise_2("DenseNet121", 1.34, TABLE)                     # rounded is fine
    assert capsys.readouterr().out == "Exercise 2: 3 of 3 checks passed\n" * 2


def test_exercise_2_mistakes_fail_with_their_hints():
    with pytest.raises(ExerciseFailed, match=r"ResNet50V2: 96\.0 MB\n.*filter the rows first"):
        nb07.exercise_2("ResNet50V2", 1.9, TABLE)                   # the most accurate overall
    with pytest.raises(ExerciseFailed, match=r"expected 'DenseNet121', found 'MobileNetV2'"):
        nb07.exercise_2("MobileNetV2", 0.51, TABLE)                 # small but not the best
    with pytest.raises(ExerciseFailed, match=r"inference time .*expected 1\.34 ± .*found 3\.2"):
        nb07.exercise_2("DenseNet121", 3.2, TABLE)                  # another row's time
    with pytest.raises(ExerciseFailed, match="'EfficientNetB9' is not a model of the table"):
        nb07.exercise_2("EfficientNetB9", 1.0, TABLE)
