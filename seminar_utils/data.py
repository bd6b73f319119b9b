"""Datasets for the course: real loaders, an offline mirror, stand-ins, tf.data pipelines.

Where an asset comes from, in order:

1. the offline mirror, a directory named by ``SEMINAR_DATA_MIRROR`` (layout in data/README.md);
2. the real download APIs (``keras.datasets``, ``keras.utils.get_file``), cached under
   ``KERAS_HOME`` (skipped when ``SEMINAR_OFFLINE=1``);
3. when both fail: profile ``full`` raises :class:`AssetUnavailable` naming the asset and how
   to get it; ``quick`` and ``smoke`` go on with a generated stand-in of the same shapes and
   classes, and print a banner saying so.

Every load is recorded; :func:`asset_report` shows what is real and what is a stand-in.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import io
import os
import shutil
import struct
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .profiles import resolve_profile

ENV_MIRROR = "SEMINAR_DATA_MIRROR"
ENV_CACHE = "SEMINAR_CACHE_DIR"
ENV_OFFLINE = "SEMINAR_OFFLINE"

MNIST_CLASSES = [str(i) for i in range(10)]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]
CATS_DOGS_CLASSES = ["cats", "dogs"]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")

# Published checksums (Keras's own values for its archives, LeCun's for the IDX files).
MNIST_NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
CIFAR10_TAR_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
MNIST_IDX_MD5 = {  # file stem -> md5 of the .gz as published, md5 of the raw bytes if known
    "train-images-idx3-ubyte": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": ("d53e105ee54ea40749a09fcbcd1e9432", None),
    "t10k-images-idx3-ubyte": ("9fb629c4189551a2d022fa330f9573f3", None),
    "t10k-labels-idx1-ubyte": ("ec29112dd5afa0611ce80d1b7f02629c", None),
}
CATS_DOGS_URL = "https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip"
ELEPHANT_URL = "https://i.imgur.com/Bvro0YD.png"


class AssetUnavailable(RuntimeError):
    """An asset could be found neither in the mirror nor online (raised in profile full)."""


class DataError(ValueError):
    """An asset was found but is not what it claims to be (bad checksum, bad format)."""


class DataWarning(UserWarning):
    """A recoverable data problem: a skipped file, a checksum that differs from the published one."""


# --------------------------------------------------------------------------- locations

def cache_dir() -> Path:
    """Writable directory for derived caches: ``SEMINAR_CACHE_DIR``, else ``$KERAS_HOME/seminar``.

    >>> cache_dir().name in {"seminar", os.path.basename(os.environ.get(ENV_CACHE, "seminar"))}
    True
    """
    explicit = os.environ.get(ENV_CACHE)
    if explicit:
        path = Path(explicit)
    else:
        keras_home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
        path = Path(keras_home) / "seminar"
    path.mkdir(parents=True, exist_ok=True)
    return path


def mirror_dir() -> Path | None:
    """The offline mirror named by ``SEMINAR_DATA_MIRROR``, or None when unset or missing.

    >>> os.environ.pop(ENV_MIRROR, None) and None; mirror_dir() is None
    True
    """
    value = os.environ.get(ENV_MIRROR)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        warnings.warn(f"{ENV_MIRROR}={value} is not a directory; ignoring the mirror.", DataWarning)
        return None
    return path


def online_allowed() -> bool:
    """False when ``SEMINAR_OFFLINE`` is set to 1/true/yes: never try the network.

    >>> isinstance(online_allowed(), bool)
    True
    """
    return os.environ.get(ENV_OFFLINE, "").strip().lower() not in {"1", "true", "yes"}


# --------------------------------------------------------------------------- the asset report

@dataclass
class AssetRecord:
    """Where one asset came from and what it holds."""

    name: str
    source: str  # "mirror", "download", "stand-in"
    location: str
    counts: dict[str, int] = field(default_factory=dict)
    shape: str = ""
    note: str = ""

    @property
    def real(self) -> bool:
        return self.source != "stand-in"


class AssetReport(list):
    """The list of :class:`AssetRecord` loaded so far; prints as a table in text and HTML."""

    columns = ("asset", "source", "real", "counts", "shape", "location / note")

    def rows(self) -> list[tuple[str, ...]]:
        out = []
        for r in self:
            counts = ", ".join(f"{k} {v:,}" for k, v in r.counts.items())
            out.append((r.name, r.source, "yes" if r.real else "NO (stand-in)", counts, r.shape,
                        r.note or r.location))
        return out

    def __str__(self) -> str:
        if not self:
            return "Asset report: nothing loaded yet."
        rows = [self.columns] + self.rows()
        widths = [max(len(row[i]) for row in rows) for i in range(len(self.columns))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "Asset report\n" + "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{c}</th>" for c in self.columns)
        body = ""
        for r, row in zip(self, self.rows()):
            style = "" if r.real else ' style="background:#ffe0e0"'
            body += f"<tr{style}>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
        return f"<b>Asset report</b><table><tr>{head}</tr>{body}</table>"

    __repr__ = __str__


_REPORT: dict[str, AssetRecord] = {}


def _record(rec: AssetRecord) -> AssetRecord:
    _REPORT[rec.name] = rec
    return rec


def asset_report() -> AssetReport:
    """Every asset loaded in this session, with its source (mirror / download / stand-in).

    >>> isinstance(asset_report(), list)
    True
    """
    return AssetReport(_REPORT.values())


def banner(message: str) -> str:
    """Print ``message`` in a box that stands out in a notebook's output; return the text.

    >>> _ = banner("hello")  # doctest: +ELLIPSIS
    ...
    """
    import textwrap
    lines = [part for line in message.splitlines() for part in (textwrap.wrap(line, 96) or [""])]
    width = max(len(x) for x in lines) + 4
    text = "\n".join(["#" * width] + [f"# {x.ljust(width - 4)} #" for x in lines] + ["#" * width])
    print(text)
    return text


def _unavailable(name: str, profile: str, how_to_get: str, reason: str) -> None:
    """Raise in full; announce the stand-in in quick/smoke."""
    if profile == "full":
        raise AssetUnavailable(
            f"{name} is not available ({reason}).\n{how_to_get}\n"
            f"Profile 'full' needs the real data; use SEMINAR_PROFILE=quick or smoke to run "
            f"on a generated stand-in instead."
        )
    banner(f"STAND-IN DATA: {name} could not be loaded.\nWhy: {reason[:150]}\n"
           f"This run uses generated images of the same shape and classes: the code runs,\n"
           f"but accuracies are NOT comparable with the real dataset.\n{how_to_get}")


def _hash_file(path: Path, algorithm: str = "sha256") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- array datasets

@dataclass
class ArrayData:
    """A dataset held in memory: uint8 images (N, H, W[, C]) and integer labels."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    source: str

    @property
    def real(self) -> bool:
        return self.source != "stand-in"


