"""What the rest of the data package shares: settings, errors, folders, dataset holders, sampling.

Nothing here reads a file format or touches the network.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "ENV_MIRROR", "ENV_CACHE", "ENV_OFFLINE", "ENV_ARTIFACTS",
    "MNIST_CLASSES", "CIFAR10_CLASSES", "CATS_DOGS_CLASSES", "IMAGE_SUFFIXES",
    "AssetUnavailable", "DataError", "DataWarning",
    "cache_dir", "artifact_path", "mirror_dir", "online_allowed",
    "ArrayData", "ImageFolderData", "stratified_indices",
]

ENV_MIRROR = "SEMINAR_DATA_MIRROR"
ENV_CACHE = "SEMINAR_CACHE_DIR"
ENV_OFFLINE = "SEMINAR_OFFLINE"
ENV_ARTIFACTS = "SEMINAR_ARTIFACTS_DIR"

MNIST_CLASSES = [str(i) for i in range(10)]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]
CATS_DOGS_CLASSES = ["cats", "dogs"]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


class AssetUnavailable(RuntimeError):
    """An asset could be found neither in the mirror nor online (raised in profile full)."""


class DataError(ValueError):
    """An asset was found but is not what it claims to be (bad checksum, bad format)."""


class DataWarning(UserWarning):
    """A recoverable data problem: a skipped file, a checksum that differs from the published one."""


# --------------------------------------------------------------------------- locations

def cache_dir() -> Path:
    """Writable directory for derived caches: ``SEMINAR_CACHE_DIR``, else ``$KERAS_HOME/seminar``.

    >>> cache_dir().is_dir()
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


def artifact_path(name: str, profile: str) -> Path:
    """Where a notebook saves a model that a later notebook loads, per profile.

    ``SEMINAR_ARTIFACTS_DIR`` overrides the default ``<cache_dir>/artifacts``. The profile is part
    of the name so that a smoke run never hands a half-trained model to a quick run.

    >>> artifact_path("02_cats_vs_dogs_best.keras", "quick").name
    '02_cats_vs_dogs_best.quick.keras'
    """
    base = Path(os.environ.get(ENV_ARTIFACTS) or cache_dir() / "artifacts")
    base.mkdir(parents=True, exist_ok=True)
    stem, dot, ext = name.partition(".")
    return base / f"{stem}.{profile}{dot}{ext}"


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


# --------------------------------------------------------------------------- datasets

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


def _subset(data: ArrayData, train_samples: int | None, test_samples: int | None,
            seed: int) -> ArrayData:
    """Stratified, seeded subsets of both splits (the test split uses ``seed + 1``)."""
    tr = stratified_indices(data.y_train, train_samples, seed)
    te = stratified_indices(data.y_test, test_samples, seed + 1)
    return ArrayData(data.name, data.x_train[tr], data.y_train[tr], data.x_test[te],
                     data.y_test[te], data.class_names, data.source)
