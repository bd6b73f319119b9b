"""File formats of the course's assets: MNIST (npz, IDX), CIFAR-10 (tar, image folders, zips), images.

Readers check published checksums where they exist, and skip unreadable images with a
:class:`~seminar_utils.data.DataWarning` that names each file.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import struct
import warnings
import zipfile
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .core import IMAGE_SUFFIXES, DataError, DataWarning, cache_dir, stratified_indices

__all__ = ["MNIST_IDX_MD5", "read_idx", "read_mnist_npz", "read_mnist_idx", "read_cifar_tar",
           "read_cifar_folder", "decode_image", "check_image", "ImageFiles", "list_image_folder"]

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # x_train, y_train, x_test, y_test

#: MNIST's IDX files as LeCun published them: stem -> (md5 of the .gz, md5 of the raw bytes if known).
MNIST_IDX_MD5 = {
    "train-images-idx3-ubyte": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": ("d53e105ee54ea40749a09fcbcd1e9432", None),
    "t10k-images-idx3-ubyte": ("9fb629c4189551a2d022fa330f9573f3", None),
    "t10k-labels-idx1-ubyte": ("ec29112dd5afa0611ce80d1b7f02629c", None),
}


def _hash_file(path: Path, algorithm: str = "sha256") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _require_sha256(path: Path, sha256: str | None, what: str) -> None:
    if sha256 and _hash_file(path) != sha256:
        raise DataError(f"{path}: sha256 does not match the published {what}. "
                        f"Delete the file and download it again.")


# --------------------------------------------------------------------------- MNIST

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
    gz_md5, raw_md5 = MNIST_IDX_MD5[path.name.replace(".gz", "")]
    if path.suffix == ".gz" and _hash_file(path, "md5") == gz_md5:
        return
    if raw_md5:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            if hashlib.md5(f.read()).hexdigest() == raw_md5:
                return
    warnings.warn(f"{path}: md5 differs from the published MNIST file; "
                  f"the data loads, but it may not be the canonical MNIST.", DataWarning)


def read_mnist_npz(path: str | os.PathLike, sha256: str | None = None) -> Arrays:
    """MNIST from Keras's ``mnist.npz``; a DataError when its sha256 is not ``sha256``.

    >>> x_train, y_train, x_test, y_test = read_mnist_npz("mnist.npz")  # doctest: +SKIP
    """
    path = Path(path)
    _require_sha256(path, sha256, "mnist.npz")
    with np.load(path) as f:
        return f["x_train"], f["y_train"], f["x_test"], f["y_test"]


def read_mnist_idx(folder: str | os.PathLike) -> Arrays | None:
    """MNIST from the four IDX files (``.gz`` or not) in ``folder``; None if one is missing.

    A file whose md5 is not the published one loads with a :class:`DataWarning`.

    >>> read_mnist_idx("/nonexistent") is None
    True
    """
    folder = Path(folder)
    files = []
    for stem in MNIST_IDX_MD5:
        found = [folder / n for n in (stem + ".gz", stem) if (folder / n).is_file()]
        if not found:
            return None
        files.append(found[0])
    for p in files:
        _check_idx_md5(p)
    x_tr, y_tr, x_te, y_te = (read_idx(p) for p in files)
    if len(x_tr) != len(y_tr) or len(x_te) != len(y_te):
        raise DataError(f"{folder}: MNIST image and label counts differ.")
    return x_tr, y_tr, x_te, y_te


# --------------------------------------------------------------------------- CIFAR-10

def read_cifar_tar(path: str | os.PathLike, sha256: str | None = None) -> Arrays:
    """CIFAR-10 from ``cifar-10-python.tar.gz`` (the pickled batches), uint8 (N, 32, 32, 3).

    >>> x_train, y_train, x_test, y_test = read_cifar_tar("cifar-10-python.tar.gz")  # doctest: +SKIP
    """
    import pickle
    import tarfile
    path = Path(path)
    _require_sha256(path, sha256, "cifar-10-python.tar.gz")
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
    if not xs or xt is None:
        raise DataError(f"{path}: no data_batch_* / test_batch members: not the CIFAR-10 archive.")
    return np.concatenate(xs), np.concatenate(ys), xt, yt


def read_cifar_folder(root: str | os.PathLike, class_names: Sequence[str],
                      train_samples: int | None = None, test_samples: int | None = None,
                      seed: int = 0) -> Arrays:
    """CIFAR-10 from ``{train,test}/<class>/*`` images (a folder or a zip), decoded to 32x32.

    Only the stratified subsets asked for are decoded; the result is cached as
    ``cifar10_<key>.npz`` in :func:`cache_dir` (keyed by the source, sizes and seed).

    >>> arrays = read_cifar_folder("cifar10_jpeg.zip", CIFAR10_CLASSES, 100, 50)  # doctest: +SKIP
    """
    root = Path(root)
    key = hashlib.md5(f"{root.resolve()}|{train_samples}|{test_samples}|{seed}".encode()).hexdigest()[:12]
    cached = cache_dir() / f"cifar10_{key}.npz"
    if cached.exists():
        with np.load(cached) as f:
            return f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    src = ImageFiles(root)
    out: list[np.ndarray] = []
    for split, n, s in (("train", train_samples, seed), ("test", test_samples, seed + 1)):
        files, labels = src.listing(split, class_names)
        if not files:
            raise DataError(f"{root}: no images under {split}/<class>/ for the CIFAR-10 classes.")
        labels_arr = np.array(labels, dtype=np.uint8)
        idx = stratified_indices(labels_arr, n, s)
        images, kept = _load_each([files[i] for i in idx], lambda f: decode_image(src.read(f), (32, 32)))
        out += [np.stack(images), labels_arr[idx[kept]]]
    # written aside, then renamed: a notebook running at the same time never reads half a file
    partial = cached.with_name(f"{cached.stem}.{os.getpid()}.partial.npz")
    np.savez(partial, x_train=out[0], y_train=out[1], x_test=out[2], y_test=out[3])
    os.replace(partial, cached)
    return out[0], out[1], out[2], out[3]


# --------------------------------------------------------------------------- images

def decode_image(raw: bytes, size: tuple[int, int] | None = None) -> np.ndarray:
    """Encoded image bytes as a uint8 RGB array, resized (bilinear) to ``size`` = (h, w) if given.

    >>> from PIL import Image; buf = io.BytesIO(); Image.new("RGB", (8, 4)).save(buf, "PNG")
    >>> decode_image(buf.getvalue()).shape, decode_image(buf.getvalue(), (2, 2)).shape
    ((4, 8, 3), (2, 2, 3))
    """
    from PIL import Image
    with Image.open(io.BytesIO(raw)) as im:
        im = im.convert("RGB")
        if size is not None and im.size != (size[1], size[0]):
            im = im.resize((size[1], size[0]), Image.BILINEAR)
        return np.asarray(im, dtype=np.uint8)


def _verify_image(path: str | os.PathLike) -> None:
    from PIL import Image
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:  # verify() misses truncation; a full decode does not
        im.convert("RGB").load()


def check_image(path: str | os.PathLike) -> str | None:
    """None if ``path`` decodes fully as an image, else the reason it does not.

    >>> check_image(__file__) is not None
    True
    """
    try:
        _verify_image(path)
        return None
    except Exception as e:
        return f"{type(e).__name__}: {e}"


def _load_each(names: Sequence[str], load: Callable[[str], Any],
               skipped: list[str] | None = None) -> tuple[list[Any], list[int]]:
    """``load(name)`` for every name, and the positions that loaded; the rest are skipped, with
    a :class:`DataWarning` naming each (and listed in ``skipped``)."""
    out, kept = [], []
    for i, name in enumerate(names):
        try:
            out.append(load(name))
        except Exception as e:
            warnings.warn(f"Skipping {name}: not a readable image ({type(e).__name__}: {e}).",
                          DataWarning)
            if skipped is not None:
                skipped.append(name)
        else:
            kept.append(i)
    return out, kept


class ImageFiles:
    """Image files laid out as ``<split>/<class>/<image>``, in a folder or inside a zip.

    The one walk over class folders in the package; a zip may hold them under a top folder.

    >>> ImageFiles("/nonexistent").classes("train")
    []
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.zip = zipfile.ZipFile(self.root) if self.root.suffix == ".zip" else None

    def _by_class(self, split: str) -> dict[str, list[str]]:
        """Class name -> its image files (sorted), for every class folder of ``split``."""
        out: dict[str, list[str]] = {}
        if self.zip is not None:
            for name in sorted(self.zip.namelist()):
                parts = name.split("/")
                if len(parts) >= 3 and parts[-3] == split:
                    files = out.setdefault(parts[-2], [])
                    if parts[-1].lower().endswith(IMAGE_SUFFIXES):
                        files.append(name)
            return out
        base = self.root / split
        for folder in sorted(base.iterdir()) if base.is_dir() else []:
            if folder.is_dir():
                out[folder.name] = [str(p) for p in sorted(folder.iterdir())
                                    if p.is_file() and p.name.lower().endswith(IMAGE_SUFFIXES)]
        return out

    def classes(self, split: str) -> list[str]:
        """The class folders of ``split``, sorted."""
        return sorted(self._by_class(split))

    def listing(self, split: str, class_names: Sequence[str]) -> tuple[list[str], list[int]]:
        """Files of ``split`` and their labels (index in ``class_names``), class by class."""
        by_class = self._by_class(split)
        files: list[str] = []
        labels: list[int] = []
        for k, c in enumerate(class_names):
            files += by_class.get(c, [])
            labels += [k] * len(by_class.get(c, []))
        return files, labels

    def read(self, name: str) -> bytes:
        """The bytes of one file from :meth:`listing`."""
        return self.zip.read(name) if self.zip is not None else Path(name).read_bytes()


def list_image_folder(root: str | os.PathLike, split: str, class_names: Sequence[str] | None = None,
                      samples: int | None = None, seed: int = 0,
                      skipped: list[str] | None = None) -> tuple[list[str], np.ndarray, list[str]]:
    """Files and labels of ``root/split/<class>/*``; a stratified seeded subset of ``samples``.

    Files that do not decode as images are skipped with a :class:`DataWarning` naming them.

    >>> paths, labels, classes = list_image_folder("folder", "train")  # doctest: +SKIP
    """
    src, base = ImageFiles(root), Path(root) / split
    present = src.classes(split)
    class_names = list(present if class_names is None else class_names)
    if not class_names:
        raise DataError(f"{base}: no class folders found (expected {base}/<class>/*.jpg).")
    for c in class_names:
        if c not in present:
            raise DataError(f"{base / c}: missing class folder {c!r}.")
    files, labels = src.listing(split, class_names)
    labels_arr = np.array(labels, dtype=np.int32)
    idx = stratified_indices(labels_arr, samples, seed)
    _, kept = _load_each([files[i] for i in idx], _verify_image, skipped)
    idx = idx[kept]
    return [files[i] for i in idx], labels_arr[idx], class_names
