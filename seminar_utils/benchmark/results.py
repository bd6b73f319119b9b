"""The benchmark's results: the CSV (one row per finished model, resumable) and its table.

A run appends a row as soon as a model finishes; :func:`read_results` reads the rows back, the
last row per model winning, so a rerun with the same :func:`run_id` skips what is done. The
source project's own 14-model table ships with the package (:func:`load_reference`).

>>> t = ResultTable([{"model": "A", "test_accuracy": 0.5}, {"model": "B", "test_accuracy": 0.7}])
>>> [r["model"] for r in t.sorted_by("test_accuracy")]
['B', 'A']
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import json
import math
import os
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..table import Table

__all__ = ["COLUMNS", "REFERENCE_FILE", "ResultTable", "run_id", "append_row", "read_results",
           "load_reference"]

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

#: The source project's table, package data of ``seminar_utils.benchmark``.
REFERENCE_FILE = "source_benchmark_14.csv"


class ResultTable(Table):
    """Result rows (dicts) as a :class:`~seminar_utils.table.Table` with the benchmark's columns.

    ``columns`` defaults to :attr:`SHOW`; columns that no row has are left out. The first
    column (the model) is left-aligned, every other one right-aligned.

    >>> print(ResultTable([{"model": "VGG16", "test_accuracy": 0.61}]))
    model  test acc
    -----  --------
    VGG16     0.610
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
                 columns: Sequence[tuple[str, str, str]] | None = None, **kwargs: Any):
        super().__init__(rows, columns or self.SHOW, **kwargs)

    def sorted_by(self, key: str = "test_accuracy", descending: bool = True) -> "ResultTable":
        """A copy sorted by ``key`` (default: test accuracy, best first; missing values last)."""
        return super().sorted_by(key, descending)  # type: ignore[return-value]

    def by_model(self) -> dict[str, dict[str, Any]]:
        """The rows keyed by model name."""
        return {r["model"]: r for r in self.rows}

    def cells(self) -> tuple[list[str], list[list[str]], list[bool]]:
        """As :meth:`Table.cells`, aligned as notebook 07's checked output prints it."""
        heads, body, _ = super().cells()
        return heads, body, [i > 0 for i in range(len(heads))]


# ----------------------------------------------------------------------------- the CSV

def run_id(config: Any, data: Any) -> str:
    """A short id of (settings, data): rows with the same id are results of the same run.

    ``config`` has ``to_dict()`` and ``data`` a ``fingerprint()`` (a
    :class:`~seminar_utils.benchmark.BenchmarkConfig` and ``BenchmarkData``).

    >>> from seminar_utils.benchmark import BenchmarkConfig, BenchmarkData
    >>> import numpy as np
    >>> d = BenchmarkData(*(np.zeros((2, 4, 4, 3), "uint8"), np.arange(2)) * 3)
    >>> run_id(BenchmarkConfig(), d) == run_id(BenchmarkConfig(), d)
    True
    """
    blob = json.dumps(config.to_dict(), sort_keys=True) + data.fingerprint()
    return hashlib.sha1(blob.encode()).hexdigest()[:10]


def append_row(path: str | os.PathLike, row: Mapping[str, Any]) -> None:
    """Append one result row to the CSV (header first if the file is new), flushed to disk.

    >>> import tempfile
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


def read_results(path: str | os.PathLike, run: str | None = None) -> ResultTable:
    """The rows of a results CSV (the last row per model wins), optionally of one ``run`` id.

    Rows that a killed run left incomplete are skipped.

    >>> len(read_results("no-such-file.csv"))
    0
    """
    path = Path(path)
    latest: dict[str, dict[str, Any]] = {}
    if path.exists():
        with open(path, newline="", encoding="utf-8") as f:
            for raw in csv.DictReader(f):
                if None in raw or not raw.get("model") or not _is_timestamp(raw.get("finished_at")):
                    continue                       # a partial line from an interrupted write
                row = _parse(raw)
                if run is None or row.get("run_id") == run:
                    latest[row["model"]] = row
    return ResultTable(latest.values())


# ----------------------------------------------------------------------------- the reference

def load_reference() -> ResultTable:
    """The source project's 14-model table (its report's section 5), shipped with the package.

    Read with ``importlib.resources``, so it works from a checkout, an installed wheel or
    Colab alike, offline. ``#`` lines at the top of the file say where it comes from.

    >>> load_reference().by_model()["ResNet50V2"]["test_accuracy"]
    0.82
    """
    text = resources.files("seminar_utils.reference").joinpath(REFERENCE_FILE).read_text(
        encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
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
