"""Tests of seminar_utils.pretrained: the stand-in base, its cache, and the weights policy.

No network and no mirror are needed: CIFAR-10 falls back to generated images when the mirror
is not set (the tests point SEMINAR_DATA_MIRROR at an empty folder and set SEMINAR_OFFLINE), and
ImageNet weights are made "unavailable" by monkeypatching the download.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from seminar_utils import backbones as bb  # noqa: E402
from seminar_utils import data, pretrained  # noqa: E402
from seminar_utils import freezing as fz  # noqa: E402

TINY = {"train_samples": 200, "test_samples": 100, "epochs": 1, "batch_size": 50,
        "widths": (8, 8, 16, 16)}


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Empty mirror, offline, artifacts and caches in tmp: nothing real is touched."""
    empty = tmp_path / "mirror"
    empty.mkdir()
    monkeypatch.setenv("SEMINAR_DATA_MIRROR", str(empty))
    monkeypatch.setenv("SEMINAR_OFFLINE", "1")
    monkeypatch.setenv("SEMINAR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SEMINAR_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    yield
    keras.backend.clear_session()


def _no_imagenet(monkeypatch):
    calls = []

    def fail(name, *args, weights=None, **kwargs):
        calls.append((name, weights) if kwargs.get("download", True) else (name, weights, "local"))
        if weights == "imagenet":
            raise data.AssetUnavailable(f"The 'imagenet' weights of {name} could not be downloaded.")
        return real(name, *args, weights=weights, **kwargs)

    real = bb.build_backbone
    monkeypatch.setattr(bb, "build_backbone", fail)
    return calls


def test_standin_architecture_names_blocks_and_counts_parameters():
    m = pretrained.standin_architecture()
    names = [layer.name for layer in m.layers]
    assert names[:3] == ["image", "rescale", "block1_conv"]
    assert names[-3:] == ["block4_conv", "block4_bn", "block4_relu"]
    # 3*3*(3*32 + 32*64 + 64*128 + 128*256) conv weights + 4 params per BN channel
    conv = 9 * (3 * 32 + 32 * 64 + 64 * 128 + 128 * 256)
    bn = 4 * (32 + 64 + 128 + 256)
    assert m.count_params() == conv + bn == 389_856
    out = m(np.zeros((2, 32, 32, 3), "float32"))
    assert out.shape == (2, 4, 4, 256)
    assert m(np.zeros((1, 64, 64, 3), "float32")).shape == (1, 8, 8, 256)  # any input size


def test_cifar10_base_trains_once_then_loads_from_the_cache():
    base, record = pretrained.cifar10_base("quick", recipe=TINY, verbose=0)
    assert base.trainable is False and record["cached"] is False
    assert record["train_images"] == 200 and record["cifar10_source"] == "stand-in"
    assert 0.0 <= record["test_accuracy"] <= 1.0
    path = pretrained_path = data.artifact_path(
        pretrained.STANDIN_ARTIFACT, "quick")
    assert pretrained_path.exists() and path.with_suffix(".json").exists()
    saved = json.loads(path.with_suffix(".json").read_text())
    assert saved["recipe"]["widths"] == [8, 8, 16, 16]
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    again, record2 = pretrained.cifar10_base("quick", recipe=TINY, verbose=0)
    assert record2["cached"] is True and again.trainable is False
    np.testing.assert_allclose(keras.ops.convert_to_numpy(again(x)),
                               keras.ops.convert_to_numpy(base(x)), atol=1e-5)
    # A different recipe is a different base: retrained, not silently reused.
    _, record3 = pretrained.cifar10_base("quick", recipe={**TINY, "epochs": 2}, verbose=0)
    assert record3["cached"] is False and record3["recipe"]["epochs"] == 2


def test_unknown_recipe_keys_are_refused():
    with pytest.raises(ValueError, match="Unknown stand-in recipe keys.*epoch"):
        pretrained.cifar10_base("quick", recipe={"epoch": 3})


def test_smoke_never_downloads_and_falls_back_to_random_weights(monkeypatch):
    calls = _no_imagenet(monkeypatch)
    base = pretrained.load_base("VGG16", 32, "smoke", announce=False)
    assert calls == [("VGG16", "imagenet", "local"), ("VGG16", None)]   # a local file only
    assert (base.name, base.weights, base.real, base.model.trainable) == ("VGG16", "random", False,
                                                                           False)
    assert base.top_block_start == "block5_conv1"
    rec = {r.name: r for r in data.asset_report()}["VGG16 ImageNet weights"]
    assert rec.source == "stand-in"


def test_quick_falls_back_to_the_cifar10_standin(monkeypatch, capsys):
    calls = _no_imagenet(monkeypatch)
    base = pretrained.load_base("ResNet50V2", 64, "quick", recipe=TINY, standin_input_size=48)
    assert calls == [("ResNet50V2", "imagenet")]
    assert (base.name, base.weights, base.real, base.input_size) == ("cifar10_cnn", "cifar10",
                                                                      True, 48)
    assert base.top_block_start == "block4_conv"
    assert "STAND-IN BASE" in capsys.readouterr().out
    rec = {r.name: r for r in data.asset_report()}["ResNet50V2 ImageNet weights"]
    assert rec.source == "stand-in" and "CIFAR-10" in rec.note


def test_full_stops_when_imagenet_weights_are_missing(monkeypatch):
    _no_imagenet(monkeypatch)
    with pytest.raises(data.AssetUnavailable, match="imagenet"):
        pretrained.load_base("VGG16", 32, "full")


def test_classifier_and_feature_extractor_take_0_255_pixels(monkeypatch):
    _no_imagenet(monkeypatch)
    standin = pretrained.load_base("VGG16", 32, "quick", recipe=TINY, announce=False)
    m = standin.classifier(64)
    assert m.get_layer("resize").output.shape == (None, 32, 32, 3)
    assert isinstance(m.get_layer("preprocess"), keras.layers.Identity)
    assert m.output.shape == (None, 1) and not m.get_layer("backbone").trainable
    assert len(m.trainable_weights) == 4                       # the head only
    feats = standin.feature_extractor("block3_relu", input_size=64)
    assert feats.output.shape == (None, 16)
    vgg = pretrained.load_base("VGG16", 32, "smoke", announce=False)
    mv = vgg.classifier(32, head="flatten", dense_units=8)
    assert mv.get_layer("preprocess").backbone == "VGG16"
    assert mv.get_layer("head_dense").count_params() == (512 + 1) * 8
    x = np.full((1, 32, 32, 3), 255.0, "float32")
    direct = vgg.model(bb.preprocess("VGG16", x))
    via = vgg.feature_extractor(pooling=None)(x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(via), keras.ops.convert_to_numpy(direct),
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="pooling must be"):
        vgg.feature_extractor(pooling="sum")
    with pytest.raises(ValueError, match="head must be"):
        vgg.classifier(32, head="dense")


def test_top_block_of_the_standin_unfreezes_by_name_and_by_index(monkeypatch):
    _no_imagenet(monkeypatch)
    base = pretrained.load_base("VGG16", 32, "quick", recipe=TINY, announce=False)
    m = base.classifier(32)
    by_name = fz.set_trainable(m, from_layer=base.top_block_start)
    flags = [layer.trainable for layer in base.model.layers]
    assert fz.set_trainable(m, from_index=by_name) == by_name == 14
    assert [layer.trainable for layer in base.model.layers] == flags
    # block4_conv trains, its BatchNorm stays frozen: 1 conv kernel + the 4 head tensors
    assert len(m.trainable_weights) == 5


def test_random_twin_has_the_same_layers_and_fresh_weights(monkeypatch):
    _no_imagenet(monkeypatch)
    standin = pretrained.load_base("VGG16", 32, "quick", recipe=TINY, announce=False)
    twin = standin.random_twin()
    assert twin.weights == "random" and twin.name == standin.name and not twin.model.trainable
    assert [type(l) for l in twin.model.layers] == [type(l) for l in standin.model.layers]
    assert twin.model.count_params() == standin.model.count_params()
    k0 = keras.ops.convert_to_numpy(standin.model.get_layer("block1_conv").kernel)
    k1 = keras.ops.convert_to_numpy(twin.model.get_layer("block1_conv").kernel)
    assert not np.allclose(k0, k1)
    vgg_twin = pretrained.load_base("VGG16", 32, "smoke", announce=False).random_twin()
    assert vgg_twin.probe_layers == ("block3_pool", "block4_pool", "block5_pool")


def test_top_block_start_of_a_backbone_without_an_entry_is_a_layer_name():
    base = pretrained.load_base("MobileNetV2", 32, "smoke", announce=False)
    name = base.top_block_start
    assert name == "block_16_expand"
    assert fz.set_trainable(base.model, from_layer=name) == fz.blocks(base.model)[-1][1]
