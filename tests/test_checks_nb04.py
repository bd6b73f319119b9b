"""Notebook 04's exercise checks: the reference answers pass, typical mistakes fail with their hint.

Small objects only: the heads and the MobileNet block are built, not trained; exercise 3's
"training" is a history object with a chosen curve; exercise 4 cuts a VGG16 built at 32x32.
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from seminar_utils import results  # noqa: E402
from seminar_utils.checks import ExerciseFailed, nb04  # noqa: E402

L = keras.layers


def head(pool, units=256, activation="sigmoid"):
    return keras.Sequential([keras.Input((4, 4, 512)), pool, L.Dense(units, activation="relu"),
                             L.Dense(1, activation=activation)])


def mobilenet_block(depthwise=True, filters=512, bias=False):
    inputs = keras.Input((28, 28, 256))
    if depthwise:
        x = L.DepthwiseConv2D(3, padding="same", use_bias=bias)(inputs)
    else:
        x = L.Conv2D(256, 3, padding="same", use_bias=bias)(inputs)
    x = L.ReLU()(L.BatchNormalization()(x))
    x = L.ReLU()(L.BatchNormalization()(L.Conv2D(filters, 1, use_bias=bias)(x)))
    return keras.Model(inputs, x)


class History:
    def __init__(self, curve):
        self.history = {"val_accuracy": list(curve)}


def linear(n=8, hidden=False):
    stack = [keras.Input((n,))] + ([L.Dense(4, activation="relu")] if hidden else [])
    return keras.Sequential(stack + [L.Dense(1, activation="sigmoid")])


@pytest.fixture(scope="module")
def vgg():
    return keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))


def failure(fn, **kwargs) -> str:
    with pytest.raises(ExerciseFailed) as err:
        fn(**kwargs)
    return str(err.value)


# ----------------------------------------------------------------------------- exercise 1

def test_exercise_1_reference_passes(capsys):
    nb04.exercise_1(flatten_head=head(L.Flatten()), gap_head=head(L.GlobalAveragePooling2D()))
    assert "Exercise 1: 6 of 6 checks passed" in capsys.readouterr().out
    assert nb04.FLATTEN_HEAD_PARAMS == 2_097_665 and nb04.GAP_HEAD_PARAMS == 131_585


def test_exercise_1_swapped_heads_fail_with_the_pooling_hint():
    msg = failure(nb04.exercise_1, flatten_head=head(L.GlobalAveragePooling2D()),
                  gap_head=head(L.Flatten()))
    assert "Flatten head starts with Flatten" in msg
    assert "expected 2,097,665, found 131,585" in msg


def test_exercise_1_softmax_or_missing_hidden_units_fail():
    msg = failure(nb04.exercise_1, flatten_head=head(L.Flatten(), activation="softmax"),
                  gap_head=head(L.GlobalAveragePooling2D(), units=128))
    assert "Flatten head ends in one sigmoid unit" in msg and "activation softmax" in msg
    assert "GAP head parameters: expected 131,585" in msg
    assert "not a model" not in msg
    msg = failure(nb04.exercise_1, flatten_head=None, gap_head=head(L.GlobalAveragePooling2D()))
    assert "x your answer is written: flatten_head is still None (the placeholder)" in msg


# ----------------------------------------------------------------------------- exercise 2

def test_exercise_2_reference_passes(capsys):
    nb04.exercise_2(block=mobilenet_block(), conv_params=3 * 3 * 256 * 512)
    assert "Exercise 2: 5 of 5 checks passed" in capsys.readouterr().out


def test_exercise_2_an_ordinary_convolution_is_not_depthwise():
    msg = failure(nb04.exercise_2, block=mobilenet_block(depthwise=False), conv_params=1_179_648)
    assert "a 3x3 DepthwiseConv2D" in msg and "one 3x3 filter per input channel" in msg
    assert "expected 133,376, found 720,896" in msg           # 3*3*256*256 + 256*512


def test_exercise_2_biases_wrong_width_and_wrong_count_fail():
    msg = failure(nb04.exercise_2, block=mobilenet_block(bias=True), conv_params=3 * 3 * 256 * 512)
    assert "use_bias=False" in msg and "found 134,144" in msg    # + 256 + 512 biases
    msg = failure(nb04.exercise_2, block=mobilenet_block(filters=256), conv_params=3 * 3 * 256)
    assert "expected shape (None, 28, 28, 512), found (None, 28, 28, 256)" in msg
    assert "a 1x1 Conv2D with 512 filters" in msg
    assert "your count for Conv2D(512, 3) without bias: expected 1,179,648, found 2,304" in msg


# ----------------------------------------------------------------------------- exercise 3

def test_exercise_3_reference_passes_with_the_profile_floor(capsys):
    nb04.exercise_3(model=linear(), history=History([0.6, 0.9]), profile="quick")
    assert "Exercise 3: 4 of 4 checks passed" in capsys.readouterr().out
    assert nb04.LINEAR_FLOORS["smoke"] < nb04.LINEAR_FLOORS["quick"] < nb04.LINEAR_FLOORS["full"]


def test_exercise_3_a_hidden_layer_or_a_low_accuracy_fail():
    msg = failure(nb04.exercise_3, model=linear(hidden=True), history=History([0.9]), profile="quick")
    assert "exactly one Dense layer" in msg and "no hidden layer" in msg
    assert "parameters (one weight per feature + a bias): expected 9, found 41" in msg
    msg = failure(nb04.exercise_3, model=linear(), history=History([0.5, 0.55]), profile="quick")
    assert "best validation accuracy (quick): expected at least 0.65, found 0.55" in msg
    nb04.exercise_3(model=linear(), history=History([0.5, 0.55]), profile="smoke")   # loose floor


def test_exercise_3_needs_validation_data():
    class NoValidation:
        history = {"accuracy": [0.9]}
    msg = failure(nb04.exercise_3, model=linear(), history=NoValidation(), profile="smoke")
    assert "fit() ran with validation data" in msg and "validation_data=(f_val, y_val)" in msg


def test_exercise_3_floor_is_loose_on_generated_photos(monkeypatch):
    monkeypatch.setitem(results._state["assets"], "cats_and_dogs_filtered", "stand-in")
    nb04.exercise_3(model=linear(), history=History([0.4]), profile="quick")


# ----------------------------------------------------------------------------- exercise 4

def test_exercise_4_reference_passes(vgg, capsys):
    cut = keras.Model(vgg.input, vgg.get_layer("block4_pool").output)
    nb04.exercise_4(features=cut, original=vgg)
    assert "Exercise 4: 4 of 4 checks passed" in capsys.readouterr().out


def test_exercise_4_the_wrong_layer_or_a_copy_fail(vgg):
    cut = keras.Model(vgg.input, vgg.get_layer("block5_pool").output)
    msg = failure(nb04.exercise_4, features=cut, original=vgg)
    assert "the new model ends at block4_pool" in msg and "its last layer is block5_pool" in msg
    assert "expected shape (None, 2, 2, 512), found (None, 1, 1, 512)" in msg
    other = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    copy = keras.Model(other.input, other.get_layer("block4_pool").output)
    msg = failure(nb04.exercise_4, features=copy, original=vgg)
    assert "shares the pretrained layers" in msg


def test_exercise_4_a_model_with_its_classifier_is_not_the_original(vgg):
    top = keras.applications.VGG16(weights=None, include_top=True, classes=10,
                                   input_shape=(32, 32, 3))
    cut = keras.Model(top.input, top.get_layer("block4_pool").output)
    msg = failure(nb04.exercise_4, features=cut, original=top)
    assert "the original model is unchanged" in msg and "include_top=False" in msg


# ----------------------------------------------------------------------------- exercise 5

def test_exercise_5_reference_passes(capsys):
    batch = np.random.default_rng(0).uniform(-124, 151, (3, 224, 224, 3)).astype("float32")
    nb04.exercise_5(batch=batch, names=["tabby", "Egyptian_cat", "lynx"])
    assert "Exercise 5: 3 of 3 checks passed" in capsys.readouterr().out


def test_exercise_5_unresized_or_unpreprocessed_images_fail():
    raw = np.random.default_rng(0).uniform(0, 255, (3, 32, 32, 3)).astype("float32")
    msg = failure(nb04.exercise_5, batch=raw, names=["tabby"])
    assert "expected shape (3, 224, 224, 3), found (3, 32, 32, 3)" in msg
    assert "the batch was preprocessed" in msg and "preprocess_input" in msg
    assert "one name per image" in msg