def stratified_indices(labels: np.ndarray, n: int | None, seed: int = 0) -> np.ndarray:
    """``n`` indices with the classes in (nearly) equal proportion to ``labels``, seeded, sorted.

    ``None`` or ``n >= len(labels)`` returns every index.

    >>> stratified_indices(np.array([0, 0, 1, 1, 1, 1]), 3, seed=0).size
    3
    """
    labels = np.asarray(labels).reshape(-1)
    if n is None or n >= labels.size:
        return np.arange(labels.size)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    quota = np.floor(counts / labels.size * n).astype(int)
    # hand out the rounding remainder to the largest fractional parts
    rest = n - quota.sum()
    frac = counts / labels.size * n - quota
    for i in np.argsort(-frac)[:rest]:
        quota[i] += 1
    chosen = [rng.choice(np.flatnonzero(labels == c), size=q, replace=False)
              for c, q in zip(classes, quota)]
    return np.sort(np.concatenate(chosen))


def _subset(data: ArrayData, train_samples: int | None, test_samples: int | None, seed: int) -> ArrayData:
    tr = stratified_indices(data.y_train, train_samples, seed)
    te = stratified_indices(data.y_test, test_samples, seed + 1)
    return ArrayData(data.name, data.x_train[tr], data.y_train[tr], data.x_test[te],
                     data.y_test[te], data.class_names, data.source)


