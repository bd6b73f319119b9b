"""One backbone, trained and measured in this process: the row :func:`run_one` returns.

Accuracy and loss on train / validation / test, seconds per epoch, inference ms per image,
parameters, the size of the saved weights and the peak memory of the process (read by
:func:`memory_mb`; it never decreases inside a process, hence one child process per model).

>>> current, peak = memory_mb()
>>> 0 < current <= peak
True
"""

from __future__ import annotations

import datetime as _dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..backbones import get_spec
from .config import BenchmarkConfig, BenchmarkData, input_size

__all__ = ["run_one", "build_model", "memory_mb", "imagenet_available", "weights_plan"]


def memory_mb() -> tuple[float, float]:
    """This process's resident memory (current, peak so far) in MB.

    Linux: ``VmRSS`` and ``VmHWM`` of ``/proc/self/status``. Elsewhere: psutil for the
    current size (NaN without it) and ``ru_maxrss`` for the peak.

    >>> all(v > 0 for v in memory_mb())
    True
    """
    found: dict[str, float] = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    found[key] = int(value.split()[0]) / 1024.0
    except OSError:
        pass
    if len(found) == 2:   # the kernel updates the two lazily: the peak is at least the current
        return found["VmRSS"], max(found["VmHWM"], found["VmRSS"])
    try:  # pragma: no cover - macOS / Windows
        import psutil
        current = psutil.Process().memory_info().rss / 2**20
    except ImportError:  # pragma: no cover
        current = float("nan")
    try:  # pragma: no cover - macOS / Windows
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = peak / 2**20 if sys.platform == "darwin" else peak / 1024.0
    except ImportError:  # pragma: no cover - Windows
        peak = float("nan")
    return current, max(peak, current)


