"""A fair, resumable benchmark of pretrained backbones (notebook 07).

Every model in the list gets the same data, the same head (GlobalAveragePooling2D + Dense(256)
+ Dropout(0.5) + Dense(classes), the source project's head), the same optimizer, epochs, batch
size, augmentation and seed. What differs is only what MUST differ: each backbone gets ITS OWN
``preprocess_input`` (inside the model, from :mod:`seminar_utils.backbones`) and an input size
that it accepts (the images are resized inside the model; InceptionV3 needs at least 75 px,
Xception 71).

For each model one row records: train / validation / test accuracy and loss, seconds per epoch
and in total, inference milliseconds per image, total and trainable parameters, the size of
the saved weight file, the peak memory (RSS) of the process that trained it, and the run
settings (profile, image size, epochs, whether the weights were ImageNet or random stand-ins).

How it stays cheap to rerun and flat in memory:

* **one process per model** (``isolate=True``, the default): the notebook kernel never builds
  a model, so its memory does not grow from model to model, and the peak RSS of each child is
  that model's own (``ru_maxrss`` / ``VmHWM`` only ever grow inside one process);
* **a CSV row after EACH model**: a rerun skips every model already in the CSV with the same
  settings (``redo=True`` reruns them), so an interrupted run (Ctrl-C, a killed kernel, a Colab
  disconnect) loses at most the model in progress;
* an unknown model name fails before anything runs, with the registry's list of valid names.

From a shell (the same code the notebook runs)::

    python -m seminar_utils.benchmark --profile smoke --models MobileNetV2,VGG16 --csv out.csv

>>> from seminar_utils.benchmark import BenchmarkConfig, input_size
>>> input_size("InceptionV3", 32), input_size("ResNet50V2", 32), input_size("ResNet50V2", "native")
(75, 32, 224)
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as _dt
import gc
import hashlib
import html
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .backbones import get_spec, names as backbone_names

NOTEBOOK = "07_pretrained_benchmark"

#: The columns of the results CSV, in order.
COLUMNS: tuple[str, ...] = (
    "model", "train_accuracy", "train_loss", "val_accuracy", "val_loss", "test_accuracy",
    "test_loss", "epochs", "first_epoch_seconds", "seconds_per_epoch", "train_seconds",
    "train_cpu_seconds", "wall_seconds", "inference_ms_per_image", "total_params",
    "trainable_params", "weights_mb", "peak_rss_mb", "input_size", "preprocessing", "weights",
    "profile", "image_size", "batch_size", "learning_rate", "augment", "seed", "train_samples",
    "val_samples", "test_samples", "data_source", "isolation", "workers", "run_id", "keras",
    "backend", "device", "finished_at",
)
_FLOATS = {"train_accuracy", "train_loss", "val_accuracy", "val_loss", "test_accuracy",
           "test_loss", "first_epoch_seconds", "seconds_per_epoch", "train_seconds",
           "train_cpu_seconds", "wall_seconds", "inference_ms_per_image", "weights_mb",
           "peak_rss_mb", "learning_rate"}
_INTS = {"epochs", "workers", "total_params", "trainable_params", "input_size", "batch_size",
         "seed", "train_samples", "val_samples", "test_samples"}


class BenchmarkError(RuntimeError):
    """A model failed during the benchmark (the rows finished before it are kept)."""


# ----------------------------------------------------------------------------- settings

@dataclass(frozen=True)
class BenchmarkConfig:
    """What every model of one benchmark run shares.

    ``image_size``: the size asked for (an int, or ``"native"`` for each model's ImageNet size);
    a model whose minimum is larger gets its minimum (:func:`input_size`). ``weights``:
    ``"imagenet"`` (must be available), ``"imagenet-or-random"`` (ImageNet when it can be had,
    else random weights, said in the ``weights`` column) or ``None`` (random, offline-safe).

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
    dense_units: int = 256
    dropout: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], profile: str) -> "BenchmarkConfig":
        """Build from a notebook's profile settings (keys named like the fields; others ignored).

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


def check_models(models: Iterable[str]) -> list[str]:
    """Canonical names for ``models``; an unknown name raises the registry's error (with the
    valid names) and a repeated one a ValueError, before anything runs.

    >>> check_models(["resnet50v2", "VGG16"])
    ['ResNet50V2', 'VGG16']
    """
    if isinstance(models, str):
        models = [m for m in models.split(",") if m.strip()]
    out = [get_spec(m).name for m in models]          # UnknownBackboneError lists valid names
    seen = {n for n in out if out.count(n) > 1}
    if seen:
        raise ValueError(f"Model(s) listed twice: {', '.join(sorted(seen))}.")
    if not out:
        raise ValueError(f"No models given. Valid names: {', '.join(backbone_names())}.")
    return out


# ----------------------------------------------------------------------------- data

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
        return len(self.class_names) or int(max(self.y_train.max(), self.y_val.max(),
                                                self.y_test.max()) + 1)

    def counts(self) -> dict[str, int]:
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
        path = Path(path)
        np.savez(path, x_train=self.x_train, y_train=self.y_train, x_val=self.x_val,
                 y_val=self.y_val, x_test=self.x_test, y_test=self.y_test,
                 class_names=np.array(self.class_names, dtype=str), source=np.array(self.source))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "BenchmarkData":
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

    >>> d = cifar10_splits("smoke", 100, 50, 50)  # doctest: +SKIP
    >>> d.counts()                                # doctest: +SKIP
    {'train': 100, 'val': 50, 'test': 50}
    """
    from . import data as _data
    pool = None if train_samples is None else int(train_samples) + int(val_samples)
    cifar = _data.load_cifar10(profile, train_samples=pool, test_samples=test_samples, seed=seed)
    val_idx = _data.stratified_indices(cifar.y_train, int(val_samples), seed=seed + 7)
    is_val = np.zeros(len(cifar.y_train), bool)
    is_val[val_idx] = True
    return BenchmarkData(cifar.x_train[~is_val], cifar.y_train[~is_val].reshape(-1),
                         cifar.x_train[is_val], cifar.y_train[is_val].reshape(-1),
                         cifar.x_test, cifar.y_test.reshape(-1), list(cifar.class_names),
                         cifar.source)


