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


def course_map() -> list[dict[str, str]]:
    """Rows of the README's course map: number, notebook cell (markdown), what it teaches, times."""
    rows = []
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].isdigit():
            rows.append(dict(zip(("number", "notebook", "teaches", "smoke", "quick", "full"), cells)))
    return rows


def asset_report_html(nb_path: Path) -> str:
    """The asset report a notebook displayed (its HTML form), or a note that there was none."""
    import nbformat
    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            if "Asset report" in str(data.get("text/plain", "")) and "text/html" in data:
                return data["text/html"]
    return "<i>no asset report</i>"


def write_index(out: Path, results: list[dict], profile: str) -> Path:
    """build/<profile>/index.html: the course map, this run's times and each notebook's assets."""
    import html
    import re
    done = {r["notebook"]: r for r in results}
    head = ("<tr><th>#</th><th>notebook</th><th>what it teaches</th><th>smoke</th><th>quick</th>"
            f"<th>full</th><th>this run ({html.escape(profile)})</th><th>assets</th></tr>")
    body = []
    for row in course_map():
        m = re.search(r"\[([^\]]+)\]\(notebooks/([^)]+)\)", row["notebook"])
        name = m.group(2) if m else None
        run = done.get(name)
        if run and run.get("html"):
            link = f'<a href="{html.escape(Path(run["html"]).name)}">{html.escape(name)}</a>'
            status = f'{run["seconds"]:.0f} s' + ("" if run["ok"] else " <b style='color:red'>FAILED</b>")
            assets = asset_report_html(Path(run["ipynb"]))
        else:
            link = html.escape(m.group(1) if m else re.sub(r"[*_]", "", row["notebook"]))
            status, assets = "not run", ""
        teaches = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(row["teaches"]))
        body.append(f"<tr><td>{row['number']}</td><td>{link}</td><td>{teaches}</td>"
                    f"<td>{html.escape(row['smoke'])}</td><td>{html.escape(row['quick'])}</td>"
                    f"<td>{html.escape(row['full'])}</td><td>{status}</td><td>{assets}</td></tr>")
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>cnn-seminar ({profile})</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1400px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top;font-size:14px}} th{{background:#eee}}
td table td, td table th{{font-size:11px;padding:2px 4px}}</style></head><body>
<h1>cnn-seminar: CNNs and transfer learning with Keras 3</h1>
<p>합성곱 신경망과 전이 학습 과정. Executed notebooks of this build, profile <b>{html.escape(profile)}</b>.
Times in the smoke/quick/full columns are the course map's typical figures; "this run" is measured.
The assets column shows where each notebook's data came from (real data vs generated stand-ins).</p>
<table>{head}{"".join(body)}</table></body></html>"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


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
    index = write_index(out, results, args.profile)
    print(f"Course site: {index}")
    failed = [r for r in results if not r["ok"]]
    print(f"\n{len(results) - len(failed)} of {len(results)} notebooks ran in profile {args.profile}; "
          f"executed notebooks and HTML are in {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