def _reset_peak_memory() -> bool:
    """Reset this process's peak (Linux >= 4.0: write 5 to clear_refs); True if it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def imagenet_available(name: str = "MobileNetV2", download: bool = True,
                       size: int | None = None) -> bool:
    """Whether ImageNet weights of ``name`` can be had here: a local file, or a download.

    A file in the offline mirror or the Keras cache answers at once (nothing is built). Without
    one, ``download=True`` builds the backbone once with ``weights="imagenet"`` at ``size``
    (default: 96 px or the model's minimum), which downloads the file into Keras's cache or
    fails (at once with ``SEMINAR_OFFLINE=1``); ``download=False`` says False straight away.

    >>> imagenet_available("VGG16", download=False)     # no local file here  # doctest: +SKIP
    False
    """
    from ..backbones import build_backbone
    from ..data import AssetUnavailable
    from ..weights import locate
    spec = get_spec(name)
    size = max(spec.min_size, 96) if size is None else int(size)
    try:
        if locate(spec.name, size=size, download=False)[1] in ("mirror", "cache"):
            return True
    except AssetUnavailable:
        if not download:
            return False
    try:
        build_backbone(spec.name, size, weights="imagenet")
        return True
    except AssetUnavailable:
        return False


def weights_plan(models: Sequence[str], config: BenchmarkConfig
                 ) -> tuple[BenchmarkConfig, dict[str, bool]]:
    """Decide up front which of ``models`` get ImageNet weights under ``config.weights``.

    Local files (offline mirror, Keras cache) are looked up without building anything. When
    some are missing and the policy may download, ONE download is tried (the first missing
    model's file, needed anyway); if it fails, ``"imagenet"`` raises
    :class:`~seminar_utils.data.AssetUnavailable` naming the missing models, and
    ``"imagenet-or-random"`` becomes ``"local-or-random"`` in the config returned, so that no
    model's process waits for a network that is not there. Returns (config, model -> ImageNet?).

    >>> weights_plan(["VGG16"], BenchmarkConfig(weights=None))[1]
    {'VGG16': False}
    """
    import dataclasses
    from ..data import AssetUnavailable
    names = [get_spec(m).name for m in models]
    if config.weights is None:
        return config, {m: False for m in names}
    local = {m: imagenet_available(m, download=False, size=input_size(m, config.image_size))
             for m in names}
    missing = [m for m in names if not local[m]]
    if not missing or config.weights == "local-or-random":
        return config, local
    first = missing[0]
    if imagenet_available(first, download=True, size=input_size(first, config.image_size)):
        return config, {m: True for m in names}
    if config.weights == "imagenet":
        raise AssetUnavailable(
            f"The ImageNet weights of {', '.join(missing)} are not in the offline mirror "
            f"($SEMINAR_DATA_MIRROR/models/) or the Keras cache ($KERAS_HOME/models/) and cannot "
            f"be downloaded here. Go online once (Keras caches them), copy the files there, or "
            f"choose a profile that falls back to random weights (quick, smoke).")
    return dataclasses.replace(config, weights="local-or-random"), local


def _environment() -> dict[str, str]:
    import keras
    from ..env import device_label
    return {"keras": keras.__version__, "backend": keras.backend.backend(),
            "device": device_label()}


def _batch_clock() -> Any:
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


def _weights_source(name: str) -> str:
    """Where this process's ``build_backbone`` found ``name``'s ImageNet weights (mirror / cache /
    download), read back from the asset report it records to."""
    from ..data import asset_report
    found = {r.name: r.source for r in asset_report()}
    return found.get(f"{name} ImageNet weights", "download")


def build_model(name: str, data: BenchmarkData, config: BenchmarkConfig) -> tuple[Any, str]:
    """The compiled model that :func:`run_one` trains for backbone ``name``, and its weights.

    0-255 images -> resize to :func:`input_size` -> the augmentation -> the backbone's own
    ``preprocess_input`` -> the frozen backbone -> GAP, Dense, Dropout, Dense(classes)
    (:func:`seminar_utils.backbones.build_transfer_model`), seeded with ``config.seed``. The
    weights follow ``config.weights``; the label says which were used: ``"imagenet (mirror)"``
    (or ``cache``, ``download``) or ``"random (...)"`` with the reason.

    >>> model, weights = build_model("MobileNetV2", tiny_data, BenchmarkConfig())  # doctest: +SKIP
    >>> weights                                                                   # doctest: +SKIP
    'random (weights=None)'
    """
    import keras
    from ..augment import build_augmentation
    from ..backbones import build_backbone, build_transfer_model, Preprocess
    from ..data import AssetUnavailable
    from ..train import set_seed

    spec = get_spec(name)
    shape = tuple(int(d) for d in data.x_train.shape[1:])
    size = input_size(spec.name, config.image_size)

    def build(weights: str | None) -> Any:
        set_seed(config.seed)
        base = build_backbone(spec.name, (size, size, shape[2]), weights=weights,
                              download=config.weights != "local-or-random")
        augmentation = (build_augmentation(config.augmentation, seed=config.seed)
                        if config.augment else None)
        return build_transfer_model(
            base, shape, num_classes=data.num_classes,
            preprocess=Preprocess(spec.name, name="preprocess"),
            resize_to=None if shape[:2] == (size, size) else size, augmentation=augmentation,
            dense_units=config.dense_units, dropout=config.dropout,
            name=f"{spec.name.lower()}_transfer")

    if config.weights is None:
        model, label = build(None), "random (weights=None)"
    else:
        try:
            model = build("imagenet")
            label = f"imagenet ({_weights_source(spec.name)})"
        except AssetUnavailable:
            if config.weights == "imagenet":
                raise
            why = ("no local ImageNet file" if config.weights == "local-or-random" else
                   "ImageNet weights unavailable")
            model, label = build(None), f"random ({why})"
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, label


def run_one(name: str, data: BenchmarkData, config: BenchmarkConfig, verbose: int = 2
            ) -> dict[str, Any]:
    """Train and evaluate ONE backbone in this process; return its result row (a dict).

    Seed, build (resize to :func:`input_size`, augmentation, own preprocessing, frozen backbone,
    the shared head), ``fit`` with each epoch timed (the first also builds the training graph,
    so ``seconds_per_epoch`` is the mean of the later ones when there are any), one ``predict``
    over validation + test (inference ms per image: the median batch time / batch size, the
    graph-building first batch left out), ``save_weights`` for the file size, the peak memory.

    >>> row = run_one("MobileNetV2", tiny_data, BenchmarkConfig())  # doctest: +SKIP
    >>> row["weights"]                                               # doctest: +SKIP
    'random (weights=None)'
    """
    from ..train import TimingCallback

    t_start = time.perf_counter()
    spec = get_spec(name)
    model, weights_label = build_model(spec.name, data, config)
    timer = TimingCallback()
    cpu0 = time.process_time()
    # No validation_data: validation and test are scored afterwards by ONE predict pass, so
    # Keras traces two graphs per model (train, predict) instead of three.
    history = model.fit(data.x_train.astype("float32"), data.y_train,
                        epochs=int(config.epochs), batch_size=int(config.batch_size),
                        shuffle=True, callbacks=[timer], verbose=verbose)
    h = history.history
    train_cpu = time.process_time() - cpu0

    x_eval = np.concatenate([data.x_val, data.x_test]).astype("float32")
    y_eval = np.concatenate([data.y_val, data.y_test]).astype(int)
    bs = int(config.batch_size)
    pad = (-len(x_eval)) % bs                   # whole batches: every timed batch is alike
    if pad:
        x_eval = np.concatenate([x_eval, x_eval[:pad]])
    clock = _batch_clock()
    probs = np.asarray(model.predict(x_eval, batch_size=bs, verbose=0, callbacks=[clock]))
    probs = probs[: len(y_eval)]
    steady = clock.seconds[1:] or clock.seconds
    n_val = len(data.y_val)
    val_acc, val_loss = _score(probs[:n_val], y_eval[:n_val])
    test_acc, test_loss = _score(probs[n_val:], y_eval[n_val:])

    with tempfile.TemporaryDirectory() as tmp:
        wpath = Path(tmp) / f"{spec.name}.weights.h5"
        model.save_weights(wpath)
        weights_mb = wpath.stat().st_size / 1e6
    row = {
        "model": spec.name,
        "train_accuracy": float(h["accuracy"][-1]), "train_loss": float(h["loss"][-1]),
        "val_accuracy": val_acc, "val_loss": val_loss,
        "test_accuracy": test_acc, "test_loss": test_loss,
        "epochs": int(config.epochs), "first_epoch_seconds": timer.epoch_seconds[0],
        "seconds_per_epoch": float(np.mean(timer.epoch_seconds[1:] or timer.epoch_seconds)),
        "train_seconds": timer.total_seconds, "train_cpu_seconds": train_cpu,
        "wall_seconds": time.perf_counter() - t_start,
        "inference_ms_per_image": 1000.0 * float(np.median(steady)) / bs,
        "total_params": int(model.count_params()),
        "trainable_params": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
        "weights_mb": weights_mb, "peak_rss_mb": memory_mb()[1],
        "input_size": input_size(spec.name, config.image_size),
        "preprocessing": spec.preprocessing, "weights": weights_label,
        "profile": config.profile, "image_size": config.image_size,
        "batch_size": bs, "learning_rate": float(config.learning_rate),
        "augment": bool(config.augment), "seed": int(config.seed),
        "train_samples": len(data.y_train), "val_samples": len(data.y_val),
        "test_samples": len(data.y_test), "data_source": data.source,
        "isolation": "in-process",
        "finished_at": _dt.datetime.now().isoformat(timespec="seconds"),
        **_environment(),
    }
    del model
    return row
