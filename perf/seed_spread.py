"""Measure the seed-to-seed spread of every metric the notebooks record, once per profile.

    python perf/seed_spread.py --profile quick --seeds 1,2,3            # every notebook
    python perf/seed_spread.py --profile quick --seeds 1,2,3 03 05      # only 03 and 05

Each selected notebook runs once per seed (its SEED parameter; the data subsets stay fixed, the
weight initialisation, shuffling, augmentation and mixup draws change). The metrics it records
(seminar_utils.results.record) are gathered per seed into data/reference/seed_spread_<profile>.json:
per notebook and metric the values, their mean, standard deviation and range. Notebooks show
that spread as error bars (seminar_utils.results.spread) and tools/compare_runs.py sets its
tolerances from it. Notebooks not selected keep their previous entry in the file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import run_notebooks  # noqa: E402


def aggregate(runs: dict[int, dict]) -> dict[str, dict]:
    """Per notebook: the seeds and, per metric, values (in seed order), mean, std, min, max."""
    out: dict[str, dict] = {}
    for seed, payload in sorted(runs.items()):
        for nb, entry in payload["notebooks"].items():
            if not entry.get("ok"):
                continue
            target = out.setdefault(nb, {"seeds": [], "metrics": {}})
            target["seeds"].append(seed)
            for name, m in entry.get("metrics", {}).items():
                if isinstance(m.get("value"), (int, float)) and not isinstance(m["value"], bool):
                    slot = target["metrics"].setdefault(name, {"kind": m.get("kind"), "values": []})
                    slot["values"].append(float(m["value"]))
    for entry in out.values():
        for slot in entry["metrics"].values():
            v = slot["values"]
            slot.update(mean=statistics.fmean(v), std=statistics.stdev(v) if len(v) > 1 else 0.0,
                        min=min(v), max=max(v), n=len(v))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="quick", choices=["full", "gpu", "quick", "smoke"])
    ap.add_argument("--seeds", type=lambda v: [int(x) for x in v.split(",")], default=[1, 2, 3],
                    help="comma-separated seeds, e.g. 1,2,3")
    ap.add_argument("--out", default=None, help="default data/reference/seed_spread_<profile>.json")
    ap.add_argument("select", nargs="*", help="notebooks whose file name contains one of these")
    args = ap.parse_args(argv)
    if len(args.seeds) < 2:
        ap.error("a spread needs at least two seeds (three or more recommended)")
    target = Path(args.out or ROOT / "data" / "reference" / f"seed_spread_{args.profile}.json")
    runs = {}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="seed_spread_") as tmp:
        for seed in args.seeds:
            out = Path(tmp) / f"seed{seed}"
            print(f"##### seed {seed}", flush=True)
            run_notebooks.main(["--profile", args.profile, "--seed", str(seed), "--out", str(out),
                                *args.select])
            runs[seed] = json.loads((out / "results.json").read_text())
    measured = aggregate(runs)
    previous = json.loads(target.read_text()) if target.exists() else {"notebooks": {}}
    context = {k: v for k, v in runs[args.seeds[0]]["context"].items() if k != "finished"}
    payload = {"context": {**context, "seeds": args.seeds,
                           "measured": time.strftime("%Y-%m-%d"),
                           "how": "python perf/seed_spread.py --profile {} --seeds {}".format(
                               args.profile, ",".join(map(str, args.seeds)))},
               "notebooks": {**previous.get("notebooks", {}), **measured}}
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(payload, indent=1) + "\n")
    for nb, entry in measured.items():
        print(f"{nb} (seeds {entry['seeds']}):")
        for name, m in entry["metrics"].items():
            print(f"  {name:50s} {m['mean']:.4f} ± {m['std']:.4f}  [{m['min']:.4f}, {m['max']:.4f}]")
    print(f"wrote {target} in {(time.perf_counter() - t0) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
