"""What every model of one benchmark run shares: the settings, the data and the input sizes.

Each backbone gets the same data, head, optimizer, epochs, batch size, augmentation and seed;
what differs is what must differ: its own preprocessing and an input size it accepts.

>>> input_size("InceptionV3", 32), input_size("ResNet50V2", 32), input_size("ResNet50V2", "native")
(75, 32, 224)
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from ..backbones import get_spec, names as backbone_names

__all__ = ["SOURCE_AUGMENTATION", "WEIGHT_POLICIES", "BenchmarkConfig", "BenchmarkData",
           "cifar10_splits", "input_size", "check_models"]

#: The source project's transforms (its section 2.1) as ImageDataGenerator-style
#: settings for :func:`seminar_utils.augment.build_augmentation`.
SOURCE_AUGMENTATION: dict[str, Any] = {
    "rotation_range": 30, "width_shift_range": 0.2, "height_shift_range": 0.2,
    "zoom_range": 0.3, "horizontal_flip": True, "fill_mode": "nearest",
}

#: The weight policies: what a model is built with, and what happens without ImageNet weights.
WEIGHT_POLICIES: dict[str | None, str] = {
    "imagenet": "ImageNet weights (a local file, else a download); none to be had is an error",
    "imagenet-or-random": "ImageNet weights (a local file, else a download), else random",
    "local-or-random": "ImageNet weights from a local file only (mirror, Keras cache), else random",
    None: "random weights (weights=None)",
}


@dataclass(frozen=True)
class BenchmarkConfig:
    """What every model of one benchmark run shares.

    ``image_size``: an int, or ``"native"`` for each model's ImageNet size; a model whose
    minimum is larger gets its minimum (:func:`input_size`). ``weights``: one of
    :data:`WEIGHT_POLICIES` (``"imagenet"``, ``"imagenet-or-random"``, ``"local-or-random"``:
    never a download, or ``None``); every row's ``weights`` column says what it got.
    ``augmentation``: the ImageDataGenerator-style settings applied when ``augment`` is true.

    >>> BenchmarkConfig(profile="smoke", epochs=1).epochs
    1
    """

    profile: str = "smoke"
    image_size: int | str = 32
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 1e-3
    seed: int = 42
    weights: str | None = None
    augment: bool = True
    augmentation: Mapping[str, Any] = field(default_factory=lambda: dict(SOURCE_AUGMENTATION))
    dense_units: int = 256
    dropout: float = 0.5

    def __post_init__(self) -> None:
        if self.weights not in WEIGHT_POLICIES:
            raise ValueError(f"weights must be one of {', '.join(map(repr, WEIGHT_POLICIES))}; "
                             f"got {self.weights!r}.")

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (JSON-ready)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], profile: str) -> "BenchmarkConfig":
        """Build from a recipe such as a profile's settings (keys named like the fields).

        Other keys are ignored, so a notebook's whole settings block can be passed.

        >>> BenchmarkConfig.from_settings({"epochs": 2, "train_samples": 9}, "quick").epochs
        2
        """
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in settings.items() if k in known}
        values["profile"] = profile
        return cls(**values)


def input_size(name: str, image_size: int | str) -> int:
    """The square input size backbone ``name`` gets when ``image_size`` is asked for.

    ``"native"`` is the model's ImageNet size (224, 240 for EfficientNetB1, 299 for
    InceptionV3 / Xception); an int is raised to the model's minimum when below it.

    >>> input_size("Xception", 32), input_size("EfficientNetB1", "native")
    (71, 240)
    """
    spec = get_spec(name)
    if isinstance(image_size, str):
        if image_size.strip().lower() != "native":
            raise ValueError(f"image_size must be an int or 'native'; got {image_size!r}.")
        return spec.native_size
    return max(int(image_size), spec.min_size)


def check_models(models: Iterable[str] | str) -> list[str]:
    """Canonical names for ``models`` (a list or a comma-separated string), before anything runs.

    An unknown name raises the registry's error (with the valid names), a repeated one a
    ValueError.

    >>> check_models(["resnet50v2", "VGG16"])
    ['ResNet50V2', 'VGG16']
    """
    if isinstance(models, str):
        models = [m for m in models.split(",") if m.strip()]
    out = [get_spec(m).name for m in models]          # UnknownBackboneError lists valid names
    twice = {n for n in out if out.count(n) > 1}
    if twice:
        raise ValueError(f"Model(s) listed twice: {', '.join(sorted(twice))}.")
    if not out:
        raise ValueError(f"No models given. Valid names: {', '.join(backbone_names())}.")
    return out


@dataclass
class BenchmarkData:
    """Train / validation / test arrays (uint8 or float 0-255 images, integer labels).

    >>> d = BenchmarkData(*(np.zeros((4, 8, 8, 3), "uint8"), np.arange(4) % 2) * 3)
    >>> d.counts()
    {'train': 4, 'val': 4, 'test': 4}
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str] = field(default_factory=list)
    source: str = "arrays"

    @property
    def num_classes(self) -> int:
        """The number of classes (of ``class_names``, else the largest label + 1)."""
        return len(self.class_names) or int(max(self.y_train.max(), self.y_val.max(),
                                                self.y_test.max()) + 1)

    def counts(self) -> dict[str, int]:
        """Images per split."""
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}

    def fingerprint(self) -> str:
        """A short hash of the arrays (the same data gives the same id)."""
        h = hashlib.sha1()
        for a in (self.x_train, self.y_train, self.x_val, self.y_val, self.x_test, self.y_test):
            a = np.ascontiguousarray(a)
            h.update(str((a.shape, a.dtype.str)).encode())
            h.update(a.tobytes())
        return h.hexdigest()[:12]

    def save(self, path: str | os.PathLike) -> Path:
        """Write the arrays to an ``.npz`` (how a child process gets them)."""
        path = Path(path)
        np.savez(path, x_train=self.x_train, y_train=self.y_train, x_val=self.x_val,
                 y_val=self.y_val, x_test=self.x_test, y_test=self.y_test,
                 class_names=np.array(self.class_names, dtype=str), source=np.array(self.source))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "BenchmarkData":
        """Read an ``.npz`` written by :meth:`save` (or any with the six arrays)."""
        with np.load(path) as f:
            names = [str(c) for c in f["class_names"]] if "class_names" in f else []
            source = str(f["source"]) if "source" in f else "arrays"
            return cls(f["x_train"], f["y_train"].reshape(-1), f["x_val"], f["y_val"].reshape(-1),
                       f["x_test"], f["y_test"].reshape(-1), names, source)


def cifar10_splits(profile: str, train_samples: int | None, val_samples: int,
                   test_samples: int | None, seed: int = 0) -> BenchmarkData:
    """CIFAR-10 from :func:`seminar_utils.data.load_cifar10` as stratified train / val / test.

    ``train_samples + val_samples`` images are drawn (stratified) from the training set, then
    split (stratified) into train and validation; ``None`` means all of it.

    >>> cifar10_splits("smoke", 100, 50, 50).counts()  # doctest: +SKIP
    {'train': 100, 'val': 50, 'test': 50}
    """
    from .. import data as _data
    pool = None if train_samples is None else int(train_samples) + int(val_samples)
    cifar = _data.load_cifar10(profile, train_samples=pool, test_samples=test_samples, seed=seed)
    val_idx = _data.stratified_indices(cifar.y_train, int(val_samples), seed=seed + 7)
    is_val = np.zeros(len(cifar.y_train), bool)
    is_val[val_idx] = True
    return BenchmarkData(cifar.x_train[~is_val], cifar.y_train[~is_val].reshape(-1),
                         cifar.x_train[is_val], cifar.y_train[is_val].reshape(-1),
                         cifar.x_test, cifar.y_test.reshape(-1), list(cifar.class_names),
                         cifar.source)
