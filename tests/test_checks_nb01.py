"""Notebook 01's exercise checks: the reference answers pass, a typical mistake per exercise fails
with the message that explains it. Small models, no training: histories are stand-ins."""

from types import SimpleNamespace

import keras
import pytest
from keras import layers

from seminar_utils.checks import ExerciseFailed
from seminar_utils.checks import nb01


def history(val_accuracy, steps=6):
    return SimpleNamespace(history={"val_accuracy": [val_accuracy / 2, val_accuracy]},
                           params={"steps": steps, "epochs": 2})


def cnn(top="gap", regularised=False, dropout=0.3, last_init="he_normal"):
    conv = dict(activation="relu")
    if regularised:
        conv["kernel_initializer"] = "he_normal"
    stack = [keras.Input((28, 28, 1)), layers.Rescaling(1 / 255)]
    for i, filters in enumerate([32, 64, 64]):
        init = last_init if (regularised and i == 2) else conv.get("kernel_initializer", "glorot_uniform")
        stack.append(layers.Conv2D(filters, 3, activation="relu", kernel_initializer=init))
        if regularised:
            stack.append(layers.BatchNormalization())
        if i < 2:
            stack.append(layers.MaxPooling2D(2))
    if top == "gap":
        stack.append(layers.GlobalAveragePooling2D())
    else:
        stack += [layers.Flatten(), layers.Dense(64, **conv)]
    if dropout:
        stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(10, activation="softmax"))
    return keras.Sequential(stack)


def ex1_model(padding="same"):
    return keras.Sequential([keras.Input((32, 32, 3)),
                             layers.Conv2D(16, 5, strides=2, padding=padding, name="conv_a"),
                             layers.MaxPooling2D(2, name="pool"), layers.Conv2D(8, 3, name="conv_b")])


def failure(call, *args, **kwargs) -> str:
    with pytest.raises(ExerciseFailed) as err:
        call(*args, **kwargs)
    return str(err.value)


def test_exercise_1_reference_passes(capsys):
    nb01.exercise_1(dict(nb01.EX1_EXPECTED), ex1_model())
    assert capsys.readouterr().out == "Exercise 1: 14 of 14 checks passed\n"


def test_exercise_1_wrong_hand_count_and_valid_padding_fail():
    by_hand = dict(nb01.EX1_EXPECTED, conv_a=((14, 14, 16), 400))   # forgot padding and channels
    msg = failure(nb01.exercise_1, by_hand, ex1_model())
    assert "x conv_a output shape by hand: expected (16, 16, 16), found (14, 14, 16)" in msg
    assert "x conv_a parameters by hand: expected 1,216, found 400" in msg
    assert "every filter sees all 3 input channels" in msg
    msg = failure(nb01.exercise_1, dict(nb01.EX1_EXPECTED), ex1_model(padding="valid"))
    assert "conv_a in Keras: output shape: expected (16, 16, 16), found (14, 14, 16)" in msg
    assert "conv_b in Keras: output shape: expected (6, 6, 8), found (5, 5, 8)" in msg


def test_exercise_1_unnamed_layers_fail_with_the_names_to_use():
    model = keras.Sequential([keras.Input((32, 32, 3)), layers.Conv2D(16, 5, strides=2, padding="same"),
                              layers.MaxPooling2D(2), layers.Conv2D(8, 3)])
    assert "name the layers conv_a, pool, conv_b" in failure(nb01.exercise_1, dict(nb01.EX1_EXPECTED), model)


def test_exercise_2_reference_passes(capsys):
    nb01.exercise_2(cnn("gap", dropout=None), history(0.94), profile="quick")
    assert capsys.readouterr().out == "Exercise 2: 6 of 6 checks passed\n"


def test_exercise_2_dense_left_in_and_low_accuracy_fail():
    model = cnn("gap", dropout=None)
    keep_dense = keras.Sequential([keras.Input((28, 28, 1))] + model.layers[:-1]
                                  + [layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")])
    msg = failure(nb01.exercise_2, keep_dense, history(0.94), profile="quick")
    assert "x parameters: expected 56,394, found 60,554" in msg and "A Dense(64) left in" in msg
    msg = failure(nb01.exercise_2, cnn("flatten", dropout=None), history(0.5), profile="quick")
    assert "x Flatten layers: expected 0, found 1" in msg
    assert "x validation accuracy after training: expected at least 0.85, found 0.5" in msg


def test_exercise_2_floor_follows_the_profile(capsys):
    nb01.exercise_2(cnn("gap", dropout=None), history(0.3), profile="smoke")
    assert capsys.readouterr().out == "Exercise 2: 6 of 6 checks passed\n"
    failure(nb01.exercise_2, cnn("gap", dropout=None), history(0.3), profile="quick")


def test_exercise_3_reference_passes(capsys):
    nb01.exercise_3(cnn("flatten", regularised=True), history(0.97), profile="quick")
    assert capsys.readouterr().out == "Exercise 3: 8 of 8 checks passed\n"


def test_exercise_3_missing_batchnorm_dropout_and_initializer_fail():
    msg = failure(nb01.exercise_3, cnn("flatten", regularised=False, dropout=0.5), history(0.97),
                  profile="quick")
    assert "x layer after each Conv2D" in msg and "BatchNormalization() right after every Conv2D" in msg
    assert "x Dropout rates: expected [0.3], found [0.5]" in msg
    assert "x non-trainable parameters: expected 320, found 0" in msg
    msg = failure(nb01.exercise_3, cnn("flatten", regularised=True, last_init="glorot_uniform"),
                  history(0.97), profile="quick")
    assert "Conv2D kernel initializers: expected ['HeNormal', 'HeNormal', 'HeNormal']" in msg


def test_exercise_4_reference_passes(capsys):
    nb01.exercise_4(history(0.90, steps=6), 4e-3, baseline=0.81, n_train=6000, batch_size=1024,
                    profile="quick")
    assert capsys.readouterr().out == "Exercise 4: 4 of 4 checks passed\n"


def test_exercise_4_default_or_huge_learning_rate_and_wrong_batch_fail():
    msg = failure(nb01.exercise_4, history(0.81, steps=6), 1e-3, 0.81, 6000, 1024, profile="quick")
    assert "x a larger learning rate than Adam's default 1e-3: found 0.001" in msg
    assert "x gain in validation accuracy over learning rate 1e-3" in msg
    msg = failure(nb01.exercise_4, history(0.10, steps=47), 0.3, 0.81, 6000, 1024, profile="quick")
    assert "x learning rate: expected at most 0.05, found 0.3" in msg
    assert "x steps per epoch: expected 6, found 47" in msg and "batch_size=1024" in msg


def test_a_missing_model_is_named():
    msg = failure(nb01.exercise_2, None, None, profile="smoke")
    assert "x your answer is written: model, history are still None (the placeholder)" in msg
