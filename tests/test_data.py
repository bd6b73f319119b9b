"""The data layer on small files written by the tests themselves."""

import dataclasses
import gzip
import hashlib
import io
import json
import pickle
import struct
import tarfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from seminar_utils import data, results
from seminar_utils.data import AssetUnavailable, DataError, DataWarning
from seminar_utils.data import report as report_module
from seminar_utils.table import Table


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real mirror, no network, a private cache, an empty asset report, no results file."""
    monkeypatch.delenv(data.ENV_MIRROR, raising=False)
    monkeypatch.delenv(results.ENV_RESULTS, raising=False)
    monkeypatch.setenv(data.ENV_OFFLINE, "1")
    monkeypatch.setenv(data.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.setattr(report_module, "_REPORT", {})
    monkeypatch.setitem(results._state, "assets", {})
    yield


def with_hash(monkeypatch, name: str, path: Path) -> None:
    """Make ``path`` the published file of asset ``name`` (our test files are not the real ones)."""
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setitem(data.ASSETS, name, dataclasses.replace(data.ASSETS[name], sha256=sha))


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)


def make_mnist_mirror(root: Path, n_train=40, n_test=20, gz=True):
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(n_test) % 10,
    }
    (root / "mnist").mkdir(parents=True)
    for stem, arr in arrays.items():
        write_idx(root / "mnist" / (stem + (".gz" if gz else "")), arr, gz)
    return arrays


def save_jpeg(path: Path, seed: int, size=(40, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path, quality=90)


# ----------------------------------------------------------------------------- MNIST

@pytest.mark.parametrize("gz", [True, False])
def test_mnist_from_idx_mirror(tmp_path, monkeypatch, gz):
    arrays = make_mnist_mirror(tmp_path / "mirror", gz=gz)
    monkeypatch.setenv(data.ENV_MIRROR, str(tmp_path / "mirror"))
    with pytest.warns(DataWarning, match="md5 differs"):  # our files are not the published ones
        d = data.load_mnist("full")
    assert d.source == "mirror" and d.real
    np.testing.assert_array_equal(d.x_train, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(d.y_test, arrays["t10k-labels-idx1-ubyte"])
    rec = data.asset_report()[0]
    assert (rec.name, rec.source, rec.counts) == ("MNIST", "mirror", {"train": 40, "test": 20})


def test_mnist_stratified_subset_is_seeded(tmp_path, monkeypatch):
    make_mnist_mirror(tmp_path / "mirror", n_train=100)
    monkeypatch.setenv(data.ENV_MIRROR, str(tmp_path / "mirror"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        a = data.load_mnist("smoke", train_samples=30, test_samples=10, seed=1)
        b = data.load_mnist("smoke", train_samples=30, test_samples=10, seed=1)
        c = data.load_mnist("smoke", train_samples=30, test_samples=10, seed=2)
    assert a.x_train.shape == (30, 28, 28)
    assert np.bincount(a.y_train, minlength=10).tolist() == [3] * 10
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)


def test_mnist_npz_checksum_is_enforced(tmp_path, monkeypatch):
    (tmp_path / "m").mkdir()
    np.savez(tmp_path / "m" / "mnist.npz", x_train=np.zeros((2, 28, 28)), y_train=np.zeros(2),
             x_test=np.zeros((1, 28, 28)), y_test=np.zeros(1))
    monkeypatch.setenv(data.ENV_MIRROR, str(tmp_path / "m"))
    with pytest.raises(DataError, match="sha256"):
        data.load_mnist("quick")


def test_mnist_npz_accepted_when_hash_matches(tmp_path, monkeypatch):
    (tmp_path / "m").mkdir()
    npz = tmp_path / "m" / "mnist.npz"
    np.savez(npz, x_train=np.ones((4, 28, 28), np.uint8), y_train=np.arange(4),
             x_test=np.ones((2, 28, 28), np.uint8), y_test=np.arange(2))
    with_hash(monkeypatch, "MNIST", npz)
    monkeypatch.setenv(data.ENV_MIRROR, str(tmp_path / "m"))
    d = data.load_mnist("full")
    assert d.x_train.shape == (4, 28, 28) and d.source == "mirror"


def test_idx_errors(tmp_path):
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"\x12\x34\x08\x01" + struct.pack(">I", 2) + b"\x00\x01")
    with pytest.raises(DataError, match="magic"):
        data.read_idx(bad)
    short = tmp_path / "short.idx"
    short.write_bytes(struct.pack(">BBBB", 0, 0, 8, 1) + struct.pack(">I", 5) + b"\x00\x01")
    with pytest.raises(DataError, match="header says"):
        data.read_idx(short)


def test_mnist_falls_back_to_download(tmp_path, monkeypatch):
    import keras
    npz = tmp_path / "mnist.npz"
    np.savez(npz, x_train=np.zeros((5, 28, 28), np.uint8), y_train=np.arange(5) % 10,
             x_test=np.zeros((3, 28, 28), np.uint8), y_test=np.arange(3))
    with_hash(monkeypatch, "MNIST", npz)
    asked = []
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: asked.append((a, k)) or str(npz))
    monkeypatch.setenv(data.ENV_OFFLINE, "0")
    d = data.load_mnist("full")
    assert d.source == "download" and len(d.y_train) == 5
    (fname, origin), kwargs = asked[0]
    assert fname == "mnist.npz" and origin.endswith("tf-keras-datasets/mnist.npz")
    assert kwargs["file_hash"] == data.ASSETS["MNIST"].sha256
    npz.write_bytes(npz.read_bytes() + b"tampered")            # a bad download is refused
    with pytest.raises(AssetUnavailable, match="download failed: .*sha256"):
        data.load_mnist("full")


# ----------------------------------------------------------------------------- stand-ins

@pytest.mark.parametrize("profile", ["full", "gpu"])
def test_missing_asset_raises_in_the_profiles_of_real_data(profile):
    with pytest.raises(AssetUnavailable) as e:
        data.load_mnist(profile)
    msg = str(e.value)
    assert "MNIST" in msg and "SEMINAR_DATA_MIRROR" in msg and "quick" in msg and profile in msg


@pytest.mark.parametrize("profile", ["quick", "smoke"])
def test_missing_asset_uses_standin_with_banner(profile, capsys):
    d = data.load_mnist(profile, train_samples=50, test_samples=20)
    out = capsys.readouterr().out
    assert "STAND-IN DATA: MNIST" in out and "NOT comparable" in out
    assert d.source == "stand-in" and not d.real
    assert d.x_train.shape == (50, 28, 28) and d.x_train.dtype == np.uint8
    assert set(np.unique(d.y_train)) == set(range(10))
    report = data.asset_report()
    assert report[0].source == "stand-in" and "NO (stand-in)" in str(report)
    assert "background:#ffe0e0" in report._repr_html_()


def test_standin_digits_are_learnable():
    """Each stand-in class must differ: a 1-nearest-neighbour classifier beats chance (0.1) by far."""
    d = data.load_mnist("smoke", train_samples=400, test_samples=200)
    a, b = (x.reshape(len(x), -1).astype(float) for x in (d.x_train, d.x_test))
    dist = ((b[:, None] - a[None]) ** 2).sum(-1)
    assert (d.y_train[dist.argmin(1)] == d.y_test).mean() > 0.25


def test_cifar_and_cats_standins_have_real_shapes(capsys):
    c = data.load_cifar10("smoke", train_samples=30, test_samples=10)
    assert c.x_train.shape == (30, 32, 32, 3) and c.class_names == data.CIFAR10_CLASSES
    cd = data.load_cats_vs_dogs("smoke", train_samples=10, validation_samples=6)
    paths, labels = cd["train"]
    assert len(paths) == 10 and sorted(set(labels.tolist())) == [0, 1]
    assert Image.open(paths[0]).mode == "RGB"
    assert "STAND-IN DATA: cats_and_dogs_filtered" in capsys.readouterr().out
    with pytest.raises(AssetUnavailable, match="cats_and_dogs_filtered.zip"):
        data.load_cats_vs_dogs("full")


# ----------------------------------------------------------------------------- CIFAR-10

def make_cifar_folder(root: Path, per_class=(4, 2)):
    for split, n in zip(("train", "test"), per_class):
        for k, c in enumerate(data.CIFAR10_CLASSES):
            for i in range(n):
                save_jpeg(root / split / c / f"{i:04d}.jpg", seed=k * 100 + i, size=(32, 32))


def test_cifar_from_image_folders(tmp_path, monkeypatch):
    make_cifar_folder(tmp_path / "mirror" / "cifar10")
    monkeypatch.setenv(data.ENV_MIRROR, str(tmp_path / "mirror"))
    d = data.load_cifar10("full", train_samples=20, test_samples=10)
    assert d.x_train.shape == (20, 32, 32, 3) and d.x_train.dtype == np.uint8
    assert np.bincount(d.y_train, minlength=10).tolist() == [2] * 10
    assert list((tmp_path / "cache").glob("cifar10_*.npz")), "decoded subset is cached"
    again = data.load_cifar10("full", train_samples=20, test_samples=10)
    np.testing.assert_array_equal(again.x_train, d.x_train)


def test_cifar_from_zip_skips_corrupt(tmp_path, monkeypatch):
    folder = tmp_path / "src" / "cifar10_jpeg"
    make_cifar_folder(folder, per_class=(2, 1))
    (folder / "train" / "cat" / "0001.jpg").write_bytes(b"this is not a jpeg")
    (tmp_path / "mirror").mkdir()
    with zipfile.ZipFile(tmp_path / "mirror" / "cifar10_jpeg_test.zip", "w") as z:
        for p in sorted(folder.rglob("*.jpg")):
            z.write(p, p.relative_to(tmp_path / "src"))
    monkeypatch.setenv(data.ENV_MIRROR, str(tmp_path / "mirror"))
    with pytest.warns(DataWarning, match=r"cat/0001.jpg"):
        d = data.load_cifar10("full")
    assert len(d.y_train) == 19 and len(d.y_test) == 10


# ----------------------------------------------------------------------------- cats vs dogs

def make_cats_dogs(root: Path, n=(6, 4)):
    for split, count in zip(("train", "validation"), n):
        for c in ("cats", "dogs"):
            for i in range(count):
                save_jpeg(root / split / c / f"{c[:-1]}.{i}.jpg", seed=i + (0 if c == "cats" else 50))


def test_cats_dogs_skips_truncated_and_fake_jpegs(tmp_path, monkeypatch):
    root = tmp_path / "mirror" / "cats_and_dogs_filtered"
    make_cats_dogs(root)
    good = (root / "train" / "cats" / "cat.0.jpg").read_bytes()
    (root / "train" / "cats" / "cat.1.jpg").write_bytes(good[: len(good) // 2])   # truncated JPEG
    (root / "train" / "dogs" / "dog.2.jpg").write_text("hello, I am a text file")  # not an image
    monkeypatch.setenv(data.ENV_MIRROR, str(tmp_path / "mirror"))
    with pytest.warns(DataWarning) as caught:
        d = data.load_cats_vs_dogs("full")
    messages = " ".join(str(w.message) for w in caught)
    assert "cat.1.jpg" in messages and "dog.2.jpg" in messages
    paths, labels = d["train"]
    assert len(paths) == 10 and not any(p.endswith(("cat.1.jpg", "dog.2.jpg")) for p in paths)
    assert len(d["validation"][0]) == 8 and d.source == "mirror"
    assert len(d.skipped) == 2 and "2 unreadable files skipped" in str(data.asset_report())


def test_cats_dogs_pipeline_decodes_once_and_batches(tmp_path, monkeypatch):
    root = tmp_path / "mirror" / "cats_and_dogs_filtered"
    make_cats_dogs(root)
    monkeypatch.setenv(data.ENV_MIRROR, str(tmp_path / "mirror"))
    d = data.load_cats_vs_dogs("smoke", train_samples=8, validation_samples=4)
    ds = data.image_folder_dataset(*d["train"], image_size=(24, 24), batch_size=3, shuffle=True, seed=0)
    batches = list(ds)
    assert [b[0].shape[0] for b in batches] == [3, 3, 2]
    x = batches[0][0].numpy()
    assert x.shape == (3, 24, 24, 3) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 255
    labels = np.concatenate([b[1].numpy() for b in batches])
    assert sorted(labels.tolist()) == sorted(d["train"][1].tolist())


def test_missing_class_folder_is_clear(tmp_path):
    save_jpeg(tmp_path / "train" / "cats" / "a.jpg", 0)
    with pytest.raises(DataError, match="dogs"):
        data.list_image_folder(tmp_path, "train", ["cats", "dogs"])


# ----------------------------------------------------------------------------- helpers

def test_stratified_indices_proportions():
    labels = np.array([0] * 80 + [1] * 20)
    idx = data.stratified_indices(labels, 10, seed=0)
    assert len(idx) == 10 and np.bincount(labels[idx]).tolist() == [8, 2]
    assert len(data.stratified_indices(labels, None)) == 100
    assert len(data.stratified_indices(labels, 1000)) == 100


def test_folder_dataset_maps_after_the_cache(tmp_path, monkeypatch):
    """Augmentation passed as map_fn runs every epoch (decoded images are cached, not augmented ones)."""
    import tensorflow as tf
    make_cats_dogs(tmp_path / "mirror" / "cats_and_dogs_filtered")
    monkeypatch.setenv(data.ENV_MIRROR, str(tmp_path / "mirror"))
    d = data.load_cats_vs_dogs("smoke", train_samples=8, validation_samples=4)
    calls = tf.Variable(0)

    def bump(x, y):
        calls.assign_add(1)
        return x + 1.0, y

    plain = np.concatenate([b[0].numpy() for b in data.image_folder_dataset(
        *d["train"], image_size=(24, 24), batch_size=3)])
    ds = data.image_folder_dataset(*d["train"], image_size=(24, 24), batch_size=3, map_fn=bump)
    for _ in range(2):
        out = np.concatenate([b[0].numpy() for b in ds])
    assert out.shape == (8, 24, 24, 3) and np.allclose(out, plain + 1.0)
    assert int(calls.numpy()) == 6  # 3 batches x 2 epochs: the map is not cached


def test_mirror_env_pointing_nowhere_warns(monkeypatch, tmp_path):
    monkeypatch.setenv(data.ENV_MIRROR, str(tmp_path / "nope"))
    with pytest.warns(DataWarning, match="not a directory"):
        assert data.mirror_dir() is None


def test_mirror_and_artifact_folders(monkeypatch, tmp_path):
    assert data.cache_dir() == tmp_path / "cache" and data.cache_dir().is_dir()
    monkeypatch.delenv(data.ENV_ARTIFACTS, raising=False)
    p = data.artifact_path("02_cats_vs_dogs_best.keras", "quick")
    assert p == tmp_path / "cache" / "artifacts" / "02_cats_vs_dogs_best.quick.keras"
    monkeypatch.setenv(data.ENV_ARTIFACTS, str(tmp_path / "elsewhere"))
    p = data.artifact_path("07_benchmark.csv", "smoke")
    assert p == tmp_path / "elsewhere" / "07_benchmark.smoke.csv" and p.parent.is_dir()
    assert data.online_allowed() is False
    monkeypatch.setenv(data.ENV_OFFLINE, "no")
    assert data.online_allowed() is True


# ----------------------------------------------------------------------------- the asset report

def test_asset_report_is_a_table_with_standins_marked():
    assert str(data.asset_report()).startswith("Asset report")
    data.record_asset("MNIST", "mirror", "/m/mnist", {"train": 60000, "test": 10000}, "28x28")
    data.record_asset("VGG16 ImageNet weights", "stand-in", "weights=None", note="random weights")
    report = data.asset_report()
    assert isinstance(report, Table) and report.title == "Asset report"
    lines = str(report).splitlines()
    assert lines[1].split() == ["asset", "source", "real", "counts", "shape", "location", "/", "note"]
    mnist = next(x for x in lines if "MNIST" in x)
    vgg = next(x for x in lines if "VGG16" in x)
    assert not mnist.startswith("!") and "train 60,000, test 10,000" in mnist and "/m/mnist" in mnist
    assert vgg.startswith("! ") and "NO (stand-in)" in vgg and "random weights" in vgg
    html = report._repr_html_()
    assert html.count("background:#ffe0e0") == 1 and "<b>Asset report</b>" in html
    assert [r.name for r in report] == ["MNIST", "VGG16 ImageNet weights"]
    assert report[1].real is False and report.column("source") == ["mirror", "stand-in"]
    data.record_asset("MNIST", "stand-in", "generated digits")       # a later load replaces it
    assert [r.source for r in data.asset_report()] == ["stand-in", "stand-in"]
    assert data.record_asset("VGG16 ImageNet weights", "cache", "/k/models/vgg16.h5").real
    with pytest.raises(ValueError, match="Unknown asset source"):
        data.record_asset("x", "internet", "")


def test_every_recorded_asset_is_written_to_the_results_file(tmp_path, monkeypatch):
    events = tmp_path / "results.jsonl"
    monkeypatch.setenv(results.ENV_RESULTS, str(events))
    data.load_mnist("smoke", train_samples=20, test_samples=10)
    data.record_asset("VGG16 ImageNet weights", "download", "$KERAS_HOME/models", note="imagenet")
    assets = [e for e in results.read_events(events) if e["type"] == "asset"]
    assert [(e["name"], e["source"]) for e in assets] == [("MNIST", "stand-in"),
                                                          ("VGG16 ImageNet weights", "download")]
    assert assets[0]["location"] == "generated digits" and assets[1]["note"] == "imagenet"
    assert results.standin_assets() == ["MNIST"]


# ----------------------------------------------------------------------------- the ladder

def make_cifar_tar(path: Path, per_batch: int = 10) -> None:
    rng = np.random.default_rng(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            batch = {b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                     b"labels": [int(k) for k in np.arange(per_batch) % 10]}
            raw = pickle.dumps(batch)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))


# one mirror layout and one download per registered asset, and the options its loader passes
MIRROR = {
    "MNIST": lambda root: make_mnist_mirror(root),
    "CIFAR-10": lambda root: make_cifar_folder(root / "cifar10", per_class=(2, 1)),
    "cats_and_dogs_filtered": lambda root: make_cats_dogs(root / "cats_and_dogs_filtered", n=(2, 1)),
    "elephant photo": lambda root: save_jpeg(root / "images" / "elephant.jpg", 0, size=(60, 40)),
}
OPTIONS = {"MNIST": {"train_samples": 20, "test_samples": 10},
           "CIFAR-10": {"train_samples": 20, "test_samples": 10}}


def fake_download(name: str, tmp: Path, monkeypatch) -> Path:
    """What keras.utils.get_file would return for asset ``name`` (the file, hashes patched)."""
    if name == "MNIST":
        path = tmp / "mnist.npz"
        np.savez(path, x_train=np.ones((30, 28, 28), np.uint8), y_train=np.arange(30) % 10,
                 x_test=np.ones((10, 28, 28), np.uint8), y_test=np.arange(10))
    elif name == "CIFAR-10":
        path = tmp / "cifar-10-python.tar.gz"
        make_cifar_tar(path)
    elif name == "cats_and_dogs_filtered":   # newer Keras extracts beside the archive
        path = tmp / "cats_and_dogs_filtered.zip"
        make_cats_dogs(tmp / "cats_and_dogs_filtered.zip_extracted" / "cats_and_dogs_filtered", n=(2, 1))
    else:
        path = tmp / "elephant.png"
        save_jpeg(path, 1, size=(50, 30))
    if path.is_file():
        with_hash(monkeypatch, name, path)
    return path


@pytest.mark.parametrize("name", sorted(data.ASSETS))
def test_every_asset_walks_the_ladder(name, tmp_path, monkeypatch, capsys):
    import keras
    asset, options = data.ASSETS[name], OPTIONS.get(name, {})
    asked = []

    def no_network(fname, origin, **kwargs):
        asked.append(origin)
        raise OSError("no network in this test")

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    monkeypatch.setenv(data.ENV_OFFLINE, "0")
    MIRROR[name](tmp_path / "mirror")
    monkeypatch.setenv(data.ENV_MIRROR, str(tmp_path / "mirror"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)          # our MNIST is not the published one
        found = data.fetch(name, "full", **options)
    assert found.source == "mirror" and str(tmp_path / "mirror") in found.location and asked == []

    (tmp_path / "empty").mkdir()                              # not in the mirror, download fails
    monkeypatch.setenv(data.ENV_MIRROR, str(tmp_path / "empty"))
    found = data.fetch(name, "quick", **options)
    out = capsys.readouterr().out
    assert found.source == "stand-in" and asked == [asset.origin]
    assert f"STAND-IN DATA: {name}" in out and "download failed: no network in this test" in out
    with pytest.raises(AssetUnavailable) as err:
        data.fetch(name, "full", **options)
    assert name in str(err.value) and asset.how_to_get in str(err.value)

    asked.clear()                                             # offline: never asks the network
    monkeypatch.setenv(data.ENV_OFFLINE, "1")
    assert data.fetch(name, "smoke", **options).source == "stand-in" and asked == []


@pytest.mark.parametrize("name", sorted(data.ASSETS))
def test_every_asset_reads_its_download(name, tmp_path, monkeypatch):
    import keras
    path = fake_download(name, tmp_path, monkeypatch)
    asset, asked = data.ASSETS[name], []
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: asked.append((a, k)) or str(path))
    monkeypatch.setenv(data.ENV_OFFLINE, "0")
    found = data.fetch(name, "full", **OPTIONS.get(name, {}))
    assert found.source == "download" and found.value is not None
    assert asked == [((asset.filename, asset.origin),
                      {"file_hash": asset.sha256, "extract": asset.extract})]


def test_cifar_from_tar_is_checked_and_subset(tmp_path, monkeypatch):
    tar = tmp_path / "mirror" / "cifar-10-python.tar.gz"
    make_cifar_tar(tar)
    monkeypatch.setenv(data.ENV_MIRROR, str(tmp_path / "mirror"))
    with pytest.raises(DataError, match="sha256"):
        data.load_cifar10("full")
    with_hash(monkeypatch, "CIFAR-10", tar)
    d = data.load_cifar10("full", train_samples=20, test_samples=5)
    assert d.x_train.shape == (20, 32, 32, 3) and d.x_test.shape == (5, 32, 32, 3)
    assert np.bincount(d.y_train, minlength=10).tolist() == [2] * 10 and d.source == "mirror"
    assert data.asset_report()[0].location == str(tar)


def test_demo_photo_from_mirror_and_unknown_name(tmp_path, monkeypatch):
    save_jpeg(tmp_path / "mirror" / "images" / "elephant.jpg", 0, size=(60, 40))
    monkeypatch.setenv(data.ENV_MIRROR, str(tmp_path / "mirror"))
    img = data.demo_photo("elephant", "full")
    assert img.shape == (40, 60, 3) and img.dtype == np.uint8
    rec = data.asset_report()[0]
    assert (rec.name, rec.source, rec.shape) == ("elephant photo", "mirror", "40x60x3")
    with pytest.raises(ValueError, match="'elephant'"):
        data.demo_photo("tiger")


def test_check_image_and_class_folders_in_a_zip(tmp_path):
    save_jpeg(tmp_path / "ok.jpg", 0)
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    assert data.check_image(tmp_path / "ok.jpg") is None
    assert data.check_image(tmp_path / "bad.jpg").startswith("UnidentifiedImageError")
    with zipfile.ZipFile(tmp_path / "set.zip", "w") as z:
        z.write(tmp_path / "ok.jpg", "top/train/b/1.jpg")
        z.write(tmp_path / "ok.jpg", "top/train/a/2.jpg")
        z.write(tmp_path / "ok.jpg", "top/test/a/3.jpg")
        z.writestr("top/train/a/readme.txt", "skip me")
    from seminar_utils.data.formats import ImageFiles
    files = ImageFiles(tmp_path / "set.zip")
    assert files.classes("train") == ["a", "b"]
    assert files.listing("train", ["b", "a"]) == (["top/train/b/1.jpg", "top/train/a/2.jpg"], [0, 1])
    assert files.read("top/test/a/3.jpg") == (tmp_path / "ok.jpg").read_bytes()