# ----------------------------------------------------------------------------- memory

def peak_rss_mb() -> float:
    """Peak resident memory of THIS process so far, in MB (VmHWM, else ``ru_maxrss``).

    The value never decreases inside a process: that is why the benchmark measures each model
    in its own child process.

    >>> peak_rss_mb() > 0
    True
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    try:
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0
    except (ImportError, OSError):  # pragma: no cover - Windows
        return float("nan")


def current_rss_mb(pid: int | None = None) -> float:
    """Resident memory of process ``pid`` (default: this one) now, in MB.

    >>> current_rss_mb() > 0
    True
    """
    try:
        import psutil
        return psutil.Process(pid).memory_info().rss / (1024.0 * 1024.0)
    except ImportError:
        pass
    try:
        with open(f"/proc/{pid or 'self'}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def _reset_peak_rss() -> bool:
    """Reset this process's VmHWM (Linux >= 4.0: write 5 to clear_refs); True if it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# ----------------------------------------------------------------------------- one model

def _check_weights(weights: str | None) -> None:
    if weights not in (None, "imagenet", "imagenet-or-random"):
        raise ValueError(f"weights must be 'imagenet', 'imagenet-or-random' or None; "
                         f"got {weights!r}.")


def imagenet_available(name: str = "MobileNetV2") -> bool:
    """Whether ImageNet weights of ``name`` can be had here (the Keras cache, or a download).

    Builds the backbone once, small, with ``weights="imagenet"``; offline without the file this
    fails within seconds (no network) and returns False.

    >>> isinstance(imagenet_available(), bool)  # doctest: +SKIP
    True
    """
    from .backbones import build_backbone
    from .data import AssetUnavailable
    spec = get_spec(name)
    try:   # 96 px: a size MobileNet V1/V2 have ImageNet weights for (no warning), cheap to build
        build_backbone(spec.name, max(spec.min_size, 96), weights="imagenet")
        return True
    except AssetUnavailable:
        return False


def augmentation_layers(seed: int) -> Any:
    """The shared augmentation: the source project's transforms (rotation, zoom, shifts,
    horizontal flip, section 2.1 of seed 004), as Keras 3 layers on 0-255 images.

    >>> [layer.name for layer in augmentation_layers(0).layers]
    ['flip', 'rotate', 'zoom', 'shift']
    """
    import keras
    from keras import layers
    return keras.Sequential([
        layers.RandomFlip("horizontal", seed=seed, name="flip"),
        layers.RandomRotation(30 / 360, fill_mode="nearest", seed=seed + 1, name="rotate"),
        layers.RandomZoom((-0.3, 0.3), (-0.3, 0.3), fill_mode="nearest", seed=seed + 2,
                          name="zoom"),
        layers.RandomTranslation(0.2, 0.2, fill_mode="nearest", seed=seed + 3, name="shift"),
    ], name="augment")


def _environment() -> dict[str, str]:
    import keras
    backend = keras.backend.backend()
    try:
        from .env import gpu_names
        gpus = gpu_names()
    except Exception:  # pragma: no cover
        gpus = []
    device = f"GPU: {gpus[0]}" if gpus else f"CPU ({os.cpu_count()} cores)"
    return {"keras": keras.__version__, "backend": backend, "device": device}


def _BatchClock():
    """A Keras callback recording the seconds of every predict batch (``.seconds``)."""
    import keras

    class BatchClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []

        def on_predict_batch_begin(self, batch, logs=None):
            self._t = time.perf_counter()

        def on_predict_batch_end(self, batch, logs=None):
            self.seconds.append(time.perf_counter() - self._t)

    return BatchClock()