# ---- IDX (MNIST's original format)

def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzipped): uint8 images (N, rows, cols) or labels (N,).

    >>> import tempfile; p = Path(tempfile.mkdtemp()) / "l.idx"
    >>> _ = p.write_bytes(struct.pack(">II", 0x801, 2) + bytes([3, 7])); read_idx(p).tolist()
    [3, 7]
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise DataError(f"{path}: too short to be an IDX file.")
    zero, dtype_code, ndim = raw[0:2], raw[2], raw[3]
    if zero != b"\x00\x00" or dtype_code != 0x08:
        raise DataError(f"{path}: not an unsigned-byte IDX file (magic {raw[:4].hex()}).")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DataError(f"{path}: header says {dims} = {int(np.prod(dims))} bytes, file has {data.size}.")
    return data.reshape(dims)


def _check_idx_md5(path: Path) -> None:
    stem = path.name.replace(".gz", "")
    published = MNIST_IDX_MD5.get(stem)
    if not published:
        return
    gz_md5, raw_md5 = published
    if path.suffix == ".gz" and _hash_file(path, "md5") == gz_md5:
        return
    if raw_md5:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            if hashlib.md5(f.read()).hexdigest() == raw_md5:
                return
    warnings.warn(f"{path}: md5 differs from the published MNIST file; "
                  f"the data loads, but it may not be the canonical MNIST.", DataWarning)


def _find_first(root: Path, names: Iterable[str]) -> Path | None:
    for name in names:
        if (root / name).exists():
            return root / name
    return None


def _mnist_from_dir(root: Path) -> tuple[tuple[np.ndarray, ...], str] | None:
    for base in (root / "mnist", root):
        npz = base / "mnist.npz"
        if npz.is_file():
            if _hash_file(npz) != MNIST_NPZ_SHA256:
                raise DataError(f"{npz}: sha256 does not match Keras's published mnist.npz. "
                                f"Delete the file and download it again.")
            with np.load(npz) as f:
                return (f["x_train"], f["y_train"], f["x_test"], f["y_test"]), str(npz)
        stems = list(MNIST_IDX_MD5)
        files = [_find_first(base, (s + ".gz", s)) for s in stems]
        if all(files):
            for p in files:
                _check_idx_md5(p)
            x_tr, y_tr, x_te, y_te = (read_idx(p) for p in files)
            if len(x_tr) != len(y_tr) or len(x_te) != len(y_te):
                raise DataError(f"{base}: MNIST image and label counts differ.")
            return (x_tr, y_tr, x_te, y_te), str(base)
    return None


def load_mnist(profile: str | None = None, train_samples: int | None = None,
               test_samples: int | None = None, seed: int = 0) -> ArrayData:
    """MNIST as uint8 (N, 28, 28) with labels 0-9, reduced to stratified subsets if asked.

    >>> d = load_mnist("smoke", train_samples=100, test_samples=50)  # doctest: +SKIP
    >>> d.x_train.shape                                               # doctest: +SKIP
    (100, 28, 28)
    """
    profile = resolve_profile(profile)
    name = "MNIST"
    arrays, source, location = None, "", ""
    mirror = mirror_dir()
    if mirror is not None:
        found = _mnist_from_dir(mirror)
        if found:
            arrays, location = found
            source = "mirror"
    reason = "not in the offline mirror" if mirror else f"{ENV_MIRROR} not set"
    if arrays is None and online_allowed():
        try:
            import keras
            (x_tr, y_tr), (x_te, y_te) = keras.datasets.mnist.load_data()
            arrays, source, location = (x_tr, y_tr, x_te, y_te), "download", "keras.datasets.mnist"
        except Exception as e:  # no network, proxy, ...
            reason += f"; download failed: {str(e).splitlines()[0][:120]}"
    if arrays is None:
        _unavailable(name, profile,
                     "Get it with keras.datasets.mnist.load_data() on a machine with internet, or "
                     f"put mnist.npz or the four IDX .gz files under $" + ENV_MIRROR + "/mnist/.",
                     reason)
        arrays = _standin_arrays(60000 if train_samples is None else train_samples,
                                 10000 if test_samples is None else test_samples,
                                 (28, 28), 10, seed, kind="digits")
        source, location = "stand-in", "generated digits"
    data = ArrayData(name, *arrays, class_names=list(MNIST_CLASSES), source=source)
    data = _subset(data, train_samples, test_samples, seed)
    _record(AssetRecord(name, source, location,
                        {"train": len(data.y_train), "test": len(data.y_test)},
                        "x".join(map(str, data.x_train.shape[1:]))))
    return data


