"""Compare two runs of the course: which results moved, and whether that matters.

    python tools/compare_runs.py BASELINE CURRENT [--figure drift.png]
    make compare                     # data/reference/baseline_<profile>.json vs build/<profile>/results.json
    make baseline                    # adopt build/<profile>/results.json as that baseline (after review)

BASELINE and CURRENT are results.json files (written by `make run`, tools/run_notebooks.py and the
notebook tests). Prints a drift table (notebook, metric, baseline, current, delta, tolerance,
verdict); exits 1 when a result moved beyond its tolerance in the bad direction (an accuracy
fell, a loss rose, a count changed, a check that passed now fails), 0 otherwise. Runs of
different profiles, or whose assets came from different places (mirror, download, stand-in),
are not comparable: it refuses, saying why, and exits 2.

Tolerances live here (TOLERANCE) and come from the measured seed-to-seed spread
(data/reference/seed_spread_<profile>.json, perf/seed_spread.py), never from guesses.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: How far a result may move before it counts, per metric kind: ``k`` standard deviations of the
#: seed-to-seed spread (the metric's own, floored by the median of its kind's; relative to the
#: mean for times and ratios); "fail": whether a move in the bad direction fails the run.
#: Times are reported but do not fail: the same notebook on a busier machine is slower.
TOLERANCE: dict[str, dict] = {
    "accuracy": {"k": 3.0, "relative": False, "fail": True},
    "gain": {"k": 3.0, "relative": False, "fail": True},
    "loss": {"k": 3.0, "relative": False, "fail": True},
    "error": {"k": 3.0, "relative": False, "fail": True},
    "ratio": {"k": 3.0, "relative": True, "fail": True},
    "seconds": {"k": 3.0, "relative": True, "fail": False},
    "count": {"k": 0.0, "relative": False, "fail": True},
    "value": {"k": 3.0, "relative": False, "fail": False},
}
HIGHER_IS_BETTER = {"accuracy": True, "gain": True, "ratio": True, "loss": False, "error": False,
                    "seconds": False, "count": None, "value": None}
#: Where an asset came from, as far as results are concerned (Keras's cache held a download).
PROVENANCE = {"mirror": "mirror", "download": "download", "cache": "download", "stand-in": "stand-in"}


class NotComparable(ValueError):
    """Two runs that cannot be compared (another profile, other data)."""


def load(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def check_comparable(base: dict, cur: dict) -> None:
    """Raise :class:`NotComparable` when the profiles or any shared notebook's assets differ."""
    pb, pc = base["context"].get("profile"), cur["context"].get("profile")
    if pb != pc:
        raise NotComparable(f"the baseline ran in profile {pb!r}, this run in {pc!r}: compare "
                            f"runs of the same profile (data/reference/baseline_{pc}.json).")
    problems = []
    for nb in sorted(set(base["notebooks"]) & set(cur["notebooks"])):
        a = {k: PROVENANCE.get(v, v) for k, v in base["notebooks"][nb].get("assets", {}).items()}
        b = {k: PROVENANCE.get(v, v) for k, v in cur["notebooks"][nb].get("assets", {}).items()}
        for name in sorted(set(a) | set(b)):
            if a.get(name) != b.get(name):
                problems.append(f"{nb}: {name} was {a.get(name, 'not loaded')} in the baseline, "
                                f"{b.get(name, 'not loaded')} now")
    if problems:
        raise NotComparable("the runs used different data or weights, so their results differ "
                            "for that reason alone:\n  " + "\n  ".join(problems))


def _spread_file(profile: str) -> dict:
    path = ROOT / "data" / "reference" / f"seed_spread_{profile}.json"
    return load(path).get("notebooks", {}) if path.exists() else {}


def tolerances(profile: str) -> tuple[dict, dict]:
    """(per-metric std from the spread file, per-kind median std) for ``profile``."""
    spread = _spread_file(profile)
    own, by_kind = {}, {}
    for nb, entry in spread.items():
        for name, m in entry.get("metrics", {}).items():
            kind = m.get("kind", "value")
            rule = TOLERANCE.get(kind, TOLERANCE["value"])
            std = m.get("std", 0.0)
            if rule["relative"] and m.get("mean"):
                std = std / abs(m["mean"])
            own[(nb, name)] = std
            by_kind.setdefault(kind, []).append(std)
    return own, {k: statistics.median(v) for k, v in by_kind.items() if v}


def compare(base: dict, cur: dict) -> list[dict]:
    """One row per (notebook, metric) and per check whose verdict changed."""
    check_comparable(base, cur)
    own, per_kind = tolerances(cur["context"]["profile"])
    rows = []
    for nb in sorted(set(base["notebooks"]) | set(cur["notebooks"])):
        b_nb, c_nb = base["notebooks"].get(nb, {}), cur["notebooks"].get(nb, {})
        if not c_nb:
            rows.append({"notebook": nb, "metric": "(notebook)", "verdict": "not run"})
            continue
        if not c_nb.get("ok", True):
            rows.append({"notebook": nb, "metric": "(notebook)", "verdict": "FAILED",
                         "current": c_nb.get("error")})
        bm, cm = b_nb.get("metrics", {}), c_nb.get("metrics", {})
        for name in list(bm) + [n for n in cm if n not in bm]:
            rows.append(_metric_row(nb, name, bm.get(name), cm.get(name), own, per_kind))
        passed = {c["name"] for c in b_nb.get("checks", []) if c.get("ok")}
        for c in c_nb.get("checks", []):
            if not c.get("ok") and c["name"] in passed:
                rows.append({"notebook": nb, "metric": f"check: {c['name']}", "baseline": "met",
                             "current": f"{c.get('value')} {c.get('op')} {c.get('target')}",
                             "verdict": "WORSE"})
    return rows