def _score(probs: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Accuracy and mean sparse categorical cross-entropy (Keras's clipping at 1e-7)."""
    if len(labels) == 0:
        return float("nan"), float("nan")
    acc = float(np.mean(probs.argmax(axis=1) == labels))
    p_true = np.clip(probs[np.arange(len(labels)), labels], 1e-7, 1.0)
    return acc, float(np.mean(-np.log(p_true)))


def run_one(name: str, data: BenchmarkData, config: BenchmarkConfig, verbose: int = 2
            ) -> dict[str, Any]:
    """Train and evaluate ONE backbone in this process; return its result row (a dict).

    The run: seed -> build (resize to :func:`input_size`, augmentation, own preprocessing,
    frozen backbone, the shared head) -> ``fit`` (each epoch timed; the first one also builds
    the training graph, so ``seconds_per_epoch`` is the mean of the later epochs when there
    are any) -> one ``predict`` over the validation and test images (their accuracy and loss;
    inference ms per image = the median batch time / batch size, the first batch, which
    builds the graph, left out) -> ``save_weights`` to a temporary ``.weights.h5`` (its size)
    -> the peak RSS of this process.

    >>> row = run_one("MobileNetV2", tiny_data, BenchmarkConfig())  # doctest: +SKIP
    >>> sorted(row) == sorted(COLUMNS)                               # doctest: +SKIP
    True
    """
    import keras
    from .backbones import build_transfer_model
    from .train import TimingCallback, set_seed

    t_start = time.perf_counter()
    spec = get_spec(name)
    set_seed(config.seed)
    size = input_size(spec.name, config.image_size)
    _check_weights(config.weights)
    shape = tuple(int(d) for d in data.x_train.shape[1:])

    def build(weights):
        return build_transfer_model(
            spec.name, shape, num_classes=data.num_classes,
            resize_to=None if shape[:2] == (size, size) else size,
            augmentation=augmentation_layers(config.seed) if config.augment else None,
            dense_units=config.dense_units, dropout=config.dropout, weights=weights)

    if config.weights is None:
        model, weights_label = build(None), "random (weights=None)"
    elif config.weights == "imagenet":
        model, weights_label = build("imagenet"), "imagenet"
    else:                                   # "imagenet-or-random"
        from .data import AssetUnavailable
        try:
            model, weights_label = build("imagenet"), "imagenet"
        except AssetUnavailable:
            set_seed(config.seed)
            model, weights_label = build(None), "random (ImageNet weights unavailable)"
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    timer = TimingCallback()
    cpu0 = time.process_time()
    # No validation_data here: validation and test are scored afterwards by ONE predict pass,
    # so Keras traces two graphs per model (train, predict) instead of three. The numbers are
    # the same as fit's val_* after the last epoch.
    history = model.fit(data.x_train.astype("float32"), data.y_train,
                        epochs=int(config.epochs), batch_size=int(config.batch_size),
                        shuffle=True, callbacks=[timer], verbose=verbose)
    h = history.history
    train_cpu = time.process_time() - cpu0

    # Validation + test in one predict call, padded to whole batches; the time per batch is
    # recorded, the first batch (which builds the predict graph) left out of the inference time.
    x_eval = np.concatenate([data.x_val, data.x_test]).astype("float32")
    y_eval = np.concatenate([data.y_val, data.y_test]).astype(int)
    bs = int(config.batch_size)
    pad = (-len(x_eval)) % bs
    if pad:
        x_eval = np.concatenate([x_eval, x_eval[:pad]])
    clock = _BatchClock()
    probs = np.asarray(model.predict(x_eval, batch_size=bs, verbose=0, callbacks=[clock]))
    probs = probs[: len(y_eval)]
    steady = clock.seconds[1:] or clock.seconds
    infer_ms = 1000.0 * float(np.median(steady)) / bs
    n_val = len(data.y_val)
    val_acc, val_loss = _score(probs[:n_val], y_eval[:n_val])
    test_acc, test_loss = _score(probs[n_val:], y_eval[n_val:])

    with tempfile.TemporaryDirectory() as tmp:
        wpath = Path(tmp) / f"{spec.name}.weights.h5"
        model.save_weights(wpath)
        weights_mb = wpath.stat().st_size / 1e6
    total = int(model.count_params())
    trainable = int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
    row = {
        "model": spec.name,
        "train_accuracy": float(h["accuracy"][-1]), "train_loss": float(h["loss"][-1]),
        "val_accuracy": val_acc, "val_loss": val_loss,
        "test_accuracy": test_acc, "test_loss": test_loss,
        "epochs": int(config.epochs), "first_epoch_seconds": timer.epoch_seconds[0],
        "seconds_per_epoch": float(np.mean(timer.epoch_seconds[1:] or timer.epoch_seconds)),
        "train_seconds": timer.total_seconds, "train_cpu_seconds": train_cpu,
        "wall_seconds": time.perf_counter() - t_start,
        "inference_ms_per_image": infer_ms,
        "total_params": total, "trainable_params": trainable, "weights_mb": weights_mb,
        "peak_rss_mb": peak_rss_mb(), "input_size": size, "preprocessing": spec.preprocessing,
        "weights": weights_label, "profile": config.profile, "image_size": config.image_size,
        "batch_size": int(config.batch_size), "learning_rate": float(config.learning_rate),
        "augment": bool(config.augment), "seed": int(config.seed),
        "train_samples": len(data.y_train), "val_samples": len(data.y_val),
        "test_samples": len(data.y_test), "data_source": data.source,
        "isolation": "in-process",
        "finished_at": _dt.datetime.now().isoformat(timespec="seconds"),
        **_environment(),
    }
    del model
    return row


# ----------------------------------------------------------------------------- the CSV

def run_id(config: BenchmarkConfig, data: BenchmarkData) -> str:
    """A short id of (settings, data): rows with the same id are results of the same run.

    >>> d = BenchmarkData(*(np.zeros((2, 4, 4, 3), "uint8"), np.arange(2)) * 3)
    >>> run_id(BenchmarkConfig(), d) == run_id(BenchmarkConfig(), d)
    True
    """
    blob = json.dumps(config.to_dict(), sort_keys=True) + data.fingerprint()
    return hashlib.sha1(blob.encode()).hexdigest()[:10]


def append_row(path: str | os.PathLike, row: Mapping[str, Any]) -> None:
    """Append one result row to the CSV (header first if the file is new), flushed to disk.

    >>> append_row(Path(tempfile.mkdtemp()) / "r.csv", {"model": "VGG16"})
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with open(path, "a", newline="", encoding="utf-8") as f:
        if not new:   # a run killed mid-write can leave a line without its newline
            with open(path, "rb") as g:
                g.seek(-1, os.SEEK_END)
                if g.read(1) not in (b"\n", b"\r"):
                    f.write("\n")
        writer = csv.DictWriter(f, fieldnames=list(COLUMNS), extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow({k: _fmt(row.get(k, "")) for k in COLUMNS})
        f.flush()
        os.fsync(f.fileno())


def _fmt(v: Any) -> Any:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.6g}"
    return v


def _parse(row: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if k is None:
            continue
        if k in _FLOATS:
            out[k] = float(v) if v not in ("", None) else float("nan")
        elif k in _INTS:
            out[k] = int(float(v)) if v not in ("", None) else None
        elif k == "augment":
            out[k] = str(v).lower() == "true"
        elif k == "image_size":
            out[k] = int(v) if str(v).isdigit() else v
        else:
            out[k] = v
    return out


def _is_timestamp(v: Any) -> bool:
    try:
        return len(str(v)) == 19 and bool(_dt.datetime.fromisoformat(str(v)))
    except ValueError:
        return False


def read_results(path: str | os.PathLike, run: str | None = None) -> "ResultTable":
    """The rows of a results CSV (the last row per model wins), optionally of one ``run`` id.

    Rows that a killed run left incomplete are skipped.

    >>> read_results(Path(tempfile.mkdtemp()) / "missing.csv")
    ResultTable(0 rows)
    """
    path = Path(path)
    latest: dict[str, dict[str, Any]] = {}
    if path.exists():
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            for raw in reader:
                if None in raw or not raw.get("model") or not _is_timestamp(raw.get("finished_at")):
                    continue                       # a partial line from an interrupted write
                row = _parse(raw)
                if run is not None and row.get("run_id") != run:
                    continue
                latest[row["model"]] = row
    return ResultTable(latest.values())


class ResultTable(list):
    """Result rows (dicts) that print as a table, in text and in HTML.

    ``columns``: the ``(key, header, format)`` triples to show (default :attr:`SHOW`); columns
    that no row has are left out.

    >>> t = ResultTable([{"model": "A", "test_accuracy": 0.5},
    ...                  {"model": "B", "test_accuracy": 0.7}])
    >>> [r["model"] for r in t.sorted_by("test_accuracy")]
    ['B', 'A']
    """

    #: The columns shown by default: (key, header, format).
    SHOW: tuple[tuple[str, str, str], ...] = (
        ("model", "model", "{}"), ("input_size", "px", "{}"),
        ("preprocessing", "preproc.", "{}"),
        ("train_accuracy", "train acc", "{:.3f}"), ("val_accuracy", "val acc", "{:.3f}"),
        ("test_accuracy", "test acc", "{:.3f}"), ("test_loss", "test loss", "{:.2f}"),
        ("seconds_per_epoch", "s/epoch", "{:.1f}"), ("train_seconds", "train s", "{:.0f}"),
        ("inference_ms_per_image", "ms/img", "{:.2f}"),
        ("total_params", "params", "{:,}"), ("trainable_params", "trainable", "{:,}"),
        ("weights_mb", "weights MB", "{:.1f}"), ("peak_rss_mb", "peak RSS MB", "{:.0f}"),
    )

    def __init__(self, rows: Iterable[Mapping[str, Any]] = (),
                 columns: Sequence[tuple[str, str, str]] | None = None):
        super().__init__(rows)
        self.columns = tuple(columns) if columns else self.SHOW

    def sorted_by(self, key: str = "test_accuracy", descending: bool = True) -> "ResultTable":
        def k(r):
            v = r.get(key)
            missing = v is None or (isinstance(v, float) and math.isnan(v))
            return (missing, 0 if v is None else v)
        rows = sorted(self, key=k)
        if descending:
            good = [r for r in rows if not k(r)[0]][::-1]
            rows = good + [r for r in rows if k(r)[0]]
        return ResultTable(rows, self.columns)

    def column(self, key: str) -> list[Any]:
        return [r.get(key) for r in self]

    def by_model(self) -> dict[str, dict[str, Any]]:
        return {r["model"]: r for r in self}

    def _cells(self, columns=None) -> tuple[list[str], list[list[str]]]:
        cols = [c for c in (columns or self.columns) if any(c[0] in r for r in self)]
        heads = [c[1] for c in cols]
        body = []
        for r in self:
            line = []
            for key, _, fmt in cols:
                v = r.get(key)
                line.append("" if v is None or (isinstance(v, float) and math.isnan(v))
                            else fmt.format(v))
            body.append(line)
        return heads, body

    def to_text(self, columns=None) -> str:
        if not self:
            return "(no results)"
        heads, body = self._cells(columns)
        widths = [max(len(x) for x in col) for col in zip(heads, *body)]
        lines = ["  ".join(h.rjust(w) if i else h.ljust(w)
                           for i, (h, w) in enumerate(zip(heads, widths)))]
        lines.append("  ".join("-" * w for w in widths))
        for b in body:
            lines.append("  ".join(x.rjust(w) if i else x.ljust(w)
                                   for i, (x, w) in enumerate(zip(b, widths))))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if not self:
            return "<i>(no results)</i>"
        heads, body = self._cells()
        head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
        rows = "".join("<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in b) + "</tr>"
                       for b in body)
        return f"<table><tr>{head}</tr>{rows}</table>"

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"ResultTable({len(self)} rows)"


# ----------------------------------------------------------------------------- the run

def _in_notebook() -> bool:
    """True inside a Jupyter kernel, where a redrawn (carriage-return) bar is stored badly."""
    return "ipykernel" in sys.modules


class _Progress:
    """The progress over models, with an estimated time left.

    In a terminal: a live tqdm bar (tqdm comes with papermill). In a notebook: the same bar
    printed as one line after each model (a bar redrawn with carriage returns turns into dozens
    of fragments in a saved notebook and its HTML). Without tqdm: a plain line per model.
    """

    def __init__(self, total: int, done: int, live: bool | None = None):
        self.total, self.done, self.initial = total, done, done
        self.t0 = time.perf_counter()
        try:
            from tqdm.std import tqdm
        except ImportError:  # pragma: no cover - tqdm comes with papermill
            tqdm = None
        self._tqdm = tqdm
        self.bar = None
        if tqdm is not None and (not _in_notebook() if live is None else live):
            self.bar = tqdm(total=total, initial=done, unit="model", file=sys.stdout, ncols=100,
                            desc="benchmark", bar_format="{desc}: {n}/{total} models |{bar}| "
                                                         "[{elapsed} elapsed, ETA {remaining}]")

    def start(self, name: str) -> None:
        if self.bar is not None:
            self.bar.set_description_str(f"benchmark ({name})")
        else:
            print(f"-> {name} started", flush=True)

    def write(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=sys.stdout)
        else:
            print(line, flush=True)

    def meter(self) -> str:
        """The bar as one line: done/total, elapsed time and the time left."""
        elapsed = time.perf_counter() - self.t0
        if self._tqdm is not None:
            return self._tqdm.format_meter(
                self.done, self.total, elapsed, ncols=100, initial=self.initial,
                prefix="benchmark", bar_format="{desc}: {n}/{total} models |{bar}| "
                                               "[{elapsed} elapsed, ETA {remaining}]")
        finished = self.done - self.initial
        left = (self.total - self.done) * elapsed / max(finished, 1)
        return (f"benchmark: {self.done}/{self.total} models [{elapsed:.0f} s elapsed, "
                f"ETA ~{left / 60:.1f} min]")

    def step(self, message: str) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.write(message, file=sys.stdout)
            self.bar.update(1)
        else:
            print(message, flush=True)
            print(self.meter(), flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.set_description_str("benchmark")
            self.bar.close()


def share_gpu_memory() -> list[str]:
    """Let TensorFlow take GPU memory as it needs it instead of (nearly) all of it at start.

    The notebook's kernel and the benchmark's child processes share one GPU: call this before
    the kernel runs anything on it, or the first child finds no memory left. A no-op without a
    GPU or without TensorFlow; returns the GPUs it could set (none once TF has started on them).

    >>> share_gpu_memory()      # on a CPU-only machine
    []
    """
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover - another Keras backend
        return []
    done = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
            done.append(gpu.name)
        except RuntimeError:  # pragma: no cover - TF already initialised the device
            pass
    return done


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")   # one GPU shared with the kernel
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    pkg_root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = pkg_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


class _Child:
    """One model's child process; a thread forwards its stdout lines to a queue."""

    def __init__(self, name: str, work: Path, job: Path, events: "queue.Queue"):
        self.name, self.result, self.log_path = name, work / f"{name}.json", work / f"{name}.log"
        self.t0 = time.perf_counter()
        cmd = [sys.executable, "-m", "seminar_utils.benchmark", "--one", name, "--job", str(job),
               "--result", str(self.result)]
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log, text=True,
                                     bufsize=1, env=_child_env())
        self._thread = threading.Thread(target=self._pump, args=(events,), daemon=True)
        self._thread.start()

    def _pump(self, events: "queue.Queue") -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip():
                events.put((self, "line", line.rstrip()))
        events.put((self, "exit", self.proc.wait()))

    def finish(self, rc: int) -> dict:
        self._thread.join(timeout=5)
        self._log.close()
        if rc != 0 or not self.result.exists():
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-25:]
            raise BenchmarkError(f"{self.name} failed (exit status {rc}); the last lines of its "
                                 f"log ({self.log_path}):\n" + "\n".join(tail))
        row = json.loads(self.result.read_text())
        row["wall_seconds"] = time.perf_counter() - self.t0    # with the child's start-up
        row["isolation"] = "child process"
        return row

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                self.proc.kill()
        self._log.close()


