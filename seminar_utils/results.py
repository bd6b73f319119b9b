"""What a notebook run measured, written where the runner can collect it (no printed text parsed).

When ``SEMINAR_RESULTS_FILE`` names a file, every :func:`record` (a metric), every check of
:func:`seminar_utils.train.expect` and every asset load appends one JSON line to it, tagged with
the notebook that :func:`seminar_utils.profiles.get_settings` last resolved. The runner
(``tools/run_notebooks.py``, the notebook tests) sets the variable and gathers the lines into
``build/<profile>/results.json``; ``tools/compare_runs.py`` compares two such files. Without
the variable nothing is written: a learner's notebook is not affected.
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any

__all__ = ["ENV_RESULTS", "KINDS", "record", "current_notebook", "standin_assets", "read_events",
           "summarize", "git_commit", "spread", "reading"]

ENV_RESULTS = "SEMINAR_RESULTS_FILE"

#: Metric kinds and whether a higher value is better (None: neither, e.g. a count).
KINDS: dict[str, bool | None] = {
    "accuracy": True, "gain": True, "ratio": True, "loss": False, "seconds": False,
    "error": False, "count": None, "value": None,
}

_state: dict[str, Any] = {"notebook": None, "profile": None, "assets": {}}


def _set_notebook(notebook: str, profile: str) -> None:
    """Remember which notebook is running (called by ``get_settings``)."""
    _state["notebook"], _state["profile"] = notebook, profile


def current_notebook() -> str | None:
    """The notebook whose settings were resolved last in this process (None before any).

    >>> current_notebook() is None or isinstance(current_notebook(), str)
    True
    """
    return _state["notebook"]


def _clean(v: Any) -> Any:
    if hasattr(v, "item") and callable(v.item):     # NumPy / tensor scalars
        try:
            v = v.item()
        except (TypeError, ValueError):
            pass
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    return str(v)


def _write(event: dict[str, Any]) -> None:
    path = os.environ.get(ENV_RESULTS)
    if not path:
        return
    event = {"notebook": _state["notebook"], "profile": _state["profile"],
             "time": round(time.time(), 3), **event}
    line = json.dumps({k: _clean(v) for k, v in event.items()})
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def record(name: str, value: Any, kind: str = "value") -> Any:
    """Record one key result of the notebook (an accuracy, a time, a ratio); returns ``value``.

    ``kind`` says how a later run is compared with this one (:data:`KINDS`: an accuracy should
    not fall, a time should not grow).

    >>> record("CNN test accuracy", 0.991, "accuracy")
    0.991
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown kind {kind!r}; use one of {', '.join(KINDS)}.")
    _write({"type": "metric", "name": name, "value": value, "kind": kind})
    return value


def _record_check(name: str, value: Any, target: Any, op: str, ok: bool, strict: bool) -> None:
    _write({"type": "check", "name": name, "value": value, "target": target, "op": op,
            "ok": bool(ok), "strict": bool(strict)})


def _record_asset(name: str, source: str, location: str = "", note: str = "") -> None:
    _state["assets"][name] = source
    _write({"type": "asset", "name": name, "source": source, "location": location, "note": note})


def standin_assets() -> list[str]:
    """Names of the assets loaded as stand-ins (generated data, random weights) in this process.

    >>> isinstance(standin_assets(), list)
    True
    """
    return [name for name, source in _state["assets"].items() if source == "stand-in"]


def read_events(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The events of a results file, in order (a line cut short by a killed kernel is skipped).

    >>> read_events("/nonexistent/results.jsonl")
    []
    """
    if not os.path.exists(path):
        return []
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def _record_environment(info: dict[str, Any]) -> None:
    _write({"type": "environment", **info})


def summarize(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Group a run's events by notebook: checks, metrics, assets (name -> source), environment.

    A metric recorded twice keeps its last value; an asset loaded twice keeps its last source.

    >>> summarize([{"notebook": "01", "type": "metric", "name": "acc", "value": 0.9,
    ...             "kind": "accuracy"}])["01"]["metrics"]
    {'acc': {'value': 0.9, 'kind': 'accuracy'}}
    """
    out: dict[str, dict[str, Any]] = {}
    for e in events:
        nb = out.setdefault(e.get("notebook") or "?", {"checks": [], "metrics": {}, "assets": {},
                                                       "environment": {}})
        kind = e.get("type")
        if kind == "check":
            nb["checks"].append({k: e.get(k) for k in ("name", "value", "target", "op", "ok")})
        elif kind == "metric":
            nb["metrics"][e["name"]] = {"value": e.get("value"), "kind": e.get("kind", "value")}
        elif kind == "asset":
            nb["assets"][e["name"]] = e.get("source")
        elif kind == "environment":
            nb["environment"] = {k: v for k, v in e.items()
                                 if k not in ("type", "notebook", "profile", "time")}
    return out


def git_commit(root: str | os.PathLike = ".") -> str:
    """The checkout's commit (with ``+dirty`` when files differ from it), or ``"unknown"``.

    >>> isinstance(git_commit(), str)
    True
    """
    import subprocess
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, text=True,
                             capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               text=True, capture_output=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def spread(notebook: str, profile: str) -> dict[str, dict[str, Any]]:
    """The measured seed-to-seed spread of a notebook's metrics in a profile, if there is one.

    ``perf/seed_spread.py`` runs a notebook with several seeds and writes, per metric, the
    values with their mean and standard deviation to ``data/reference/seed_spread_<profile>.json``
    (shipped in the package as ``seminar_utils.reference``). Notebooks draw it as error bars
    beside this run's value and word small differences as "within noise".

    >>> spread("01_cnn_basics", "no-such-profile")
    {}
    """
    from importlib import resources
    try:
        text = (resources.files("seminar_utils.reference") / f"seed_spread_{profile}.json").read_text()
    except (FileNotFoundError, ModuleNotFoundError):
        return {}
    return json.loads(text).get("notebooks", {}).get(notebook, {}).get("metrics", {})


def reading(measured: dict[str, Any] | None) -> str:
    """How an effect measured over several seeds reads, in words, for a notebook's table.

    Two questions, kept apart: do the seeds agree on the effect's sign, and is its mean larger than
    twice the seed-to-seed standard deviation (so that one run alone would show it)? An effect
    positive at every seed but with a wide spread is real in direction and uncertain in size.

    >>> reading({"values": [0.015, 0.024, 0.042], "mean": 0.027, "std": 0.014})
    'every seed agrees on its sign; its size varies from seed to seed'
    """
    values = (measured or {}).get("values", [])
    if len(values) < 2:
        return "(no seed spread measured for this profile)"
    mean, std = measured["mean"], measured["std"]
    same_sign = min(values) > 0 or max(values) < 0
    if same_sign and abs(mean) > 2 * std:
        return "beyond noise: every seed agrees on its sign"
    if same_sign:
        return "every seed agrees on its sign; its size varies from seed to seed"
    return "within noise: the seeds disagree on its sign"