# ---- CIFAR-10

def _decode_image_bytes(raw: bytes, size: tuple[int, int] | None = None) -> np.ndarray:
    from PIL import Image
    with Image.open(io.BytesIO(raw)) as im:
        im = im.convert("RGB")
        if size is not None and im.size != (size[1], size[0]):
            im = im.resize((size[1], size[0]), Image.BILINEAR)
        return np.asarray(im, dtype=np.uint8)


def _cifar_from_tar(path: Path) -> tuple[np.ndarray, ...]:
    import pickle
    import tarfile
    if _hash_file(path) != CIFAR10_TAR_SHA256:
        raise DataError(f"{path}: sha256 does not match Keras's published cifar-10-python.tar.gz.")
    xs, ys, xt, yt = [], [], None, None
    with tarfile.open(path, "r:gz") as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            base = os.path.basename(member.name)
            if base.startswith("data_batch_") or base == "test_batch":
                d = pickle.load(tar.extractfile(member), encoding="bytes")
                x = d[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
                y = np.array(d[b"labels"], dtype=np.uint8)
                if base == "test_batch":
                    xt, yt = x, y
                else:
                    xs.append(x)
                    ys.append(y)
    return np.concatenate(xs), np.concatenate(ys), xt, yt


class _FolderSource:
    """Image files laid out as {train,test}/<class>/*, in a directory or inside a zip."""

    def __init__(self, root: Path):
        self.root = root
        self.zip = zipfile.ZipFile(root) if root.suffix == ".zip" else None

    def listing(self, split: str, class_names: Sequence[str]) -> tuple[list[str], np.ndarray]:
        files, labels = [], []
        if self.zip is not None:
            for name in sorted(self.zip.namelist()):
                parts = name.split("/")
                if len(parts) >= 3 and parts[-3] == split and parts[-2] in class_names \
                        and name.lower().endswith(IMAGE_SUFFIXES):
                    files.append(name)
                    labels.append(class_names.index(parts[-2]))
        else:
            for k, c in enumerate(class_names):
                folder = self.root / split / c
                for p in sorted(folder.iterdir()) if folder.is_dir() else []:
                    if p.name.lower().endswith(IMAGE_SUFFIXES):
                        files.append(str(p))
                        labels.append(k)
        return files, np.array(labels, dtype=np.uint8)

    def read(self, name: str) -> bytes:
        if self.zip is not None:
            return self.zip.read(name)
        return Path(name).read_bytes()


def _cifar_folder_root(mirror: Path) -> Path | None:
    for cand in [mirror / "cifar10", mirror / "cifar10_jpeg", mirror / "cifar-10"] + \
            sorted(mirror.glob("cifar10*.zip")) + sorted(mirror.glob("cifar-10*.zip")):
        if cand.is_dir() and (cand / "train").is_dir():
            return cand
        if cand.is_file() and cand.suffix == ".zip":
            return cand
    return None


def load_cifar10(profile: str | None = None, train_samples: int | None = None,
                 test_samples: int | None = None, seed: int = 0) -> ArrayData:
    """CIFAR-10 as uint8 (N, 32, 32, 3), labels 0-9, optionally reduced to stratified subsets.

    Decoded subsets of image-folder/zip mirrors are cached as .npz under :func:`cache_dir`.

    >>> d = load_cifar10("smoke", train_samples=100, test_samples=50)  # doctest: +SKIP
    >>> d.x_train.shape                                                 # doctest: +SKIP
    (100, 32, 32, 3)
    """
    profile = resolve_profile(profile)
    name = "CIFAR-10"
    classes = list(CIFAR10_CLASSES)
    data, location, note = None, "", ""
    mirror = mirror_dir()
    if mirror is not None:
        tar = _find_first(mirror, ("cifar-10-python.tar.gz", "cifar10/cifar-10-python.tar.gz"))
        if tar:
            data = _subset(ArrayData(name, *_cifar_from_tar(tar), classes, "mirror"),
                           train_samples, test_samples, seed)
            location = str(tar)
        else:
            root = _cifar_folder_root(mirror)
            if root:
                data = _cifar_from_folder(root, train_samples, test_samples, seed)
                location = str(root)
                if "lossy" in root.name:
                    note = "JPEG q75 copy of CIFAR-10: close to, not equal to, the original"
    reason = "not in the offline mirror" if mirror else f"{ENV_MIRROR} not set"
    if data is None and online_allowed():
        try:
            import keras
            (x_tr, y_tr), (x_te, y_te) = keras.datasets.cifar10.load_data()
            data = _subset(ArrayData(name, x_tr, y_tr.reshape(-1), x_te, y_te.reshape(-1), classes,
                                     "download"), train_samples, test_samples, seed)
            location = "keras.datasets.cifar10"
        except Exception as e:
            reason += f"; download failed: {str(e).splitlines()[0][:120]}"
    if data is None:
        _unavailable(name, profile,
                     "Get it with keras.datasets.cifar10.load_data() online, or put "
                     "cifar-10-python.tar.gz, a cifar10/{train,test}/<class>/ folder or a zip of "
                     f"one in ${ENV_MIRROR}.", reason)
        arrays = _standin_arrays(50000 if train_samples is None else train_samples,
                                 10000 if test_samples is None else test_samples,
                                 (32, 32, 3), 10, seed, kind="shapes")
        data = ArrayData(name, *arrays, classes, "stand-in")
        location = "generated shapes"
    _record(AssetRecord(name, data.source, location,
                        {"train": len(data.y_train), "test": len(data.y_test)},
                        "x".join(map(str, data.x_train.shape[1:])), note))
    return data


def _cifar_from_folder(root: Path, train_samples: int | None, test_samples: int | None,
                       seed: int) -> ArrayData:
    key = hashlib.md5(f"{root.resolve()}|{train_samples}|{test_samples}|{seed}".encode()).hexdigest()[:12]
    cached = cache_dir() / f"cifar10_{key}.npz"
    if cached.exists():
        with np.load(cached) as f:
            return ArrayData("CIFAR-10", f["x_train"], f["y_train"], f["x_test"], f["y_test"],
                             list(CIFAR10_CLASSES), "mirror")
    src = _FolderSource(root)
    out = []
    for split, n, s in (("train", train_samples, seed), ("test", test_samples, seed + 1)):
        files, labels = src.listing(split, CIFAR10_CLASSES)
        if not files:
            raise DataError(f"{root}: no images under {split}/<class>/ for the CIFAR-10 classes.")
        idx = stratified_indices(labels, n, s)
        images, kept = [], []
        for i in idx:
            try:
                images.append(_decode_image_bytes(src.read(files[i]), (32, 32)))
                kept.append(i)
            except Exception as e:
                warnings.warn(f"Skipping {files[i]}: not a readable image ({e}).", DataWarning)
        out += [np.stack(images), labels[kept]]
    np.savez(cached, x_train=out[0], y_train=out[1], x_test=out[2], y_test=out[3])
    return ArrayData("CIFAR-10", *out, list(CIFAR10_CLASSES), "mirror")


# --------------------------------------------------------------------------- image folders

@dataclass
class ImageFolderData:
    """An image-folder dataset as file paths and labels per split (decoded lazily by tf.data)."""

    name: str
    root: str
    splits: dict[str, tuple[list[str], np.ndarray]]
    class_names: list[str]
    source: str
    skipped: list[str] = field(default_factory=list)

    @property
    def real(self) -> bool:
        return self.source != "stand-in"

    def __getitem__(self, split: str) -> tuple[list[str], np.ndarray]:
        return self.splits[split]


def check_image(path: str | os.PathLike) -> str | None:
    """None if ``path`` decodes fully as an image, else the reason it does not.

    >>> check_image(__file__) is not None
    True
    """
    from PIL import Image
    try:
        with Image.open(path) as im:
            im.verify()
        with Image.open(path) as im:  # verify() misses truncation; a full decode does not
            im.convert("RGB").load()
        return None
    except Exception as e:
        return f"{type(e).__name__}: {e}"


def list_image_folder(root: str | os.PathLike, split: str, class_names: Sequence[str] | None = None,
                      samples: int | None = None, seed: int = 0,
                      skipped: list[str] | None = None) -> tuple[list[str], np.ndarray, list[str]]:
    """Files and labels of ``root/split/<class>/*``; a stratified seeded subset of ``samples``.

    Files that do not decode as images are skipped with a :class:`DataWarning` naming them.

    >>> paths, labels, classes = list_image_folder("folder", "train")  # doctest: +SKIP
    """
    base = Path(root) / split
    if class_names is None:
        class_names = sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    if not class_names:
        raise DataError(f"{base}: no class folders found (expected {base}/<class>/*.jpg).")
    files, labels = [], []
    for k, c in enumerate(class_names):
        folder = base / c
        if not folder.is_dir():
            raise DataError(f"{folder}: missing class folder {c!r}.")
        for p in sorted(folder.iterdir()):
            if p.is_file() and p.name.lower().endswith(IMAGE_SUFFIXES):
                files.append(str(p))
                labels.append(k)
    labels_arr = np.array(labels, dtype=np.int32)
    idx = stratified_indices(labels_arr, samples, seed)
    kept = []
    for i in idx:
        problem = check_image(files[i])
        if problem:
            warnings.warn(f"Skipping {files[i]}: not a readable image ({problem}).", DataWarning)
            if skipped is not None:
                skipped.append(files[i])
        else:
            kept.append(i)
    return [files[i] for i in kept], labels_arr[kept], list(class_names)


def _extracted_root(path: str, folder: str) -> Path | None:
    """Where get_file(extract=True) put ``folder`` (Keras >= 3.? returns `<fname>_extracted`)."""
    p = Path(path)
    for cand in (p / folder, p, p.parent / folder, Path(str(p) + "_extracted") / folder):
        if (cand / "train").is_dir():
            return cand
    return None


def load_cats_vs_dogs(profile: str | None = None, train_samples: int | None = None,
                      validation_samples: int | None = None, seed: int = 0) -> ImageFolderData:
    """cats_and_dogs_filtered: file paths and labels (0 = cat, 1 = dog) for train / validation.

    >>> d = load_cats_vs_dogs("smoke", train_samples=20, validation_samples=10)  # doctest: +SKIP
    >>> len(d["train"][0])                                                       # doctest: +SKIP
    20
    """
    profile = resolve_profile(profile)
    name = "cats_and_dogs_filtered"
    root, source = None, ""
    mirror = mirror_dir()
    if mirror is not None and (mirror / name / "train").is_dir():
        root, source = mirror / name, "mirror"
    reason = "not in the offline mirror" if mirror else f"{ENV_MIRROR} not set"
    if root is None and online_allowed():
        try:
            import keras
            path = keras.utils.get_file("cats_and_dogs_filtered.zip", CATS_DOGS_URL, extract=True)
            root, source = _extracted_root(path, name), "download"
            if root is None:
                raise DataError(f"downloaded archive at {path} has no {name}/train folder")
        except Exception as e:
            reason += f"; download failed: {str(e).splitlines()[0][:120]}"
            root = None
    if root is None:
        _unavailable(name, profile,
                     f"Download {CATS_DOGS_URL} and extract it into ${ENV_MIRROR}/ "
                     f"(giving {name}/train/cats ...).", reason)
        root, source = _standin_folder(name, seed), "stand-in"
    skipped: list[str] = []
    splits = {}
    for split, n, s in (("train", train_samples, seed), ("validation", validation_samples, seed + 1)):
        paths, labels, _ = list_image_folder(root, split, CATS_DOGS_CLASSES, n, s, skipped)
        splits[split] = (paths, labels)
    data = ImageFolderData(name, str(root), splits, list(CATS_DOGS_CLASSES), source, skipped)
    _record(AssetRecord(name, source, str(root),
                        {k: len(v[0]) for k, v in splits.items()}, "JPEG files, any size",
                        f"{len(skipped)} unreadable files skipped" if skipped else ""))
    return data


def demo_photo(name: str = "elephant", profile: str | None = None) -> np.ndarray:
    """A demo photo as a uint8 RGB array: ``"elephant"`` (the classic ImageNet example).

    >>> demo_photo("elephant", "smoke").ndim  # doctest: +SKIP
    3
    """
    if name != "elephant":
        raise ValueError(f"Unknown demo photo {name!r}; available: 'elephant'.")
    profile = resolve_profile(profile)
    mirror = mirror_dir()
    path, source = None, ""
    if mirror is not None:
        path = _find_first(mirror, ("images/elephant.jpg", "elephant.jpg", "images/elephant.png"))
        source = "mirror"
    reason = "not in the offline mirror" if mirror else f"{ENV_MIRROR} not set"
    if path is None and online_allowed():
        try:
            import keras
            path, source = Path(keras.utils.get_file("elephant.png", ELEPHANT_URL)), "download"
        except Exception as e:
            reason += f"; download failed: {str(e).splitlines()[0][:120]}"
    if path is None:
        _unavailable("elephant photo", profile,
                     f"Put elephant.jpg under ${ENV_MIRROR}/images/.", reason)
        img = _standin_arrays(1, 0, (183, 275, 3), 1, 0, kind="shapes")[0][0]
        _record(AssetRecord("elephant photo", "stand-in", "generated", {"images": 1}, "183x275x3"))
        return img
    img = _decode_image_bytes(Path(path).read_bytes())
    _record(AssetRecord("elephant photo", source, str(path), {"images": 1},
                        "x".join(map(str, img.shape))))
    return img


# --------------------------------------------------------------------------- stand-ins

def _draw_class(k: int, n_classes: int, size: tuple[int, int], rng: np.random.Generator,
                kind: str, color: bool) -> np.ndarray:
    from PIL import Image, ImageDraw
    h, w = size
    if kind == "digits":
        # a thick stroke digit drawn from a 3x5 seven-segment-like pattern, placed at random
        glyphs = ["111101101101111", "010110010010111", "111001111100111", "111001111001111",
                  "101101111001001", "111100111001111", "111100111101111", "111001001001001",
                  "111101111101111", "111101111001111"]
        g = np.array([int(c) for c in glyphs[k % 10]], dtype=np.uint8).reshape(5, 3) * 255
        scale = rng.uniform(0.65, 0.8)
        gh, gw = max(5, int(h * scale)), max(3, int(w * scale * 0.6))
        glyph = np.asarray(Image.fromarray(g).resize((gw, gh), Image.NEAREST))
        img = np.zeros((h, w), dtype=np.float32)
        cy, cx = (h - gh) // 2, (w - gw) // 2  # near the centre, as MNIST digits are
        y0 = int(np.clip(cy + rng.integers(-3, 4), 0, h - gh))
        x0 = int(np.clip(cx + rng.integers(-3, 4), 0, w - gw))
        img[y0:y0 + gh, x0:x0 + gw] = glyph
        img += rng.normal(0, 8, img.shape)
        return np.clip(img, 0, 255).astype(np.uint8)
    hue = np.array([(k * 97) % 255, (k * 57 + 80) % 255, (k * 31 + 160) % 255], dtype=np.float32)
    bg = rng.uniform(40, 200, 3)
    im = Image.new("RGB", (w, h), tuple(int(v) for v in bg))
    d = ImageDraw.Draw(im)
    r = rng.uniform(0.2, 0.35) * min(h, w)
    cy, cx = rng.uniform(r, h - r), rng.uniform(r, w - r)
    fill = tuple(int(v) for v in hue)
    shape = k % 5
    box = [cx - r, cy - r, cx + r, cy + r]
    if shape == 0:
        d.ellipse(box, fill=fill)
    elif shape == 1:
        d.rectangle(box, fill=fill)
    elif shape == 2:
        d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)
    elif shape == 3:
        d.rectangle([cx - r, cy - r / 3, cx + r, cy + r / 3], fill=fill)
        d.rectangle([cx - r / 3, cy - r, cx + r / 3, cy + r], fill=fill)
    else:
        d.ellipse(box, outline=fill, width=max(2, int(r / 3)))
    arr = np.asarray(im, dtype=np.float32) + rng.normal(0, 10, (h, w, 3))
    arr = np.clip(arr, 0, 255).astype(np.uint8)
    return arr if color else arr.mean(axis=-1).astype(np.uint8)