def _record(row: dict, rid: str, results_csv: Path, progress: _Progress, workers: int) -> None:
    row["run_id"] = rid
    row["workers"] = workers
    append_row(results_csv, row)
    progress.step(f"<- {row['model']} done: test accuracy {row['test_accuracy']:.3f}, "
                  f"{row['train_seconds']:.0f} s training, peak {row['peak_rss_mb']:.0f} MB; "
                  f"row written to {results_csv.name}")


def run_benchmark(models: Sequence[str], data: BenchmarkData, config: BenchmarkConfig,
                  results_csv: str | os.PathLike, redo: bool = False, isolate: bool = True,
                  workers: int = 1, verbose: int = 2) -> ResultTable:
    """Run ``models``; append a row to ``results_csv`` as soon as each one is finished.

    Models with a row of the same settings and data (same :func:`run_id`) are skipped unless
    ``redo=True``. ``isolate=True`` trains each model in its own Python process
    (``python -m seminar_utils.benchmark --one NAME``): flat memory, a true per-model peak RSS,
    and a killed kernel takes its child with it. ``workers`` children run at the same time
    (default 1: timings are only comparable when models do not share the CPU; ``2`` halves
    the wall time of a smoke run, whose timings mean nothing anyway). ``isolate=False`` trains
    in this process and clears the Keras session between models. Returns the rows of this
    run (finished earlier or now), in the order of ``models``.

    >>> run_benchmark(["MobileNetV2"], data, BenchmarkConfig(), "r.csv")  # doctest: +SKIP
    ResultTable(1 rows)
    """
    import queue

    models = check_models(models)                 # fails before anything runs
    if int(workers) < 1:
        raise ValueError(f"workers must be >= 1; got {workers}.")
    results_csv = Path(results_csv)
    rid = run_id(config, data)
    done = {} if redo else read_results(results_csv, rid).by_model()
    todo = [m for m in models if m not in done]
    skipped = [m for m in models if m in done]
    if skipped:
        print(f"Already in {results_csv.name} with these settings (run {rid}), skipped: "
              f"{', '.join(skipped)}. Pass redo=True to run them again.", flush=True)

    if todo:
        progress = _Progress(len(models), len(skipped))
        work = Path(tempfile.mkdtemp(prefix="seminar_benchmark_"))
        running: list[_Child] = []
        try:
            if not isolate:
                for name in todo:
                    progress.start(name)
                    reset = _reset_peak_rss()
                    row = run_one(name, data, config, verbose=verbose)
                    row["isolation"] = "in-process" + ("" if reset else " (peak since start)")
                    import keras
                    keras.backend.clear_session()
                    gc.collect()
                    _record(row, rid, results_csv, progress, 1)
            else:
                job = work / "job.json"
                job.write_text(json.dumps({"config": config.to_dict(),
                                           "data": str(data.save(work / "data.npz")),
                                           "verbose": verbose}))
                events: queue.Queue = queue.Queue()
                waiting = list(todo)
                while waiting or running:
                    while waiting and len(running) < int(workers):
                        name = waiting.pop(0)
                        progress.start(name)
                        running.append(_Child(name, work, job, events))
                    child, kind, payload = events.get()
                    if kind == "line":
                        progress.write(f"  {child.name}: {payload}")
                        continue
                    running.remove(child)
                    _record(child.finish(payload), rid, results_csv, progress, int(workers))
        except BaseException:          # Ctrl-C, a kernel interrupt, a failed model
            for child in running:
                child.stop()
            raise
        finally:
            progress.close()
            for p in work.glob("*"):
                if p.suffix in {".npz", ".json", ".tmp"}:
                    p.unlink(missing_ok=True)
    rows = read_results(results_csv, rid).by_model()
    return ResultTable(rows[m] for m in models if m in rows)


