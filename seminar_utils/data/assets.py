"""The registry of assets and the one ladder that fetches any of them; the course's loaders.

:func:`fetch` walks mirror -> download -> stand-in for any :class:`Asset` in :data:`ASSETS`.
To add a dataset: write its reader (``formats``) and stand-in (``standins``), register an
``Asset`` here, and a loader that calls ``fetch`` and :func:`~seminar_utils.data.record_asset`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..profiles import resolve_profile
from . import formats, standins
from .core import (CATS_DOGS_CLASSES, CIFAR10_CLASSES, ENV_MIRROR, MNIST_CLASSES, ArrayData,
                   AssetUnavailable, DataError, ImageFolderData, _subset, mirror_dir, online_allowed)
from .report import banner, record_asset

__all__ = ["Found", "Asset", "ASSETS", "fetch", "load_mnist", "load_cifar10", "load_cats_vs_dogs",
           "demo_photo"]


@dataclass(frozen=True)
class Found:
    """What one rung of the ladder found: the asset's value, where it was, a note, its source."""

    value: Any
    location: str
    note: str = ""
    source: str = ""  # "mirror", "download" or "stand-in", set by fetch


#: ``reader(path, asset, **options) -> Found | None``: read one mirror layout (None: not this one).
_Reader = Callable[..., "Found | None"]


@dataclass(frozen=True)
class Asset:
    """One asset: the mirror layouts it accepts, its download, its stand-in and how to get it."""

    name: str
    mirror: tuple[tuple[str, _Reader], ...]  # (glob under the mirror, "" = the mirror itself; reader)
    origin: str                             # the download URL
    sha256: str | None                      # the published hash of the download (None: none)
    filename: str                           # its name in Keras's cache ($KERAS_HOME/datasets)
    downloaded: _Reader                     # reads what keras.utils.get_file returned
    standin: Callable[..., Found]            # (asset, **options) -> Found
    how_to_get: str
    extract: bool = False                   # get_file(extract=True): the download is an archive


# --------------------------------------------------------------------------- readers

def _mnist_npz(path: Path, asset: Asset, **_: Any) -> Found:
    return Found(formats.read_mnist_npz(path, asset.sha256), str(path))


def _mnist_idx(folder: Path, asset: Asset, **_: Any) -> Found | None:
    arrays = formats.read_mnist_idx(folder)
    return Found(arrays, str(folder)) if arrays else None


def _cifar_tar(path: Path, asset: Asset, **_: Any) -> Found:
    return Found(formats.read_cifar_tar(path, asset.sha256), str(path))


def _cifar_folder(path: Path, asset: Asset, train_samples: int | None = None,
                  test_samples: int | None = None, seed: int = 0, **_: Any) -> Found | None:
    if not ((path.is_dir() and (path / "train").is_dir()) or path.suffix == ".zip"):
        return None
    note = "JPEG q75 copy of CIFAR-10: close to, not equal to, the original" \
        if "lossy" in path.name else ""
    arrays = formats.read_cifar_folder(path, CIFAR10_CLASSES, train_samples, test_samples, seed)
    return Found(arrays, str(path), note)


def _split_folder(path: Path, asset: Asset, **_: Any) -> Found | None:
    return Found(path, str(path)) if (path / "train").is_dir() else None


def _extracted_folder(path: Path, asset: Asset, **_: Any) -> Found | None:
    """Where get_file(extract=True) put the folder: older Keras returns the folder it extracted
    to, newer versions ``<fname>_extracted`` beside the archive."""
    for cand in (path / asset.name, path, path.parent / asset.name,
                 Path(str(path) + "_extracted") / asset.name):
        if (cand / "train").is_dir():
            return Found(cand, str(cand))
    return None


def _photo(path: Path, asset: Asset, **_: Any) -> Found:
    return Found(formats.decode_image(path.read_bytes()), str(path))


# --------------------------------------------------------------------------- stand-ins

def _arrays_standin(classes: list[str], default_sizes: tuple[int, int], shape: tuple[int, ...],
                    kind: str, location: str) -> Callable[..., Found]:
    """A stand-in maker of generated arrays; ``default_sizes`` are the real dataset's splits."""
    def make(asset: Asset, train_samples: int | None = None, test_samples: int | None = None,
             seed: int = 0, **_: Any) -> Found:
        n_train = default_sizes[0] if train_samples is None else train_samples
        n_test = default_sizes[1] if test_samples is None else test_samples
        return Found(standins.arrays(n_train, n_test, shape, len(classes), seed, kind), location)
    return make


def _folder_standin(asset: Asset, seed: int = 0, **_: Any) -> Found:
    root = standins.image_folder(asset.name, CATS_DOGS_CLASSES, seed)
    return Found(root, str(root))