def _standin_arrays(n_train: int, n_test: int, shape: tuple[int, ...], n_classes: int, seed: int,
                    kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Generated, learnable images: each class is a distinct glyph or shape at a random place."""
    rng = np.random.default_rng(10_000 + seed)
    color = len(shape) == 3
    out = []
    for n in (n_train, n_test):
        y = np.arange(n) % n_classes
        rng.shuffle(y)
        x = np.stack([_draw_class(int(k), n_classes, shape[:2], rng, kind, color) for k in y]) \
            if n else np.zeros((0,) + shape, np.uint8)
        out += [x, y.astype(np.uint8)]
    return tuple(out)  # type: ignore[return-value]


def _standin_folder(name: str, seed: int, per_class: tuple[int, int] = (100, 50)) -> Path:
    """Write a small cats/dogs-shaped image folder of generated JPEGs (once) and return it."""
    from PIL import Image
    root = cache_dir() / "standins" / name
    done = root / ".complete"
    if done.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    rng = np.random.default_rng(seed + 20_000)
    for split, n in zip(("train", "validation"), per_class):
        for k, c in enumerate(CATS_DOGS_CLASSES):
            folder = root / split / c
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                arr = _draw_class(k, 2, (int(rng.integers(140, 200)), int(rng.integers(140, 200))),
                                  rng, "shapes", True)
                Image.fromarray(arr).save(folder / f"{c[:-1]}.{i}.jpg", quality=90)
    done.touch()
    return root


# --------------------------------------------------------------------------- tf.data

def array_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = False,
                  seed: int = 0, map_fn: Callable[..., Any] | None = None, cache: bool = True):
    """A batched ``tf.data.Dataset`` of (x, y): cache -> shuffle -> batch -> map_fn -> prefetch.

    ``map_fn`` (for example an augmentation) runs on batches, after the cache, so it is drawn
    anew every epoch.

    >>> ds = array_dataset(np.zeros((10, 4), "float32"), np.zeros(10), batch_size=4)  # doctest: +SKIP
    >>> [b[0].shape[0] for b in ds]                                                    # doctest: +SKIP
    [4, 4, 2]
    """
    import tensorflow as tf
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(min(len(x), 10_000), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if map_fn is not None:
        ds = ds.map(map_fn, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def image_folder_dataset(paths: Sequence[str], labels: np.ndarray, image_size: tuple[int, int],
                         batch_size: int, shuffle: bool = False, seed: int = 0,
                         map_fn: Callable[..., Any] | None = None, cache: bool | str = True):
    """Decode-once image pipeline: read -> decode -> resize -> float32 0-255 -> cache -> batches.

    ``cache=True`` caches decoded images in memory, a string caches them to that file.

    >>> ds = image_folder_dataset(paths, labels, (150, 150), 32, shuffle=True)  # doctest: +SKIP
    """
    import tensorflow as tf

    def load(path, label):
        img = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        img = tf.image.resize(img, image_size)
        return tf.cast(img, tf.float32), label

    ds = tf.data.Dataset.from_tensor_slices((list(paths), np.asarray(labels)))
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache(cache if isinstance(cache, str) else "")
    if shuffle:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if map_fn is not None:
        ds = ds.map(map_fn, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