# ----------------------------------------------------------------------------- analysis

def pareto_front(rows: Sequence[Mapping[str, Any]], cost: str, value: str = "test_accuracy"
                 ) -> list[str]:
    """The models no other model beats on both ``cost`` (lower is better) and ``value``
    (higher is better), in order of increasing cost.

    >>> rows = [{"model": "a", "t": 1, "acc": 0.5}, {"model": "b", "t": 2, "acc": 0.4},
    ...         {"model": "c", "t": 3, "acc": 0.9}]
    >>> pareto_front(rows, "t", "acc")
    ['a', 'c']
    """
    pts = [(float(r[cost]), -float(r[value]), r["model"]) for r in rows
           if r.get(cost) is not None and r.get(value) is not None
           and not math.isnan(float(r[cost])) and not math.isnan(float(r[value]))]
    front, best = [], -math.inf
    for c, neg_v, name in sorted(pts):
        if -neg_v > best:
            front.append(name)
            best = -neg_v
    return front


def _short_number(v: float, _pos: Any = None) -> str:
    """Tick labels such as 20, 500, 3k, 20M."""
    for unit, div in (("M", 1e6), ("k", 1e3)):
        if v >= div:
            return f"{v / div:g}{unit}"
    return f"{v:g}"


def _place_labels(ax: Any, pts: Sequence[tuple[float, float, str]], bold: set[str]) -> None:
    """Write each point's name beside it, trying a few positions so that no two names overlap."""
    from matplotlib.transforms import Bbox
    renderer = ax.figure.canvas.get_renderer()
    taken: list[Any] = []
    for x, y, _ in pts:                     # keep the markers themselves free too
        px, py = ax.transData.transform((x, y))
        taken.append(Bbox([[px - 4, py - 4], [px + 4, py + 4]]))
    candidates = [((5, 3), "left", "bottom"), ((5, -3), "left", "top"),
                  ((-5, 3), "right", "bottom"), ((-5, -3), "right", "top"),
                  ((5, 12), "left", "bottom"), ((5, -12), "left", "top"),
                  ((-5, 12), "right", "bottom"), ((-5, -12), "right", "top")]
    for x, y, name in sorted(pts, key=lambda p: (p[2] not in bold, p[0])):
        text = None
        for (dx, dy), ha, va in candidates:
            if text is not None:
                text.remove()
            text = ax.annotate(name, (x, y), textcoords="offset points", xytext=(dx, dy),
                               ha=ha, va=va, fontsize=7.5,
                               fontweight="bold" if name in bold else "normal")
            box = text.get_window_extent(renderer).expanded(1.02, 1.1)
            if not any(box.overlaps(t) for t in taken):
                break
        taken.append(text.get_window_extent(renderer))


