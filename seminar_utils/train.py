"""Training helpers: seeding, timing, and the check helper used by every notebook's check cells."""

from __future__ import annotations

import operator
import os
import random
import time
import warnings
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
    """A measured value missed the active profile's target (raised only in strict runs)."""


class CheckMissed(UserWarning):
    """A measured value missed its target in an interactive run (the notebook goes on)."""


_OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, ">": operator.gt, "<": operator.lt}


def strict() -> bool:
    """True when a missed check must stop the run: ``CI=true`` or ``SEMINAR_STRICT=1``.

    >>> isinstance(strict(), bool)
    True
    """
    ci = os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}
    return ci or os.environ.get("SEMINAR_STRICT", "").strip().lower() in {"1", "true", "yes"}


def _likely_causes(profile: str | None, hint: str | None) -> str:
    from .results import standin_assets
    causes = [hint] if hint else []
    standins = standin_assets()
    if standins:
        causes.append(f"stand-ins were used for {', '.join(standins)} (see the asset report): "
                      "their figures are not those of the real data or weights")
    if profile in ("smoke", "quick"):
        causes.append(f"the {profile} profile trains on less data for fewer epochs than the source")
    causes.append("a random seed or a library version that differs from the measured runs")
    return "; ".join(causes)


def expect(name: str, value: Any, target: Any, op: str = ">=", profile: str | None = None,
           tolerance: float = 0.0, hint: str | None = None) -> Any:
    """Print ``value`` beside ``target``; a miss warns in a learner's run and raises when strict.

    ``op`` is one of ``>=``, ``<=``, ``==``, ``>``, ``<``; ``tolerance`` loosens ``==`` for floats.
    Strict runs (:func:`strict`: CI and the notebook tests) raise :class:`CheckFailed`; an
    interactive run prints what was expected and what likely caused the miss (``hint``, stand-in
    assets, a small profile), warns (:class:`CheckMissed`) and goes on, so that hours of training
    are never thrown away for a target missed by a hair. Every check is recorded
    (:mod:`seminar_utils.results`).

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
    is_strict = strict()
    verdict = "OK" if ok else ("FAILED" if is_strict else "MISSED")
    line = f"CHECK {name}: {fmt(value)} {op} {fmt(target)}{where} ... {verdict}"
    print(line)
    from .results import _record_check
    _record_check(name, value, target, op, ok, is_strict)
    if not ok:
        if is_strict:
            raise CheckFailed(line)
        why = _likely_causes(profile, hint)
        print(f"  -> expected {name} {op} {fmt(target)}, measured {fmt(value)}. Likely causes: "
              f"{why}. The notebook goes on; the results below are still worth reading.")
        warnings.warn(f"{line}. Likely causes: {why}.", CheckMissed, stacklevel=2)
    return value