def _photo_standin(asset: Asset, **_: Any) -> Found:
    return Found(standins.arrays(1, 0, (183, 275, 3), 1, 0, kind="shapes")[0][0], "generated")


# --------------------------------------------------------------------------- the registry

_CATS_URL = "https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip"

ASSETS: dict[str, Asset] = {a.name: a for a in [
    Asset("MNIST",
          mirror=(("mnist/mnist.npz", _mnist_npz), ("mnist", _mnist_idx),
                  ("mnist.npz", _mnist_npz), ("", _mnist_idx)),
          origin="https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
          sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
          filename="mnist.npz", downloaded=_mnist_npz,
          standin=_arrays_standin(MNIST_CLASSES, (60000, 10000), (28, 28), "digits", "generated digits"),
          how_to_get="Get it with keras.datasets.mnist.load_data() on a machine with internet, "
                     f"or put mnist.npz or the four IDX .gz files under ${ENV_MIRROR}/mnist/."),
    Asset("CIFAR-10",
          mirror=(("cifar-10-python.tar.gz", _cifar_tar), ("cifar10/cifar-10-python.tar.gz", _cifar_tar),
                  ("cifar10", _cifar_folder), ("cifar10_jpeg", _cifar_folder),
                  ("cifar-10", _cifar_folder), ("cifar10*.zip", _cifar_folder),
                  ("cifar-10*.zip", _cifar_folder)),
          origin="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
          sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
          filename="cifar-10-python.tar.gz", downloaded=_cifar_tar,
          standin=_arrays_standin(CIFAR10_CLASSES, (50000, 10000), (32, 32, 3), "shapes", "generated shapes"),
          how_to_get="Run once with internet (it is saved in $KERAS_HOME/datasets/), or put "
                     "cifar-10-python.tar.gz, a cifar10/{train,test}/<class>/ folder or a zip of "
                     f"one in ${ENV_MIRROR}."),
    Asset("cats_and_dogs_filtered",
          mirror=(("cats_and_dogs_filtered", _split_folder),),
          origin=_CATS_URL, sha256=None, filename="cats_and_dogs_filtered.zip",
          downloaded=_extracted_folder, extract=True, standin=_folder_standin,
          how_to_get=f"Download {_CATS_URL} and extract it into ${ENV_MIRROR}/ "
                     f"(giving cats_and_dogs_filtered/train/cats ...)."),
    Asset("elephant photo",
          mirror=(("images/elephant.jpg", _photo), ("elephant.jpg", _photo),
                  ("images/elephant.png", _photo)),
          origin="https://i.imgur.com/Bvro0YD.png", sha256=None, filename="elephant.png",
          downloaded=_photo, standin=_photo_standin,
          how_to_get=f"Put elephant.jpg under ${ENV_MIRROR}/images/."),
]}


# --------------------------------------------------------------------------- the ladder

def _download(asset: Asset, **options: Any) -> Found:
    import keras
    path = Path(keras.utils.get_file(asset.filename, asset.origin, file_hash=asset.sha256,
                                     extract=asset.extract))
    found = asset.downloaded(path, asset, **options)
    if found is None:
        raise DataError(f"the download at {path} does not hold {asset.name} as expected")
    return found


def _unavailable(asset: Asset, profile: str, reason: str) -> None:
    """Raise in full and gpu (their figures are the real data's); announce the stand-in in quick/smoke."""
    if profile in ("full", "gpu"):
        raise AssetUnavailable(
            f"{asset.name} is not available ({reason}).\n{asset.how_to_get}\n"
            f"Profile {profile!r} needs the real data; use SEMINAR_PROFILE=quick or smoke to run "
            f"on a generated stand-in instead.")
    banner(f"STAND-IN DATA: {asset.name} could not be loaded.\nWhy: {reason[:150]}\n"
           f"This run uses generated images of the same shape and classes: the code runs,\n"
           f"but accuracies are NOT comparable with the real dataset.\n{asset.how_to_get}")