def _metric_row(nb: str, name: str, b: dict | None, c: dict | None, own: dict, per_kind: dict):
    row = {"notebook": nb, "metric": name}
    if b is None or c is None:
        row.update(baseline=None if b is None else b["value"], current=None if c is None else c["value"],
                   verdict="new" if b is None else "missing")
        return row
    kind = c.get("kind", "value")
    rule = TOLERANCE.get(kind, TOLERANCE["value"])
    bv, cv = b["value"], c["value"]
    row.update(kind=kind, baseline=bv, current=cv)
    if not all(isinstance(v, (int, float)) for v in (bv, cv)):
        row["verdict"] = "ok" if bv == cv else "changed"
        return row
    # the metric's own spread, but never below its kind's median: three seeds that happened to
    # agree (a model at chance in smoke) say little about how far a rerun moves
    spreads = [v for v in (own.get((nb, name)), per_kind.get(kind)) if v is not None]
    std = max(spreads) if spreads else None
    if std is None and kind != "count":
        row.update(delta=cv - bv, verdict="no spread measured")
        return row
    tol = rule["k"] * (std or 0.0) * (abs(bv) if rule["relative"] else 1.0)
    delta = cv - bv
    row.update(delta=delta, tolerance=tol)
    better = HIGHER_IS_BETTER.get(kind)
    if abs(delta) <= tol:
        row["verdict"] = "ok"
    elif better is None:
        row["verdict"] = "CHANGED" if rule["fail"] else "changed"
    elif (delta > 0) == better:
        row["verdict"] = "better"
    else:
        row["verdict"] = "WORSE" if rule["fail"] else "slower" if kind == "seconds" else "worse"
    return row


def failed(rows: list[dict]) -> bool:
    return any(r["verdict"] in ("WORSE", "CHANGED", "FAILED", "missing") for r in rows)


def table(rows: list[dict]):
    sys.path.insert(0, str(ROOT))
    from seminar_utils.table import Table
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    return Table(rows, [("notebook", "notebook"), ("metric", "metric"), ("baseline", "baseline", fmt),
                        ("current", "current", fmt), ("delta", "delta", "{:+.4g}"),
                        ("tolerance", "tolerance", "±{:.3g}"), ("verdict", "verdict")],
                 highlight=lambda r: r["verdict"] in ("WORSE", "CHANGED", "FAILED", "missing"))


def figure(rows: list[dict], path: str | Path) -> Path:
    """Each metric's move in units of its tolerance; beyond ±1 it matters (red when bad)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    shown = [r for r in rows if r.get("tolerance")]
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(shown) + 1.5))
    for i, r in enumerate(shown):
        x = r["delta"] / r["tolerance"]
        bad = r["verdict"] in ("WORSE", "CHANGED")
        ax.barh(i, x, color="tab:red" if bad else "tab:green" if r["verdict"] == "better" else "tab:gray")
    ax.axvline(-1, color="k", ls=":", lw=0.8)
    ax.axvline(1, color="k", ls=":", lw=0.8)
    ax.set_yticks(range(len(shown)), [f"{r['notebook'][:2]} {r['metric'][:45]}" for r in shown],
                  fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("change / tolerance (beyond ±1: outside the seed-to-seed spread)")
    ax.set_title("Drift of this run against the baseline")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return Path(path)


def adopt(run: str | Path, baseline: str | Path, how: str) -> dict:
    """Make ``run`` (a results.json) the baseline of its profile, saying how it was produced."""
    payload = load(run)
    if not payload.get("notebooks"):
        raise SystemExit(f"{run} holds no notebook results")
    failing = [nb for nb, r in payload["notebooks"].items() if not r.get("ok", True)]
    if failing:
        raise SystemExit(f"{run}: {', '.join(failing)} failed; a baseline must be a clean run")
    payload["context"]["how"] = how
    Path(baseline).write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return payload


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("baseline")
    ap.add_argument("current")
    ap.add_argument("--figure", default=None, help="save the drift as a PNG")
    ap.add_argument("--adopt", metavar="HOW", default=None,
                    help="instead of comparing, make CURRENT the new BASELINE; HOW says how it was "
                         "produced (stored in the baseline's context)")
    args = ap.parse_args(argv)
    if args.adopt:
        payload = adopt(args.current, args.baseline, args.adopt)
        print(f"{args.baseline}: baseline of profile {payload['context'].get('profile')}, "
              f"{len(payload['notebooks'])} notebooks, commit {payload['context'].get('git_commit')}")
        return 0
    try:
        rows = compare(load(args.baseline), load(args.current))
    except NotComparable as err:
        print(f"Not comparable: {err}")
        return 2
    print(table(rows))
    if args.figure:
        print(f"figure: {figure(rows, args.figure)}")
    bad = [r for r in rows if r["verdict"] in ("WORSE", "CHANGED", "FAILED", "missing")]
    print(f"\n{len(rows)} results compared: {len(bad)} moved beyond tolerance in the bad direction.")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
