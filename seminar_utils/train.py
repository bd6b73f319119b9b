"""Training helpers: seeding, timing, and the check helper used by every notebook's check cells."""

from __future__ import annotations

import operator
import os
import random
import time
from typing import Any

import numpy as np


def set_seed(seed: int = 42) -> int:
    """Seed Python, NumPy and the Keras backend so that a rerun draws the same numbers.

    >>> set_seed(0)
    0
    """
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    try:
        import keras
        keras.utils.set_random_seed(seed)
    except ImportError:  # pragma: no cover
        pass
    return seed


def _callback_base():
    import keras
    return keras.callbacks.Callback


class _TimingMixin:
    """Records the wall time of every epoch (``epoch_seconds``) and of the whole fit."""

    def on_train_begin(self, logs=None):
        self.epoch_seconds: list[float] = []
        self._t_train = time.perf_counter()
        self.total_seconds = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._t_epoch = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(time.perf_counter() - self._t_epoch)
        if logs is not None:
            logs["epoch_seconds"] = self.epoch_seconds[-1]

    def on_train_end(self, logs=None):
        self.total_seconds = time.perf_counter() - self._t_train

    @property
    def mean_epoch_seconds(self) -> float:
        return float(np.mean(self.epoch_seconds)) if self.epoch_seconds else float("nan")


def TimingCallback():
    """A Keras callback timing each epoch; ``history.history['epoch_seconds']`` gets the times.

    >>> cb = TimingCallback()             # doctest: +SKIP
    >>> model.fit(ds, callbacks=[cb])     # doctest: +SKIP
    >>> cb.total_seconds, cb.epoch_seconds  # doctest: +SKIP
    """
    cls = type("TimingCallback", (_TimingMixin, _callback_base()), {})
    return cls()


class CheckFailed(AssertionError):
    """A measured value missed the active profile's target."""


_OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, ">": operator.gt, "<": operator.lt}


def expect(name: str, value: Any, target: Any, op: str = ">=", profile: str | None = None,
           tolerance: float = 0.0) -> Any:
    """Print ``value`` beside ``target`` and raise :class:`CheckFailed` when ``value op target`` fails.

    ``op`` is one of ``>=``, ``<=``, ``==``, ``>``, ``<``; ``tolerance`` loosens ``==`` for floats.

    >>> expect("test accuracy", 0.991, 0.985, profile="quick")
    CHECK test accuracy: 0.9910 >= 0.9850 (quick) ... OK
    0.991
    """
    if op not in _OPS:
        raise ValueError(f"Unknown comparison {op!r}; use one of {', '.join(_OPS)}.")
    if op == "==" and tolerance:
        ok = abs(value - target) <= tolerance
    else:
        ok = bool(_OPS[op](value, target))
    fmt = (lambda v: f"{v:.4f}") if isinstance(value, float) or isinstance(target, float) else repr
    where = f" ({profile})" if profile else ""
    line = f"CHECK {name}: {fmt(value)} {op} {fmt(target)}{where} ... {'OK' if ok else 'FAILED'}"
    print(line)
    if not ok:
        raise CheckFailed(line)
    return value