def plot_tradeoff(rows: Sequence[Mapping[str, Any]], cost: str, value: str = "test_accuracy",
                  ax: Any = None, logx: bool = False, xlabel: str | None = None,
                  ylabel: str | None = None, title: str | None = None) -> Any:
    """Scatter ``value`` against ``cost`` for every model, the Pareto front drawn as a step
    line and its models in bold. Returns the matplotlib Axes.

    >>> ax = plot_tradeoff([{"model": "a", "t": 1, "acc": 0.5}], "t", "acc")  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.8))
    front = pareto_front(rows, cost, value)
    by = {r["model"]: r for r in rows}
    pts = [(float(r[cost]), float(r[value]), r["model"]) for r in rows]
    for x, y, name in pts:
        on = name in front
        ax.scatter(x, y, s=60 if on else 35, color="tab:red" if on else "tab:blue", zorder=3,
                   edgecolor="black" if on else "none")
    if front:
        xs = [float(by[m][cost]) for m in front]
        ys = [float(by[m][value]) for m in front]
        ax.step(xs, ys, where="post", color="tab:red", alpha=0.6, lw=1.5,
                label="Pareto front (nothing is both cheaper and better)")
        ax.legend(loc="best", fontsize=8)
    if logx:
        from matplotlib.ticker import FuncFormatter, LogLocator
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(_short_number))
        ax.xaxis.set_minor_formatter(FuncFormatter(_short_number))
    ax.margins(x=0.15, y=0.15)
    _place_labels(ax, pts, set(front))
    ax.set_xlabel(xlabel or cost)
    ax.set_ylabel(ylabel or value)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return ax


# ----------------------------------------------------------------------------- the reference

REFERENCE_FILE = Path("data") / "reference" / "source_benchmark_14.csv"


def load_reference(path: str | os.PathLike | None = None) -> ResultTable:
    """The source project's 14-model table (seed 004, section 5), from
    ``data/reference/source_benchmark_14.csv`` of the repository (``#`` lines are comments).

    In Colab, where only the package is installed, the file is downloaded once from the
    repository with ``keras.utils.get_file``.

    >>> load_reference().by_model()["ResNet50V2"]["test_accuracy"]  # doctest: +SKIP
    0.82
    """
    if path is None:
        local = Path(__file__).resolve().parents[1] / REFERENCE_FILE
        if local.exists():
            path = local
        else:  # pragma: no cover - Colab
            import keras
            from . import REPO_URL
            raw = REPO_URL.replace("github.com", "raw.githubusercontent.com") + \
                "/main/" + REFERENCE_FILE.as_posix()
            path = keras.utils.get_file("source_benchmark_14.csv", raw, cache_subdir="seminar")
    with open(path, newline="", encoding="utf-8") as f:
        lines = [ln for ln in f if ln.strip() and not ln.lstrip().startswith("#")]
    rows = []
    for raw in csv.DictReader(lines):
        row: dict[str, Any] = {}
        for k, v in raw.items():
            try:
                row[k] = int(v) if k in {"number", "train_seconds"} else float(v)
            except (TypeError, ValueError):
                row[k] = v
        rows.append(row)
    return ResultTable(rows)


# ----------------------------------------------------------------------------- command line

def _watch_parent() -> None:
    """In a child: exit when the parent dies (a killed kernel must not leave orphans training)."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(3)
    threading.Thread(target=watch, daemon=True).start()


def _child_main(name: str, job_path: str, result_path: str) -> int:
    _watch_parent()
    job = json.loads(Path(job_path).read_text())
    config = BenchmarkConfig(**job["config"])
    data = BenchmarkData.load(job["data"])
    row = run_one(name, data, config, verbose=int(job.get("verbose", 2)))
    tmp = Path(result_path).with_suffix(".tmp")
    tmp.write_text(json.dumps(row))
    tmp.replace(result_path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m seminar_utils.benchmark``: run a benchmark from a shell (see --help)."""
    ap = argparse.ArgumentParser(prog="python -m seminar_utils.benchmark",
                                 description="Benchmark pretrained backbones on CIFAR-10, one "
                                             "process per model, resumable through a CSV.")
    ap.add_argument("--models", default="source",
                    help="comma-separated registry names, or 'source' (the 14 of the source "
                         "project, default) or 'all'")
    ap.add_argument("--profile", default=None, help="smoke | quick | full | auto "
                    "(default: $SEMINAR_PROFILE, else auto)")
    ap.add_argument("--csv", default=None, help="results CSV (default: the profile's artifact)")
    ap.add_argument("--redo", action="store_true", help="rerun models already in the CSV")
    ap.add_argument("--data", default=None, help="an .npz of x/y_train, x/y_val, x/y_test "
                    "instead of CIFAR-10")
    for opt, typ in (("--train-samples", int), ("--val-samples", int), ("--test-samples", int),
                     ("--epochs", int), ("--batch-size", int), ("--image-size", str),
                     ("--weights", str)):
        ap.add_argument(opt, type=typ, default=None, help="override the profile's setting")
    ap.add_argument("--workers", type=int, default=None,
                    help="models trained at the same time (default: the profile's, else 1)")
    ap.add_argument("--in-process", action="store_true", help="no child processes")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--job", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--result", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        return _child_main(args.one, args.job, args.result)

    from .profiles import get_settings
    models = {"source": backbone_names(source_only=True), "all": backbone_names()}.get(
        args.models, args.models)
    models = check_models(models)
    settings = dict(get_settings(NOTEBOOK, args.profile))
    profile = get_settings(NOTEBOOK, args.profile).profile
    for key in ("train_samples", "val_samples", "test_samples", "epochs", "batch_size",
                "image_size", "weights"):
        v = getattr(args, key)
        if v is not None:
            settings[key] = (int(v) if key == "image_size" and str(v).isdigit() else
                             None if key == "weights" and v.lower() == "none" else v)
    config = BenchmarkConfig.from_settings(settings, profile)
    if args.data:
        data = BenchmarkData.load(args.data)
    else:
        data = cifar10_splits(profile, settings["train_samples"], settings["val_samples"],
                              settings["test_samples"], seed=config.seed)
    if args.csv:
        csv_path = Path(args.csv)
    else:
        from .models import artifact_path
        csv_path = artifact_path("07_benchmark.csv", profile)
    workers = args.workers or int(settings.get("workers", 1))
    table = run_benchmark(models, data, config, csv_path, redo=args.redo,
                          isolate=not args.in_process, workers=workers)
    print(table.sorted_by("test_accuracy").to_text())
    print(f"results: {csv_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
