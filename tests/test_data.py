"""The data layer on small files written by the tests themselves."""

import gzip
import hashlib
import struct
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from seminar_utils import data
from seminar_utils.data import AssetUnavailable, DataError, DataWarning


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real mirror, no network, a private cache, an empty asset report."""
    monkeypatch.delenv(data.ENV_MIRROR, raising=False)
    monkeypatch.setenv(data.ENV_OFFLINE, "1")
    monkeypatch.setenv(data.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.setattr(data, "_REPORT", {})
    yield


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
    monkeypatch.setattr(data, "MNIST_NPZ_SHA256", hashlib.sha256(npz.read_bytes()).hexdigest())
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


def test_mnist_falls_back_to_download(monkeypatch):
    import keras
    monkeypatch.setenv(data.ENV_OFFLINE, "0")
    fake = ((np.zeros((5, 28, 28), np.uint8), np.arange(5) % 10), (np.zeros((3, 28, 28), np.uint8), np.arange(3)))
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: fake)
    d = data.load_mnist("full")
    assert d.source == "download" and len(d.y_train) == 5


# ----------------------------------------------------------------------------- stand-ins

def test_missing_asset_raises_in_full():
    with pytest.raises(AssetUnavailable) as e:
        data.load_mnist("full")
    msg = str(e.value)
    assert "MNIST" in msg and "SEMINAR_DATA_MIRROR" in msg and "quick" in msg


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


def test_array_dataset_map_runs_after_cache():
    import tensorflow as tf
    calls = tf.Variable(0)

    def bump(x, y):
        calls.assign_add(1)
        return x + 1.0, y

    x = np.zeros((10, 2), np.float32)
    ds = data.array_dataset(x, np.arange(10), batch_size=4, map_fn=bump)
    for _ in range(2):
        out = np.concatenate([b[0].numpy() for b in ds])
    assert out.shape == (10, 2) and np.all(out == 1.0)
    assert int(calls.numpy()) == 6  # 3 batches x 2 epochs: the map is not cached


def test_mirror_env_pointing_nowhere_warns(monkeypatch, tmp_path):
    monkeypatch.setenv(data.ENV_MIRROR, str(tmp_path / "nope"))
    with pytest.warns(DataWarning, match="not a directory"):
        assert data.mirror_dir() is None
