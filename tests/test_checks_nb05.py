"""Notebook 05's exercise checks: the reference answers pass, typical mistakes fail with their hint.

Small objects only: a two-block stand-in base (the course's Conv-BN-ReLU blocks at 4 and 8
filters) under a tiny head, "phase 1" saved to a temporary file, a few steps on random pixels;
exercise 2 builds the source's ResNet50V2 model with random weights (structure only).
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from seminar_utils import backbones as bb  # noqa: E402
from seminar_utils import freezing, pretrained  # noqa: E402
from seminar_utils.checks import ExerciseFailed, nb05  # noqa: E402

L = keras.layers
TOP = "block2_conv"                      # the top block of the two-block base


@pytest.fixture(autouse=True)
def _smoke_profile(monkeypatch):
    monkeypatch.setenv("SEMINAR_PROFILE", "smoke")
    yield
    keras.backend.clear_session()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (16, 16, 16, 3)).astype("float32")
    y = rng.integers(0, 2, (16, 1)).astype("float32")
    return x, y


@pytest.fixture(scope="module")
def phase1(tmp_path_factory, data):
    """A phase-1 model file: a frozen two-block base (named "backbone") under a trained head."""
    keras.utils.set_random_seed(0)
    base = pretrained.standin_architecture((4, 8), name="tiny_base")
    model = bb.build_transfer_model(base, (16, 16, 3), 2, binary=True, dense_units=8, dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(*data, epochs=1, verbose=0)
    path = tmp_path_factory.mktemp("nb05") / "phase1.keras"
    model.save(path)
    return path


def fit(model, data, epochs=2):
    x, y = data
    return model.fit(x, y, validation_data=(x, y), epochs=epochs, batch_size=8, verbose=0)


def failure(fn, **kwargs) -> str:
    with pytest.raises(ExerciseFailed) as err:
        fn(**kwargs)
    return str(err.value)


# ----------------------------------------------------------------------------- exercise 1

def exercise_1_answer(path, data, lr=1e-4, keep_bn=True, top=TOP, epochs=2):
    """The reference solution, with switches for the typical mistakes."""
    model = keras.models.load_model(path)
    base = model.get_layer("backbone")
    base.trainable = True
    unfreeze = False
    for layer in base.layers:
        if layer.name == top:
            unfreeze = True
        conv_or_bn = isinstance(layer, L.Conv2D) or not keep_bn
        layer.trainable = unfreeze and conv_or_bn
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=lr), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model, fit(model, data, epochs)


def check_1(model, history, path, lr=1e-4, epochs=2):
    return nb05.exercise_1(model=model, history=history, start_from=path, top_block_start=TOP,
                           learning_rate=lr, epochs=epochs, real=False)


def test_exercise_1_reference_passes(phase1, data, capsys):
    model, history = exercise_1_answer(phase1, data)
    check_1(model, history, phase1)
    assert "Exercise 1: 8 of 8 checks passed" in capsys.readouterr().out


def test_exercise_1_passes_without_base_trainable_true(phase1, data, capsys):
    # Keras 3: each weight's own flag decides what fit() trains, even in a base reading False.
    model = keras.models.load_model(phase1)
    base = model.get_layer("backbone")
    base.get_layer(TOP).trainable = True
    assert not base.trainable
    model.compile(optimizer=keras.optimizers.RMSprop(1e-4), loss="binary_crossentropy",
                  metrics=["accuracy"])
    check_1(model, fit(model, data), phase1)
    assert "Exercise 1: 8 of 8 checks passed" in capsys.readouterr().out


def test_exercise_1_batchnorm_trained_fails_with_its_hint(phase1, data):
    model, history = exercise_1_answer(phase1, data, keep_bn=False)
    msg = failure(check_1, model=model, history=history, path=phase1)
    assert "the right layers of the base train" in msg and "extra block2_bn" in msg
    assert "BatchNormalization layers train: keep them frozen" in msg


def test_exercise_1_nothing_unfrozen_fails_with_its_hint(phase1, data):
    model, history = exercise_1_answer(phase1, data, top="block2")      # no layer has that name
    msg = failure(check_1, model=model, history=history, path=phase1)
    assert "nothing in the base trains: does the loop's flag turn on" in msg
    assert "the top block's convolutions moved: 0 of 1 changed" in msg


def test_exercise_1_wrong_rate_and_epochs_fail(phase1, data):
    model, history = exercise_1_answer(phase1, data, lr=1e-2, epochs=1)
    msg = failure(check_1, model=model, history=history, path=phase1)
    assert "learning rate: expected 0.0001" in msg and "found 0.01" in msg
    assert "epochs trained: expected 2, found 1" in msg


def test_exercise_1_too_much_unfrozen_fails(phase1, data):
    model = keras.models.load_model(phase1)
    freezing.set_trainable(model, "all")                   # every convolution, not just the top
    model.compile(optimizer=keras.optimizers.RMSprop(1e-4), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = fit(model, data)
    msg = failure(check_1, model=model, history=history, path=phase1)
    assert "extra block1_conv" in msg and "layers below the top block train too" in msg
    assert "kept their pretrained weights: some weights below the top block changed" in msg


def test_exercise_1_floor_applies_to_real_runs(phase1, data, monkeypatch):
    monkeypatch.setenv("SEMINAR_PROFILE", "quick")
    model, history = exercise_1_answer(phase1, data)
    history.history["val_accuracy"] = [0.5, 0.5]
    msg = failure(nb05.exercise_1, model=model, history=history, start_from=phase1,
                  top_block_start=TOP, learning_rate=1e-4, epochs=2, real=True)
    assert f"best validation accuracy: expected at least {nb05.ACCURACY_FLOORS['quick']:.4g}" in msg


# ----------------------------------------------------------------------------- exercise 2

def source_model(first_layer="conv4_block1_preact_bn", keep_bn=True):
    base = keras.applications.ResNet50V2(weights=None, include_top=False, input_shape=(224, 224, 3))
    x = L.AveragePooling2D(pool_size=(7, 7))(base.output)
    x = L.Dropout(0.5)(L.Dense(256, activation="relu")(L.Flatten()(x)))
    model = keras.Model(base.input, L.Dense(10, activation="softmax")(x))
    base.trainable = True
    unfreeze = False
    for layer in base.layers:
        if layer.name == first_layer:
            unfreeze = True
        layer.trainable = unfreeze and not (keep_bn and isinstance(layer, L.BatchNormalization))
    return base, model


def test_exercise_2_reference_passes(capsys):
    base, model = source_model()
    blocks = sum(b.startswith(("conv4", "conv5")) for b, _ in freezing.blocks(base))
    assert blocks == 9
    nb05.exercise_2(model=model, base=base, blocks=blocks, trainable_tensors=len(model.trainable_weights))
    assert "Exercise 2: 4 of 4 checks passed" in capsys.readouterr().out
    # conv5 alone is 18 (section 2); conv4 adds its 6 blocks' convolutions.
    assert len(model.trainable_weights) > 18


def test_exercise_2_mistakes_fail_with_their_hints():
    base, model = source_model(keep_bn=False)
    msg = failure(nb05.exercise_2, model=model, base=base, blocks=6,
                  trainable_tensors=len(model.trainable_weights) - 1)
    assert "blocks in conv4 + conv5: expected 9, found 6" in msg and "3, 4, 6 and 3 blocks" in msg
    assert "extra conv4_block1_preact_bn" in msg and "(layer.trainable = False" in msg
    assert "trainable weight tensors you reported" in msg
    keras.backend.clear_session()
    base, model = source_model(first_layer="conv5_block1_preact_bn")   # only conv5
    msg = failure(nb05.exercise_2, model=model, base=base, blocks=9,
                  trainable_tensors=len(model.trainable_weights))
    assert "missing conv4_block1_1_conv" in msg and "still frozen" in msg


# ----------------------------------------------------------------------------- exercise 3

def exercise_3_answer(path, data, keep_bn=False, copy=True):
    model = keras.models.load_model(path)
    first = freezing.set_trainable(model, from_layer=TOP, keep_bn_frozen=keep_bn)
    bn = next(layer for layer in model.get_layer("backbone").layers[first:]
              if isinstance(layer, L.BatchNormalization))
    mean0 = keras.ops.convert_to_numpy(bn.moving_mean)
    mean0 = mean0.copy() if copy else bn.moving_mean
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = fit(model, data)
    drift = float(np.abs(keras.ops.convert_to_numpy(bn.moving_mean)
                         - keras.ops.convert_to_numpy(mean0)).mean())
    return model, history, drift


def check_3(model, history, path, drift, epochs=2):
    return nb05.exercise_3(model=model, history=history, start_from=path, top_block_start=TOP,
                           drift=drift, epochs=epochs, real=False)


def test_exercise_3_reference_passes(phase1, data, capsys):
    model, history, drift = exercise_3_answer(phase1, data)
    assert drift > 0
    check_3(model, history, phase1, drift)
    assert "Exercise 3: 6 of 6 checks passed" in capsys.readouterr().out


def test_exercise_3_batchnorm_kept_frozen_fails(phase1, data):
    model, history, drift = exercise_3_answer(phase1, data, keep_bn=True)
    msg = failure(check_3, model=model, history=history, path=phase1, drift=drift)
    assert "BatchNorm layers of the top block train" in msg and "keep_bn_frozen=False" in msg
    assert "moving mean moved" in msg


def test_exercise_3_drift_against_itself_fails(phase1, data):
    model, history, drift = exercise_3_answer(phase1, data, copy=False)
    assert drift == 0.0                                   # the variable compared with itself
    msg = failure(check_3, model=model, history=history, path=phase1, drift=drift)
    assert "the drift you measured" in msg and ".copy()" in msg


def test_exercise_3_base_without_batchnorm_checks_the_rest(tmp_path, data, capsys):
    keras.utils.set_random_seed(0)
    inner = keras.Sequential([keras.Input((16, 16, 3)), L.Conv2D(4, 3, name="block1_conv"),
                              L.Conv2D(4, 3, name="block2_conv")], name="plain")
    model = bb.build_transfer_model(inner, (16, 16, 3), 2, binary=True, dense_units=4, dropout=0.0)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    path = tmp_path / "plain.keras"
    model.save(path)
    freezing.set_trainable(model, from_layer=TOP, keep_bn_frozen=False)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = fit(model, data)
    check_3(model, history, path, None)                    # no BatchNorm: no drift to check
    assert "Exercise 3: 4 of 4 checks passed" in capsys.readouterr().out


def test_a_model_without_backbone_is_explained(data):
    model = keras.Sequential([keras.Input((4,)), L.Dense(1)])
    msg = failure(nb05.exercise_1, model=model, history=keras.callbacks.History(), start_from="x.keras",
                  top_block_start=TOP, learning_rate=1e-4, epochs=1)
    assert "no layer named 'backbone'" in msg and "keras.models.load_model(phase1_path)" in msg
