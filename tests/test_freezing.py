"""Tests of seminar_utils.freezing: blocks, set_trainable by name / index / top blocks, BatchNorm.

Everything runs with ``weights=None`` at small inputs; ``keras.backend.clear_session()`` runs
after each test.
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from seminar_utils import backbones as bb  # noqa: E402
from seminar_utils import freezing as fz  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_session():
    yield
    keras.backend.clear_session()


def _pixels(shape=(2, 8, 8, 3), seed=0):
    return np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")


def test_resnet50v2_source_counts_176_then_38():
    # The source project's model, literally: AveragePooling2D(7) + Flatten + Dense(256) +
    # Dropout(0.5) + Dense(10) on ResNet50V2(include_top=False) at 224.
    base = keras.applications.ResNet50V2(weights=None, include_top=False, input_shape=(224, 224, 3))
    x = keras.layers.AveragePooling2D(pool_size=(7, 7))(base.output)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(256, activation="relu")(x)
    x = keras.layers.Dropout(0.5)(x)
    x = keras.layers.Dense(10, activation="softmax")(x)
    source = keras.Model(base.input, x)
    base.trainable = True
    assert len(source.trainable_weights) == 176
    unfreeze = False
    for layer in base.layers:
        if layer.name == "conv5_block1_preact_bn":
            unfreeze = True
        layer.trainable = unfreeze
    assert len(source.trainable_weights) == 38
    # set_trainable on the raw Keras model (family found from Keras's name) does the same.
    assert fz.set_trainable(base, top_blocks=3, keep_bn_frozen=False) == 154
    assert len(source.trainable_weights) == 38


def test_resnet50v2_transfer_model_reproduces_176_and_38():
    m = bb.build_transfer_model("ResNet50V2", (64, 64, 3), num_classes=10)  # GAP head
    assert fz.trainable_summary(m, show=False)["trainable_tensors"] == 4
    fz.set_trainable(m, "all", keep_bn_frozen=False)
    assert len(m.trainable_weights) == 176
    for how in ({"from_layer": "conv5_block1_preact_bn"}, {"from_index": 154}, {"top_blocks": 3}):
        assert fz.set_trainable(m, keep_bn_frozen=False, **how) == 154
        assert len(m.trainable_weights) == 38, how
    # Keeping BatchNorm frozen leaves out the 10 BN layers of conv5 (gamma + beta each).
    assert fz.set_trainable(m, from_layer="conv5_block1_preact_bn") == 154
    assert len(m.trainable_weights) == 18
    base = m.get_layer("backbone")
    assert not any(layer.trainable for layer in base.layers
                   if isinstance(layer, keras.layers.BatchNormalization))
    summary = fz.trainable_summary(m, show=False)
    assert summary["trainable_tensors"] == 18
    assert summary["trainable_tensors"] + summary["non_trainable_tensors"] == len(m.weights)
    assert fz.set_trainable(m, "none") == len(base.layers)      # feature extraction again
    assert len(m.trainable_weights) == 4


def test_resnet50_index_143_is_the_start_of_conv5():
    base = bb.build_backbone("ResNet50", 32)
    flags = []
    for how in ({"from_index": 143}, {"from_layer": "conv5_block1_1_conv"}, {"top_blocks": 3},
                {"from_index": 143 - len(base.layers)}):
        assert fz.set_trainable(base, **how) == 143
        flags.append([layer.trainable for layer in base.layers])
    assert all(f == flags[0] for f in flags)
    assert base.layers[142].name == "conv4_block6_out" and not base.layers[142].trainable
    assert base.layers[143].trainable and not base.get_layer("conv5_block1_1_bn").trainable
    assert [b for b, _ in fz.blocks(base)[-3:]] == ["conv5_block1", "conv5_block2", "conv5_block3"]


def test_inceptionv3_top_two_blocks_start_at_layer_249():
    # The Keras guide's InceptionV3 fine-tuning: freeze the first 249 layers, train the rest.
    base = bb.build_backbone("InceptionV3", 75)
    assert fz.set_trainable(base, top_blocks=2, keep_bn_frozen=False) == 249
    assert base.layers[248].name == "mixed8" and not base.layers[248].trainable
    assert all(layer.trainable for layer in base.layers[249:])
    assert [b for b, _ in fz.blocks(base)][-2:] == ["mixed9", "mixed10"]


def test_vgg16_blocks_and_mode_all_none():
    base = bb.build_backbone("VGG16", 32)
    assert fz.blocks(base) == [("block1", 1), ("block2", 4), ("block3", 7), ("block4", 11),
                               ("block5", 15)]
    fz.set_trainable(base, top_blocks=1)
    assert [layer.name for layer in base.layers if layer.trainable and layer.weights] == [
        "block5_conv1", "block5_conv2", "block5_conv3"]
    assert fz.set_trainable(base, "none") == len(base.layers)
    assert base.trainable_weights == []
    assert fz.set_trainable(base, "all") == 0
    assert len(base.trainable_weights) == 26
    assert fz.set_trainable(base, top_blocks=0) == len(base.layers)
    assert base.trainable_weights == []


def test_freeze_helpers_explain_bad_arguments():
    base = bb.build_backbone("ResNet50V2", 32)
    with pytest.raises(ValueError, match="no layer 'conv5_block1_preact'.*Closest: "
                                         "conv5_block1_preact_bn"):
        fz.set_trainable(base, from_layer="conv5_block1_preact")
    with pytest.raises(ValueError, match="exactly one of"):
        fz.set_trainable(base)
    with pytest.raises(ValueError, match="exactly one of"):
        fz.set_trainable(base, "all", from_index=3)
    with pytest.raises(ValueError, match=r"top_blocks must be in \[0, 16\].*conv2_block1 \.\.\. "
                                         r"conv5_block3"):
        fz.set_trainable(base, top_blocks=17)
    with pytest.raises(ValueError, match="from_index must be in"):
        fz.set_trainable(base, from_index=1000)
    with pytest.raises(ValueError, match="mode must be"):
        fz.set_trainable(base, "some")
    plain = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, name="c")],
                             name="mine")
    with pytest.raises(ValueError, match="Cannot tell which backbone"):
        fz.set_trainable(plain, top_blocks=1)
    assert fz.set_trainable(plain, from_layer="c") == 0      # names and indices work on any model


def test_frozen_batchnorm_stays_in_inference_mode_even_when_training():
    m = bb.build_transfer_model("MobileNetV2", (32, 32, 3), num_classes=3, base_trainable=True)
    bn = m.get_layer("backbone").get_layer("bn_Conv1")
    assert not bn.trainable and m.get_layer("backbone").get_layer("Conv1").trainable
    x = _pixels((4, 32, 32, 3))
    mean0 = keras.ops.convert_to_numpy(bn.moving_mean).copy()
    m(x, training=True)                      # what fit() does on each batch
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(bn.moving_mean), mean0)
    # Keras 3: with BatchNorm trainable, fit()'s training=True overrides the backbone's
    # training=False and the moving statistics move: keep_bn_frozen is what protects them.
    fz.set_trainable(m, "all", keep_bn_frozen=False)
    m(x, training=True)
    assert not np.allclose(keras.ops.convert_to_numpy(bn.moving_mean), mean0)


def test_trainable_summary_prints_a_table(capsys):
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.BatchNormalization()],
                         name="tiny")
    out = fz.trainable_summary(m)
    assert out == {"trainable_tensors": 4, "trainable_params": 21,
                   "non_trainable_tensors": 2, "non_trainable_params": 6}
    assert capsys.readouterr().out.splitlines() == [
        "tiny:",
        "               weight tensors  parameters",
        "-------------  --------------  ----------",
        "trainable                   4          21",
        "non-trainable               2           6",
        "total                       6          27",
    ]
