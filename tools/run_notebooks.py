"""Execute the course notebooks with papermill and write HTML copies.

    python tools/run_notebooks.py --profile quick            # every notebook, into build/quick/
    python tools/run_notebooks.py --profile smoke 01         # only notebooks whose name contains 01

Each notebook runs on a fresh kernel with SEMINAR_PROFILE set; a failing notebook is reported and
the others still run; the exit status is non-zero if any failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="quick", choices=["auto", "full", "quick", "smoke"])
    ap.add_argument("--out", default=None, help="output folder (default build/<profile>)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    ap.add_argument("select", nargs="*", help="run only notebooks whose file name contains one of these")
    args = ap.parse_args(argv)

    import papermill as pm
    from nbconvert import HTMLExporter

    out = Path(args.out or ROOT / "build" / args.profile).resolve()
    out.mkdir(parents=True, exist_ok=True)
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.select:
        notebooks = [nb for nb in notebooks if any(s in nb.name for s in args.select)]
    if not notebooks:
        print("No notebooks selected.", file=sys.stderr)
        return 2
    os.environ["SEMINAR_PROFILE"] = args.profile
    results = []
    for nb in notebooks:
        target = out / nb.name
        print(f"=== {nb.name} (profile {args.profile}) ...", flush=True)
        t0 = time.perf_counter()
        error = None
        try:
            pm.execute_notebook(str(nb), str(target), parameters={"PROFILE": args.profile},
                                cwd=str(nb.parent), kernel_name="python3",
                                execution_timeout=args.timeout, progress_bar=False)
        except Exception as e:  # papermill still writes the notebook up to the failing cell
            error = f"{type(e).__name__}: {str(e).strip().splitlines()[-1][:300] if str(e).strip() else ''}"
        seconds = time.perf_counter() - t0
        html_path = None
        if target.exists():
            body, _ = HTMLExporter().from_filename(str(target))
            html_path = target.with_suffix(".html")
            html_path.write_text(body, encoding="utf-8")
        status = "FAILED" if error else "ok"
        print(f"    {status} in {seconds:.0f} s -> {target}" + (f"\n    {error}" if error else ""), flush=True)
        results.append({"notebook": nb.name, "profile": args.profile, "seconds": round(seconds, 1),
                        "ok": error is None, "error": error, "ipynb": str(target),
                        "html": str(html_path) if html_path else None})
    (out / "run_summary.json").write_text(json.dumps(results, indent=2))
    failed = [r for r in results if not r["ok"]]
    print(f"\n{len(results) - len(failed)} of {len(results)} notebooks ran in profile {args.profile}; "
          f"executed notebooks and HTML are in {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
