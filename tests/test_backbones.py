"""Tests of seminar_utils.backbones: the registry, sizes, weights, preprocessing, transfer models.

Everything runs with ``weights=None`` (no download) at small inputs; every backbone is built
once, at its minimum size. ``keras.backend.clear_session()`` runs after each test.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from seminar_utils import backbones as bb  # noqa: E402
from seminar_utils import freezing as fz  # noqa: E402
from seminar_utils import weights as bb_weights  # noqa: E402
from weights_files import assert_same_weights, write_like_published  # noqa: E402

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
    assert len(fz.blocks(base)) == n_blocks
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


def test_failed_weight_download_names_the_model_and_the_fallback(monkeypatch, tmp_path):
    from seminar_utils.data import AssetUnavailable

    def offline(**kwargs):
        raise Exception("URL fetch failure on https://example/x_notop.h5: None -- no network")

    fake = dataclasses.replace(bb.get_spec("MobileNetV2"), constructor=offline)
    monkeypatch.setitem(bb.BACKBONES, "MobileNetV2", fake)
    monkeypatch.delenv("SEMINAR_OFFLINE", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))          # nothing cached
    monkeypatch.delenv("SEMINAR_DATA_MIRROR", raising=False)
    with pytest.raises(AssetUnavailable, match=r"(?s)ImageNet weights of MobileNetV2.*weights=None"):
        bb.build_backbone("MobileNetV2", 32, weights="imagenet")


# ----------------------------------------------------------------------------- ImageNet weights

def _record_requests(monkeypatch):
    """Stand in for Keras's downloader: record the file name each application asks for."""
    from keras.src.utils import file_utils   # test code may look inside Keras; the package may not
    asked = []

    class Stop(Exception):
        pass

    def get_file(fname=None, origin=None, **kwargs):
        asked.append(fname)
        raise Stop(fname)

    monkeypatch.setattr(file_utils, "get_file", get_file)
    return asked, Stop


@pytest.mark.parametrize("include_top", [False, True], ids=["no_top", "top"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_backbone_asks_keras_for_the_published_weight_file(name, include_top, monkeypatch,
                                                                 tmp_path):
    # The files under storage.googleapis.com/keras-applications (and MobileNet's
    # tensorflow/keras-applications): what a download in Colab must ask for.
    monkeypatch.delenv("SEMINAR_OFFLINE", raising=False)
    monkeypatch.delenv("SEMINAR_DATA_MIRROR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    asked, stop = _record_requests(monkeypatch)
    size = EXPECTED[name][0] if include_top else 96 if EXPECTED[name][1] <= 96 else EXPECTED[name][1]
    with pytest.raises(stop):
        # model_name="backbone" is what build_transfer_model uses: EfficientNet once asked
        # for "backbone_notop.h5" because Keras names its weight file after the model.
        bb.build_backbone(name, size, weights="imagenet", include_top=include_top,
                          model_name="backbone")
    assert asked == [bb_weights.weights_file(name, include_top, size)]
    assert "backbone" not in asked[0] and asked[0].endswith(".h5")
    if not include_top and name.startswith(("EfficientNet", "DenseNet", "VGG", "ResNet")):
        assert asked[0].startswith(name.lower()) and "notop" in asked[0]


def test_offline_means_no_connection_is_attempted(monkeypatch, tmp_path):
    import socket
    from seminar_utils.data import AssetUnavailable
    attempts = []

    def guard(self, *args, **kwargs):
        attempts.append(args)
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket.socket, "connect_ex", guard)
    monkeypatch.setenv("SEMINAR_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("SEMINAR_DATA_MIRROR", raising=False)
    with pytest.raises(AssetUnavailable, match=r"(?s)VGG16 \(vgg16_weights_tf_dim_ordering_tf_"
                                               r"kernels_notop\.h5\).*SEMINAR_OFFLINE=1"):
        bb.build_backbone("VGG16", 32, weights="imagenet")
    assert attempts == []
    # A file in Keras's cache is used, offline, without a connection either.
    model = bb.build_backbone("VGG16", 32)
    (tmp_path / "models").mkdir()
    cached = tmp_path / "models" / bb_weights.weights_file("VGG16")
    write_like_published(model, cached)
    loaded = bb.build_backbone("VGG16", 32, weights="imagenet")
    assert attempts == []
    assert_same_weights(loaded, cached)


def test_weights_in_the_offline_mirror_are_loaded_and_reported(monkeypatch, tmp_path):
    from seminar_utils import data
    mirror = tmp_path / "mirror"
    (mirror / "models").mkdir(parents=True)
    monkeypatch.setenv("SEMINAR_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("SEMINAR_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    fname = bb_weights.weights_file("VGG16")
    write_like_published(bb.build_backbone("VGG16", 32), mirror / "models" / fname)
    with pytest.warns(UserWarning, match="md5 differs from the file Keras publishes"):
        base = bb.build_backbone("VGG16", 32, weights="imagenet", model_name="backbone")
    assert_same_weights(base, mirror / "models" / fname)
    rec = [r for r in data.asset_report() if r.name == "VGG16 ImageNet weights"][-1]
    assert rec.source == "mirror" and fname in rec.location and "md5 differs" in rec.note
    # No local file and no download asked for (what smoke does): refused at once.
    with pytest.raises(data.AssetUnavailable, match="no download was asked for"):
        bb.build_backbone("ResNet50", 32, weights="imagenet", download=False)


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
    assert fz.set_trainable(loaded, top_blocks=1) == fz.blocks(m)[-1][1]
