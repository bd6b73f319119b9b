"""Notebook 03's exercise checks: the reference answers pass, a typical mistake fails, with its hint."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from seminar_utils.checks import ExerciseFailed, nb03  # noqa: E402
from seminar_utils.mixup import sample_beta  # noqa: E402


def cut_mix(batch_one, batch_two, seed, alpha=1.0):
    """The notebook's reference solution of exercise 1 (sample_beta in place of its own sampler)."""
    (images_one, labels_one), (images_two, labels_two) = batch_one, batch_two
    shape = tf.shape(images_one)
    batch_size, height, width = shape[0], shape[1], shape[2]
    seed_lam, seed_y, seed_x = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    lam = sample_beta(alpha, batch_size, seed_lam)
    cut = tf.sqrt(1.0 - lam)
    box_h = tf.cast(cut * tf.cast(height, tf.float32), tf.int32)
    box_w = tf.cast(cut * tf.cast(width, tf.float32), tf.int32)
    centre_y = tf.random.stateless_uniform([batch_size], seed_y, 0, height, dtype=tf.int32)
    centre_x = tf.random.stateless_uniform([batch_size], seed_x, 0, width, dtype=tf.int32)
    top, bottom = tf.maximum(centre_y - box_h // 2, 0), tf.minimum(centre_y + box_h // 2, height)
    left, right = tf.maximum(centre_x - box_w // 2, 0), tf.minimum(centre_x + box_w // 2, width)
    rows = tf.range(height)[None, :, None]
    cols = tf.range(width)[None, None, :]
    inside = ((rows >= top[:, None, None]) & (rows < bottom[:, None, None])
              & (cols >= left[:, None, None]) & (cols < right[:, None, None]))
    mask = tf.cast(inside, tf.float32)[..., None]
    images = images_one * (1.0 - mask) + images_two * mask
    area = tf.reduce_mean(mask, axis=[1, 2, 3])[:, None]
    return images, labels_one * (1.0 - area) + labels_two * area


def _fails(fn, *args, match: str, **kwargs) -> str:
    with pytest.raises(ExerciseFailed, match=match) as err:
        fn(*args, **kwargs)
    return str(err.value)


def test_flat_batches_differ_everywhere():
    (x1, y1), (x2, y2) = nb03.flat_batches(8)
    assert x1.shape == x2.shape == (8, 32, 32, 3)
    assert not np.isin(x1, x2).any()
    assert (y1.argmax(1) != y2.argmax(1)).all() and np.allclose(y1.sum(1), 1)


def test_exercise_1_reference_passes(capsys):
    nb03.exercise_1(cut_mix)
    assert "9 of 9 checks passed" in capsys.readouterr().out


def test_exercise_1_blend_is_not_a_paste():
    def blend(one, two, seed, alpha=1.0):
        lam = 0.7
        return one[0] * lam + two[0] * (1 - lam), one[1] * lam + two[1] * (1 - lam)
    msg = _fails(nb03.exercise_1, blend, match="a paste, not a blend")
    assert "0/1 mask" in msg


def test_exercise_1_label_from_lambda_not_area():
    def from_lambda(one, two, seed, alpha=1.0):
        images, _ = cut_mix(one, two, seed, alpha)
        lam = sample_beta(alpha, tf.shape(one[0])[0], tf.random.experimental.stateless_split(seed, 3)[0])
        return images, one[1] * lam[:, None] + two[1] * (1 - lam[:, None])
    msg = _fails(nb03.exercise_1, from_lambda, match="partner label weight - pasted area")
    assert "after clipping" in msg


def test_exercise_1_stateful_random_ignores_the_seed():
    def stateful(one, two, seed, alpha=1.0):
        return cut_mix(one, two, tf.random.uniform([2], 0, 1000, dtype=tf.int64), alpha)
    msg = _fails(nb03.exercise_1, stateful, match="same seed gives the same boxes")
    assert "stateless" in msg


def test_exercise_1_numpy_inside_fails_in_tf_data():
    def eager_only(one, two, seed, alpha=1.0):
        images, labels = cut_mix(one, two, seed, alpha)
        return images.numpy(), labels.numpy()
    msg = _fails(nb03.exercise_1, eager_only, match="inside tf.data")
    assert "TensorFlow ops only" in msg


def test_exercise_1_a_crash_is_reported_with_the_signature():
    def crashes(one, two):
        return one
    msg = _fails(nb03.exercise_1, crashes, match="cut_mix runs on two batches")
    assert "TypeError" in msg


def _model(loss="categorical_crossentropy"):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


def test_exercise_2_reference_passes(capsys):
    model = _model()
    history = SimpleNamespace(history={"loss": [2.0, 1.5, 1.2]})
    nb03.exercise_2(model, history, 0.45, model.count_params(), 3, "quick")
    assert "5 of 5 checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("change, match, hint", [
    (dict(loss="sparse_categorical_crossentropy"), "soft labels", "categorical_crossentropy"),
    (dict(epochs=4), "epochs trained", "stage's epochs"),
    (dict(accuracy=0.2), "test accuracy", "mixup one"),
    (dict(params=123), "model parameters", "same model"),
])
def test_exercise_2_mistakes_fail(change, match, hint):
    model = _model(change.get("loss", "categorical_crossentropy"))
    history = SimpleNamespace(history={"loss": [2.0, 1.5, 1.2]})
    msg = _fails(nb03.exercise_2, model, history, change.get("accuracy", 0.45),
                 change.get("params", model.count_params()), change.get("epochs", 3), "quick",
                 match=match)
    assert hint in msg


def test_exercise_2_floor_depends_on_the_profile():
    model = _model()
    history = {"loss": [1.0]}
    nb03.exercise_2(model, history, 0.05, model.count_params(), 1, "smoke")
    with pytest.raises(ExerciseFailed):
        nb03.exercise_2(model, history, 0.05, model.count_params(), 1, "quick")
