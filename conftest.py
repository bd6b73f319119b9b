"""Root conftest: notebooks executed by nbval run in the smoke profile unless told otherwise.

The kernel that nbval starts inherits this process's environment, so the variables set here
size every notebook for CI, make their checks strict, and send what they measure to an events
file; at the end of the session the notebooks' results go to build/<profile>/results.json
(the same file `make run` writes), for tools/compare_runs.py.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent

os.environ.setdefault("SEMINAR_PROFILE", "smoke")
os.environ.setdefault("SEMINAR_STRICT", "1")      # a missed check fails the test (as in CI)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

_OUT = ROOT / "build" / os.environ["SEMINAR_PROFILE"]
_EVENTS = _OUT / "events" / "nbval.jsonl"
_RUNS: dict = {}          # notebook file name -> {"seconds", "ok", "error"}


def pytest_configure(config):
    if "SEMINAR_RESULTS_FILE" not in os.environ:
        _EVENTS.parent.mkdir(parents=True, exist_ok=True)
        _EVENTS.unlink(missing_ok=True)
        os.environ["SEMINAR_RESULTS_FILE"] = str(_EVENTS)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if not path.endswith(".ipynb"):
        return
    run = _RUNS.setdefault(Path(path).name, {"seconds": 0.0, "ok": True, "error": None})
    run["seconds"] += report.duration
    if report.failed and run["ok"]:
        run["ok"] = False
        run["error"] = f"{report.nodeid.split('::')[-1]} failed"


def pytest_sessionfinish(session):
    """results.json beside the events (build/<profile>/, or e.g. build/oldest/ for that stack)."""
    events = os.environ.get("SEMINAR_RESULTS_FILE")
    if not _RUNS or not events or hasattr(session.config, "workerinput"):
        return                        # under pytest-xdist the controller, which sees every report, writes
    sys.path.insert(0, str(ROOT / "tools"))
    import run_notebooks
    results = [{"notebook": name, "ok": r["ok"], "error": r["error"],
                "seconds": round(r["seconds"], 1), "events": events}
               for name, r in sorted(_RUNS.items())]
    out = _OUT if events == str(_EVENTS) else Path(events).parent
    run_notebooks.write_results(out, results, os.environ["SEMINAR_PROFILE"])