def fetch(name: str, profile: str | None = None, **options: Any) -> Found:
    """Asset ``name`` from the mirror, else its download, else (quick/smoke) its stand-in.

    ``SEMINAR_OFFLINE=1`` skips the download. In profiles full and gpu a missing asset raises
    :class:`AssetUnavailable` with how to get it; otherwise a banner announces the stand-in.
    ``options`` (sizes, seed) go to the readers and the stand-in maker.

    >>> fetch("MNIST", "smoke", train_samples=20, test_samples=10).source  # doctest: +SKIP
    'mirror'
    """
    asset = ASSETS[name]
    profile = resolve_profile(profile)
    mirror = mirror_dir()
    if mirror is not None:
        for pattern, read in asset.mirror:
            for path in sorted(mirror.glob(pattern)) if pattern else [mirror]:
                found = read(path, asset, **options)
                if found is not None:
                    return dataclasses.replace(found, source="mirror")
    reason = "not in the offline mirror" if mirror else f"{ENV_MIRROR} not set"
    if online_allowed():
        try:
            return dataclasses.replace(_download(asset, **options), source="download")
        except Exception as e:  # no network, proxy, a bad download, ...
            reason += f"; download failed: {str(e).splitlines()[0][:120]}"
    _unavailable(asset, profile, reason)
    return dataclasses.replace(asset.standin(asset, **options), source="stand-in")


# --------------------------------------------------------------------------- the loaders

def _arrays(name: str, classes: list[str], profile: str | None, train_samples: int | None,
            test_samples: int | None, seed: int) -> ArrayData:
    found = fetch(name, profile, train_samples=train_samples, test_samples=test_samples, seed=seed)
    data = _subset(ArrayData(name, *found.value, list(classes), found.source),
                   train_samples, test_samples, seed)
    record_asset(name, found.source, found.location,
                 {"train": len(data.y_train), "test": len(data.y_test)},
                 "x".join(map(str, data.x_train.shape[1:])), found.note)
    return data


def load_mnist(profile: str | None = None, train_samples: int | None = None,
               test_samples: int | None = None, seed: int = 0) -> ArrayData:
    """MNIST as uint8 (N, 28, 28) with labels 0-9, reduced to stratified subsets if asked.

    >>> d = load_mnist("smoke", train_samples=100, test_samples=50)  # doctest: +SKIP
    >>> d.x_train.shape                                               # doctest: +SKIP
    (100, 28, 28)
    """
    return _arrays("MNIST", MNIST_CLASSES, profile, train_samples, test_samples, seed)


def load_cifar10(profile: str | None = None, train_samples: int | None = None,
                 test_samples: int | None = None, seed: int = 0) -> ArrayData:
    """CIFAR-10 as uint8 (N, 32, 32, 3), labels 0-9, optionally reduced to stratified subsets.

    Decoded subsets of image-folder/zip mirrors are cached as .npz under :func:`cache_dir`.

    >>> d = load_cifar10("smoke", train_samples=100, test_samples=50)  # doctest: +SKIP
    >>> d.x_train.shape                                                 # doctest: +SKIP
    (100, 32, 32, 3)
    """
    return _arrays("CIFAR-10", CIFAR10_CLASSES, profile, train_samples, test_samples, seed)


def load_cats_vs_dogs(profile: str | None = None, train_samples: int | None = None,
                      validation_samples: int | None = None, seed: int = 0) -> ImageFolderData:
    """cats_and_dogs_filtered: file paths and labels (0 = cat, 1 = dog) for train / validation.

    >>> d = load_cats_vs_dogs("smoke", train_samples=20, validation_samples=10)  # doctest: +SKIP
    >>> len(d["train"][0])                                                       # doctest: +SKIP
    20
    """
    name = "cats_and_dogs_filtered"
    found = fetch(name, profile, seed=seed)
    skipped: list[str] = []
    splits = {}
    for split, n, s in (("train", train_samples, seed), ("validation", validation_samples, seed + 1)):
        paths, labels, _ = formats.list_image_folder(found.value, split, CATS_DOGS_CLASSES, n, s,
                                                     skipped)
        splits[split] = (paths, labels)
    data = ImageFolderData(name, found.location, splits, list(CATS_DOGS_CLASSES), found.source,
                           skipped)
    record_asset(name, found.source, found.location, {k: len(v[0]) for k, v in splits.items()},
                 "JPEG files, any size",
                 f"{len(skipped)} unreadable files skipped" if skipped else found.note)
    return data


_PHOTOS = {"elephant": "elephant photo"}


def demo_photo(name: str = "elephant", profile: str | None = None) -> np.ndarray:
    """A demo photo as a uint8 RGB array: ``"elephant"`` (the classic ImageNet example).

    >>> demo_photo("elephant", "smoke").ndim  # doctest: +SKIP
    3
    """
    if name not in _PHOTOS:
        raise ValueError(f"Unknown demo photo {name!r}; available: "
                         f"{', '.join(repr(p) for p in _PHOTOS)}.")
    found = fetch(_PHOTOS[name], profile)
    record_asset(_PHOTOS[name], found.source, found.location, {"images": 1},
                 "x".join(map(str, found.value.shape)), found.note)
    return found.value
