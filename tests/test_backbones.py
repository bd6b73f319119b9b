"""Tests of seminar_utils.backbones: the registry, sizes, preprocessing, transfer models, freezing.

Everything runs with ``weights=None`` (no download) at small inputs; every backbone is built
once, at its minimum size. ``keras.backend.clear_session()`` runs after each test.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from seminar_utils import backbones as bb  # noqa: E402

# Measured once with Keras 3.15 (weights=None, include_top=False):
# name: (native size, minimum size, features, params without top, preprocessing, blocks)
EXPECTED = {
    "DenseNet121": (224, 32, 1024, 7_037_504, "torch", 58),
    "DenseNet169": (224, 32, 1664, 12_642_880, "torch", 82),
    "DenseNet201": (224, 32, 1920, 18_321_984, "torch", 98),
    "EfficientNetB0": (224, 32, 1280, 4_049_571, "none", 16),
    "EfficientNetB1": (240, 32, 1280, 6_575_239, "none", 23),
    "InceptionV3": (299, 75, 2048, 21_802_784, "tf", 11),
    "MobileNetV2": (224, 32, 1280, 2_257_984, "tf", 17),
    "MobileNetV3Large": (224, 32, 960, 2_996_352, "none", 15),
    "ResNet152V2": (224, 32, 2048, 58_331_648, "tf", 50),
    "ResNet50": (224, 32, 2048, 23_587_712, "caffe", 16),
    "ResNet50V2": (224, 32, 2048, 23_564_800, "tf", 16),
    "VGG16": (224, 32, 512, 14_714_688, "caffe", 5),
    "VGG19": (224, 32, 512, 20_024_384, "caffe", 5),
    "Xception": (299, 71, 2048, 20_861_480, "tf", 14),
    "MobileNet": (224, 32, 1024, 3_228_864, "tf", 13),
    "InceptionResNetV2": (299, 75, 1536, 54_336_736, "tf", 43),
}

# Published totals WITH the ImageNet classifier (keras.io/api/applications table, also in the
# source course's slides). Removing the classifier must give our no-top counts.
PUBLISHED_WITH_TOP = {
    "Xception": 22_910_480, "VGG16": 138_357_544, "VGG19": 143_667_240,
    "ResNet50": 25_636_712, "ResNet50V2": 25_613_800, "ResNet152V2": 60_380_648,
    "InceptionV3": 23_851_784, "InceptionResNetV2": 55_873_736, "MobileNet": 4_253_864,
    "MobileNetV2": 3_538_984, "DenseNet121": 8_062_504, "DenseNet169": 14_307_880,
    "DenseNet201": 20_242_984, "EfficientNetB0": 5_330_571, "EfficientNetB1": 7_856_239,
}

FAMILY_MODULE = {  # the keras.applications module whose preprocess_input each backbone uses
    "DenseNet121": "densenet", "DenseNet169": "densenet", "DenseNet201": "densenet",
    "EfficientNetB0": "efficientnet", "EfficientNetB1": "efficientnet",
    "InceptionV3": "inception_v3", "MobileNetV2": "mobilenet_v2",
    "MobileNetV3Large": "mobilenet_v3", "ResNet152V2": "resnet_v2", "ResNet50": "resnet",
    "ResNet50V2": "resnet_v2", "VGG16": "vgg16", "VGG19": "vgg19", "Xception": "xception",
    "MobileNet": "mobilenet", "InceptionResNetV2": "inception_resnet_v2",
}


@pytest.fixture(autouse=True)
def _fresh_session():
    yield
    keras.backend.clear_session()


def _pixels(shape=(2, 8, 8, 3), seed=0):
    return np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")


# ----------------------------------------------------------------------------- the registry

def test_registry_lists_the_16_backbones_and_the_source_14():
    assert sorted(bb.names()) == sorted(EXPECTED)
    assert len(bb.names(source_only=True)) == 14
    assert set(bb.names(source_only=True)) == set(EXPECTED) - {"MobileNet", "InceptionResNetV2"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_spec_matches_measured_values_and_keras_functions(name):
    spec = bb.get_spec(name)
    native, minimum, features, params, mode, _ = EXPECTED[name]
    assert (spec.native_size, spec.min_size, spec.features, spec.params_no_top, spec.preprocessing) \
        == (native, minimum, features, params, mode)
    assert spec.constructor is getattr(keras.applications, name)
    assert spec.preprocess_input is getattr(keras.applications, FAMILY_MODULE[name]).preprocess_input
    assert spec.rescales_internally == (name.startswith("EfficientNet") or name == "MobileNetV3Large")
    assert spec.input_range == (0.0, 255.0)


def test_published_counts_minus_the_imagenet_classifier_give_our_no_top_counts():
    assert bb.get_spec("ResNet50").params_no_top == 23_587_712
    assert bb.get_spec("VGG16").params_no_top == 14_714_688
    assert bb.get_spec("MobileNetV2").params_no_top == 2_257_984
    vgg_classifier = (7 * 7 * 512 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000)
    for name, total in PUBLISHED_WITH_TOP.items():
        spec = bb.get_spec(name)
        classifier = vgg_classifier if name.startswith("VGG") else spec.features * 1000 + 1000
        assert total - classifier == spec.params_no_top, name


def test_get_spec_is_case_insensitive():
    assert bb.get_spec("resnet50v2").name == "ResNet50V2"
    assert bb.get_spec("  EFFICIENTNETB0 ").name == "EfficientNetB0"


def test_unknown_name_lists_close_matches_and_all_names():
    with pytest.raises(bb.UnknownBackboneError) as info:
        bb.get_spec("resnet5")
    msg = str(info.value)
    assert isinstance(info.value, KeyError)
    assert msg.startswith("Unknown backbone 'resnet5'. Did you mean: ")
    hint = msg.split("Did you mean: ")[1].split("?")[0]
    assert "ResNet50" in hint and "ResNet50V2" in hint
    assert all(n in msg.split("Valid names: ")[1] for n in EXPECTED)
    # The source project's table misspells MobileNetV3Large as "MobileNetV2Large".
    with pytest.raises(KeyError, match="Did you mean: .*MobileNetV3Large"):
        bb.get_spec("MobileNetV2Large")


# ----------------------------------------------------------------------------- sizes

@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_backbone_builds_and_runs_at_its_minimum_size(name):
    native, minimum, features, params, _, n_blocks = EXPECTED[name]
    base = bb.build_backbone(name, minimum, pooling="avg")
    assert base.input.shape == (None, minimum, minimum, 3)
    assert base.output.shape == (None, features)
    assert isinstance(base.layers[-1], keras.layers.GlobalAveragePooling2D)
    assert base.layers[-1].count_params() == 0          # pooling adds no parameters
    assert base.count_params() == params
    has_rescaling = any(isinstance(layer, keras.layers.Rescaling) for layer in base.layers)
    assert has_rescaling == bb.get_spec(name).rescales_internally
    assert len(bb.blocks(base)) == n_blocks
    out = keras.ops.convert_to_numpy(base(np.zeros((1, minimum, minimum, 3), "float32")))
    assert out.shape == (1, features) and np.isfinite(out).all()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_one_pixel_below_the_minimum_is_refused_by_us_and_by_keras(name):
    minimum = EXPECTED[name][1]
    small = minimum - 1
    with pytest.raises(ValueError, match=rf"^{name} needs inputs of at least {minimum}x{minimum} "
                                         rf"pixels; got {small}x{small}\. "):
        bb.build_backbone(name, (small, small, 3))
    with pytest.raises(ValueError, match=rf"{name} needs inputs of at least"):
        bb.build_backbone(name, (224, small, 3))
    # Keras itself agrees on the number (it checks before building anything).
    with pytest.raises(ValueError, match=rf"Input size must be at least {minimum}x{minimum}"):
        getattr(keras.applications, name)(weights=None, include_top=False,
                                          input_shape=(small, small, 3))


def test_default_input_is_the_native_size():
    base = bb.build_backbone("EfficientNetB1")
    assert base.input.shape == (None, 240, 240, 3)
    assert bb.get_spec("Xception").native_shape == (299, 299, 3)


def test_imagenet_classifier_requires_the_native_size():
    with pytest.raises(ValueError, match=r"InceptionV3 with include_top=True and ImageNet weights "
                                         r"takes only its native input \(299, 299, 3\)"):
        bb.build_backbone("InceptionV3", 224, weights="imagenet", include_top=True)
    with pytest.raises(ValueError, match=r"MobileNetV2 with include_top=True and ImageNet weights "
                                         r"takes square 3-channel inputs of 96, 128, 160, 192, 224"):
        bb.build_backbone("MobileNetV2", 100, weights="imagenet", include_top=True)


def test_failed_weight_download_names_the_model_and_the_fallback(monkeypatch):
    from seminar_utils.data import AssetUnavailable

    def offline(**kwargs):
        raise Exception("URL fetch failure on https://example/x_notop.h5: None -- no network")

    fake = dataclasses.replace(bb.get_spec("MobileNetV2"), constructor=offline)
    monkeypatch.setitem(bb.BACKBONES, "MobileNetV2", fake)
    with pytest.raises(AssetUnavailable, match=r"(?s)'imagenet' weights of MobileNetV2.*weights=None"):
        bb.build_backbone("MobileNetV2", 32, weights="imagenet")


# ----------------------------------------------------------------------------- preprocessing

@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_preprocess_equals_the_family_function_and_leaves_the_input_alone(name):
    family_fn = getattr(keras.applications, FAMILY_MODULE[name]).preprocess_input
    x = _pixels()
    before = x.copy()
    out = bb.preprocess(name, x)
    np.testing.assert_array_equal(x, before)                       # caller's array untouched
    assert out is not x and not np.shares_memory(out, x)
    np.testing.assert_array_equal(out, family_fn(before.copy()))
    # uint8 images: converted to float32 first, exactly as the family function does.
    u8 = (before).astype("uint8")
    out8 = bb.preprocess(name, u8)
    assert out8.dtype == np.float32 and u8.dtype == np.uint8
    np.testing.assert_array_equal(out8, family_fn(u8.astype("float32")))
    # Tensors in, tensors out, same numbers; and the in-model layer agrees.
    out_t = keras.ops.convert_to_numpy(bb.preprocess(name, keras.ops.convert_to_tensor(before)))
    np.testing.assert_allclose(out_t, out, rtol=1e-6, atol=1e-4)
    out_layer = keras.ops.convert_to_numpy(bb.Preprocess(name)(before))
    np.testing.assert_allclose(out_layer, out, rtol=1e-6, atol=1e-4)


def test_preprocessing_modes_give_the_documented_numbers():
    red = np.array([[[[255.0, 0.0, 0.0]]]], dtype="float32")
    np.testing.assert_allclose(bb.preprocess("ResNet50", red)[0, 0, 0],       # caffe: BGR - mean
                               [-103.939, -116.779, 255 - 123.68], rtol=1e-5)
    np.testing.assert_allclose(bb.preprocess("ResNet50V2", red)[0, 0, 0], [1, -1, -1])   # tf
    np.testing.assert_allclose(bb.preprocess("DenseNet121", red)[0, 0, 0],              # torch
                               [(1 - 0.485) / 0.229, -0.456 / 0.224, -0.406 / 0.225], rtol=1e-5)
    np.testing.assert_array_equal(bb.preprocess("EfficientNetB0", red), red)            # none
    np.testing.assert_array_equal(bb.preprocess("MobileNetV3Large", red), red)


# ----------------------------------------------------------------------------- transfer models

def test_transfer_model_layout_and_output():
    m = bb.build_transfer_model("MobileNetV2", (32, 32, 3), num_classes=10)
    assert m.output.shape == (None, 10)
    assert [layer.name for layer in m.layers] == [
        "image", "preprocess", "backbone", "gap", "head_dense", "head_dropout", "predictions"]
    assert m.get_layer("backbone").trainable is False
    assert len(m.trainable_weights) == 4                          # two Dense layers
    assert m.get_layer("predictions").activation.__name__ == "softmax"
    out = keras.ops.convert_to_numpy(m(_pixels((2, 32, 32, 3))))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_transfer_model_resizes_small_images_up_to_the_backbone_minimum():
    with pytest.raises(ValueError, match=r"InceptionV3 needs inputs of at least 75x75 pixels; "
                                         r"got 32x32.*resize_to=75"):
        bb.build_transfer_model("InceptionV3", (32, 32, 3), num_classes=10)
    with pytest.raises(ValueError, match="at least 75x75 pixels; got 64x64"):
        bb.build_transfer_model("InceptionV3", (32, 32, 3), num_classes=10, resize_to=64)
    flip = keras.layers.RandomFlip("horizontal", name="augment")
    m = bb.build_transfer_model("InceptionV3", (32, 32, 3), num_classes=10, resize_to=75,
                                augmentation=flip, head="flatten", dense_units=None, dropout=0.0)
    assert [layer.name for layer in m.layers] == [
        "image", "resize", "augment", "preprocess", "backbone", "flatten", "predictions"]
    assert m.get_layer("resize").output.shape == (None, 75, 75, 3)
    assert m.get_layer("backbone").input.shape == (None, 75, 75, 3)
    assert m.output.shape == (None, 10)


def test_binary_head_is_one_sigmoid_unit():
    m = bb.build_transfer_model("VGG16", (32, 32, 3), num_classes=2, binary=True, dense_units=0)
    assert m.output.shape == (None, 1)
    assert m.get_layer("predictions").activation.__name__ == "sigmoid"
    with pytest.raises(ValueError, match="binary=True"):
        bb.build_transfer_model("VGG16", (32, 32, 3), num_classes=3, binary=True)
    with pytest.raises(ValueError, match="head must be"):
        bb.build_transfer_model("VGG16", (32, 32, 3), num_classes=3, head="max")


def test_transfer_model_saves_to_keras_format_and_reloads(tmp_path):
    flip = keras.layers.RandomFlip("horizontal", name="augment")
    m = bb.build_transfer_model("MobileNetV2", (32, 32, 3), num_classes=3, augmentation=flip)
    x = _pixels((2, 32, 32, 3))
    path = tmp_path / "transfer.keras"
    m.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)),
                               keras.ops.convert_to_numpy(m(x)), atol=1e-6)
    assert loaded.get_layer("preprocess").backbone == "MobileNetV2"
    # The family is still known after reloading (from the Preprocess layer): blocks work.
    assert bb.set_trainable(loaded, top_blocks=1) == bb.blocks(m)[-1][1]


# ----------------------------------------------------------------------------- freezing

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
    assert bb.set_trainable(base, top_blocks=3, keep_bn_frozen=False) == 154
    assert len(source.trainable_weights) == 38


def test_resnet50v2_transfer_model_reproduces_176_and_38():
    m = bb.build_transfer_model("ResNet50V2", (64, 64, 3), num_classes=10)  # GAP head
    assert bb.trainable_summary(m, show=False)["trainable_tensors"] == 4
    bb.set_trainable(m, "all", keep_bn_frozen=False)
    assert len(m.trainable_weights) == 176
    for how in ({"from_layer": "conv5_block1_preact_bn"}, {"from_index": 154}, {"top_blocks": 3}):
        assert bb.set_trainable(m, keep_bn_frozen=False, **how) == 154
        assert len(m.trainable_weights) == 38, how
    # Keeping BatchNorm frozen leaves out the 10 BN layers of conv5 (gamma + beta each).
    assert bb.set_trainable(m, from_layer="conv5_block1_preact_bn") == 154
    assert len(m.trainable_weights) == 18
    base = m.get_layer("backbone")
    assert not any(layer.trainable for layer in base.layers
                   if isinstance(layer, keras.layers.BatchNormalization))
    summary = bb.trainable_summary(m, show=False)
    assert summary["trainable_tensors"] == 18
    assert summary["trainable_tensors"] + summary["non_trainable_tensors"] == len(m.weights)
    bb.freeze(m)
    assert len(m.trainable_weights) == 4


def test_resnet50_index_143_is_the_start_of_conv5():
    base = bb.build_backbone("ResNet50", 32)
    flags = []
    for how in ({"from_index": 143}, {"from_layer": "conv5_block1_1_conv"}, {"top_blocks": 3},
                {"from_index": 143 - len(base.layers)}):
        assert bb.set_trainable(base, **how) == 143
        flags.append([layer.trainable for layer in base.layers])
    assert all(f == flags[0] for f in flags)
    assert base.layers[142].name == "conv4_block6_out" and not base.layers[142].trainable
    assert base.layers[143].trainable and not base.get_layer("conv5_block1_1_bn").trainable
    assert [b for b, _ in bb.blocks(base)[-3:]] == ["conv5_block1", "conv5_block2", "conv5_block3"]


def test_inceptionv3_top_two_blocks_start_at_layer_249():
    # The Keras guide's InceptionV3 fine-tuning: freeze the first 249 layers, train the rest.
    base = bb.build_backbone("InceptionV3", 75)
    assert bb.set_trainable(base, top_blocks=2, keep_bn_frozen=False) == 249
    assert base.layers[248].name == "mixed8" and not base.layers[248].trainable
    assert all(layer.trainable for layer in base.layers[249:])
    assert [b for b, _ in bb.blocks(base)][-2:] == ["mixed9", "mixed10"]


def test_vgg16_blocks_and_mode_all_none():
    base = bb.build_backbone("VGG16", 32)
    assert bb.blocks(base) == [("block1", 1), ("block2", 4), ("block3", 7), ("block4", 11),
                               ("block5", 15)]
    bb.set_trainable(base, top_blocks=1)
    assert [layer.name for layer in base.layers if layer.trainable and layer.weights] == [
        "block5_conv1", "block5_conv2", "block5_conv3"]
    assert bb.set_trainable(base, "none") == len(base.layers)
    assert base.trainable_weights == []
    assert bb.set_trainable(base, "all") == 0
    assert len(base.trainable_weights) == 26
    assert bb.set_trainable(base, top_blocks=0) == len(base.layers)
    assert base.trainable_weights == []


def test_freeze_helpers_explain_bad_arguments():
    base = bb.build_backbone("ResNet50V2", 32)
    with pytest.raises(ValueError, match="no layer 'conv5_block1_preact'.*Closest: "
                                         "conv5_block1_preact_bn"):
        bb.set_trainable(base, from_layer="conv5_block1_preact")
    with pytest.raises(ValueError, match="exactly one of"):
        bb.set_trainable(base)
    with pytest.raises(ValueError, match="exactly one of"):
        bb.set_trainable(base, "all", from_index=3)
    with pytest.raises(ValueError, match=r"top_blocks must be in \[0, 16\].*conv2_block1 \.\.\. "
                                         r"conv5_block3"):
        bb.set_trainable(base, top_blocks=17)
    with pytest.raises(ValueError, match="from_index must be in"):
        bb.set_trainable(base, from_index=1000)
    with pytest.raises(ValueError, match="mode must be"):
        bb.set_trainable(base, "some")
    plain = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, name="c")],
                             name="mine")
    with pytest.raises(ValueError, match="Cannot tell which backbone"):
        bb.set_trainable(plain, top_blocks=1)
    assert bb.set_trainable(plain, from_layer="c") == 0      # names and indices work on any model


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
    bb.set_trainable(m, "all", keep_bn_frozen=False)
    m(x, training=True)
    assert not np.allclose(keras.ops.convert_to_numpy(bn.moving_mean), mean0)


def test_trainable_summary_prints_a_table(capsys):
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.BatchNormalization()],
                         name="tiny")
    out = bb.trainable_summary(m)
    assert out == {"trainable_tensors": 4, "trainable_params": 21,
                   "non_trainable_tensors": 2, "non_trainable_params": 6}
    assert capsys.readouterr().out.splitlines() == [
        "tiny:",
        "                 weight tensors  parameters",
        "  trainable                   4          21",
        "  non-trainable               2           6",
        "  total                       6          27",
    ]
