"""Execute the course notebooks with papermill, write HTML copies, the course site and results.

    python tools/run_notebooks.py --profile quick            # every notebook, into build/quick/
    python tools/run_notebooks.py --profile smoke 01         # only notebooks whose name contains 01

Run as written from a checkout: it switches to the project's .venv and wires the offline mirror
(../shared/assets) the way `make run` does. Each notebook runs on a fresh kernel with
SEMINAR_PROFILE set, printing its sections as they start and a heartbeat during long cells; a
failing notebook is reported and the others still run (exit status 1 if any failed). What the
notebooks measured (checks, metrics, assets) goes to build/<profile>/results.json.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- environment

def ensure_environment() -> None:
    """Re-run this script with the project's .venv, and link the offline mirror when one is beside.

    `make run` does both; this makes `python tools/run_notebooks.py ...` work as written too.
    """
    venv_python = ROOT / ".venv" / "bin" / "python"
    if venv_python.exists() and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve() \
            and not os.environ.get("SEMINAR_NO_REEXEC"):
        os.environ["SEMINAR_NO_REEXEC"] = "1"
        os.execv(str(venv_python), [str(venv_python), str(Path(__file__).resolve()), *sys.argv[1:]])
    assets = Path(os.environ.get("SHARED_ASSETS", ROOT.parent / "shared" / "assets"))
    if not os.environ.get("SEMINAR_DATA_MIRROR") and (assets / "datasets").is_dir():
        sys.path.insert(0, str(ROOT / "tools"))
        import link_mirror
        link_mirror.main(str(assets), str(ROOT / ".cache" / "mirror"), str(ROOT / ".cache" / "keras"))
        os.environ["SEMINAR_DATA_MIRROR"] = str(ROOT / ".cache" / "mirror")
        os.environ.setdefault("KERAS_HOME", str(ROOT / ".cache" / "keras"))


# ----------------------------------------------------------------------------- progress

def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


class Progress:
    """Prints each section of a running notebook as it starts, and a heartbeat in long cells."""

    def __init__(self, tag: str, n_cells: int, heartbeat: float = 60.0):
        self.tag, self.n, self.heartbeat = tag, n_cells, heartbeat
        self.t0 = self.t_cell = time.perf_counter()
        self.section, self.index = "", 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)
        self._thread.start()

    def cell_start(self, cell, index: int) -> None:
        self.index, self.t_cell = index, time.perf_counter()
        if cell.cell_type == "markdown":
            heading = next((ln.lstrip("#").strip() for ln in cell.source.splitlines()
                            if ln.startswith("#")), "")
            if heading and heading != self.section:
                self.section = heading
                print(f"    [{self.tag}] {_clock(time.perf_counter() - self.t0)}  cell "
                      f"{index + 1}/{self.n}  {heading[:70]}", flush=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            now = time.perf_counter()
            if now - self.t_cell >= self.heartbeat:
                print(f"    [{self.tag}] {_clock(now - self.t0)}  still in cell {self.index + 1}/"
                      f"{self.n} ({_clock(now - self.t_cell)} so far)", flush=True)

    def close(self) -> None:
        self._stop.set()


def _progress_engine():
    """A papermill engine that reports each cell start to the current :class:`Progress`."""
    from papermill.engines import NBClientEngine, papermill_engines

    class ProgressEngine(NBClientEngine):
        progress: Progress | None = None

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            start = nb_man.cell_start

            def cell_start(cell, cell_index=None, **kw):
                if cls.progress is not None:
                    cls.progress.cell_start(cell, cell_index or 0)
                return start(cell, cell_index, **kw)

            nb_man.cell_start = cell_start
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register("progress", ProgressEngine)
    return ProgressEngine


def local_kernel_config(folder: Path):
    """Kernel settings for papermill: talk to the kernel over Unix sockets in `folder`, not TCP.

    Over TCP, ipykernel prints "Kernel is running over TCP without encryption ... susceptible to
    eavesdropping" once per notebook, an alarming line in every `make run`; local sockets are
    private to this user, so the warning does not apply and is not printed.

    >>> local_kernel_config(Path("/tmp/k"))["KernelManager"]["transport"]
    'ipc'
    """
    from traitlets.config import Config

    return Config({"KernelManager": {"transport": "ipc", "ip": str(folder / "kernel")}})


# ----------------------------------------------------------------------------- the site

def course_map() -> list[dict[str, str]]:
    """Rows of the README's course map, keyed by its header (number, notebook, teaches, times)."""
    rows, header = [], None
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|"):
            header = None
            continue
        if cells[:2] == ["#", "notebook"]:
            header = ["number", "notebook", "teaches"] + [c.split()[0] for c in cells[3:]]
        elif header and cells and cells[0].isdigit() and len(cells) == len(header):
            rows.append(dict(zip(header, cells)))
    return rows


def claimed_minutes(text: str) -> float | None:
    """The longest time a course-map cell claims, in minutes ("~2-4 min" -> 4, "40 s" -> 0.67).

    >>> claimed_minutes("3.1 min (first run 5.2 min)"), claimed_minutes("~40 s"), claimed_minutes("")
    (5.2, 0.6666666666666666, None)
    """
    found = [float(v) / (60 if unit == "s" else 1)
             for v, unit in re.findall(r"(\d+(?:\.\d+)?)\s*(?:-\s*\d+(?:\.\d+)?\s*)?(min|s)\b", text)]
    found += [float(hi) / (60 if unit == "s" else 1)
              for hi, unit in re.findall(r"\d+(?:\.\d+)?\s*-\s*(\d+(?:\.\d+)?)\s*(min|s)\b", text)]
    return max(found) if found else None


def _assets_cell(assets: dict[str, str]) -> str:
    """Every asset of the run, the stand-ins (generated data, random weights) in red."""
    if not assets:
        return "<i>no asset recorded</i>"
    standins = [n for n, s in assets.items() if s == "stand-in"]
    items = [f'<span style="color:#b00"><b>{html.escape(n)}: stand-in</b></span>' for n in standins]
    items += [f"{html.escape(n)}: {html.escape(str(s))}" for n, s in assets.items() if s != "stand-in"]
    return "<br>".join(items)


def _drift_cell(rows: list[dict]) -> str:
    """This notebook's results beside the baseline's, with the verdicts of tools/compare_runs.py."""
    if not rows:
        return ""
    bad = [r for r in rows if r["verdict"] in ("WORSE", "CHANGED", "FAILED", "missing")]
    head = ("<b style='color:#b00'>" + f"{len(bad)} moved beyond tolerance</b>" if bad
            else "<b style='color:#070'>within tolerance</b>")
    fmt = lambda v: f"{v:.3g}" if isinstance(v, float) else html.escape(str(v))  # noqa: E731
    lines = [f"<tr><td>{html.escape(r['metric'][:40])}</td><td>{fmt(r.get('baseline', ''))}</td>"
             f"<td>{fmt(r.get('current', ''))}</td><td>{html.escape(r['verdict'])}</td></tr>"
             for r in rows]
    return (f"{head}<details><summary>{len(rows)} results</summary><table><tr><th>metric</th>"
            f"<th>baseline</th><th>now</th><th>verdict</th></tr>{''.join(lines)}</table></details>")


def _drift(profile: str, payload: dict | None) -> tuple[dict, str]:
    """Rows of tools/compare_runs.py per notebook against data/reference/baseline_<profile>.json."""
    baseline = ROOT / "data" / "reference" / f"baseline_{profile}.json"
    if payload is None or not baseline.exists():
        return {}, "no baseline for this profile"
    sys.path.insert(0, str(ROOT / "tools"))
    import compare_runs
    try:
        rows = compare_runs.compare(compare_runs.load(baseline), payload)
    except compare_runs.NotComparable as err:
        return {}, f"not comparable with the baseline: {err}"
    by_nb: dict[str, list] = {}
    for r in rows:
        by_nb.setdefault(r["notebook"], []).append(r)
    return by_nb, f"compared with {baseline.relative_to(ROOT)}"


def write_index(out: Path, results: list[dict], profile: str, payload: dict | None = None) -> Path:
    """build/<profile>/index.html: the course map, this run's times, checks, assets and drift."""
    summary = (payload or {}).get("notebooks", {})
    drift, drift_note = _drift(profile, payload)
    done = {r["notebook"]: r for r in results}
    head = ("<tr><th>#</th><th>notebook</th><th>what it teaches</th>"
            f"<th>typical ({html.escape(profile)})</th><th>this run</th><th>checks</th>"
            "<th>assets (stand-ins in red)</th><th>vs baseline</th></tr>")
    body = []
    for row in course_map():
        m = re.search(r"\[([^\]]+)\]\(notebooks/([^)]+)\)", row["notebook"])
        name = m.group(2) if m else None
        run = done.get(name)
        stem = Path(name).stem if name else ""
        info = summary.get(stem, {})
        if run and run.get("html"):
            link = f'<a href="{html.escape(Path(run["html"]).name)}">{html.escape(name)}</a>'
            claim = claimed_minutes(row.get(profile, ""))
            over = claim is not None and run["seconds"] / 60 > 1.25 * claim
            status = f'{run["seconds"] / 60:.1f} min' + ("" if run["ok"] else
                                                        " <b style='color:red'>FAILED</b>") + (
                f" <b style='color:#b00'>over the README's {claim:.2g} min</b>" if over else "")
            checks = info.get("checks", [])
            missed = [c["name"] for c in checks if not c.get("ok")]
            check_cell = f"{len(checks) - len(missed)} of {len(checks)} met" + (
                "<br><span style='color:#b00'>missed: " + html.escape(", ".join(missed)) + "</span>"
                if missed else "")
            assets = _assets_cell(info.get("assets", {}))
            drift_cell = _drift_cell(drift.get(stem, []))
        else:
            link = html.escape(m.group(1) if m else re.sub(r"[*_]", "", row["notebook"]))
            status, check_cell, assets, drift_cell = "not run", "", "", ""
        teaches = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(row["teaches"]))
        body.append(f"<tr><td>{row['number']}</td><td>{link}</td><td>{teaches}</td>"
                    f"<td>{html.escape(row.get(profile, ''))}</td><td>{status}</td>"
                    f"<td>{check_cell}</td><td>{assets}</td><td>{drift_cell}</td></tr>")
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>cnn-seminar ({profile})</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top;font-size:13px}} th{{background:#eee}}
</style></head><body>
<h1>cnn-seminar: CNNs and transfer learning with Keras 3</h1>
<p>합성곱 신경망과 전이 학습 강좌. Executed notebooks of this build, profile <b>{html.escape(profile)}</b>.
"Typical" is the README's course map; "this run" is measured. The assets column lists where each
notebook's data and weights came from; stand-ins (generated data, random weights) are in red.
"vs baseline": {html.escape(drift_note)} (tools/compare_runs.py).</p>
<table>{head}{"".join(body)}</table></body></html>"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


# ----------------------------------------------------------------------------- results

def write_results(out: Path, results: list[dict], profile: str) -> dict:
    """build/<profile>/results.json: the run's context and, per notebook, what it measured."""
    sys.path.insert(0, str(ROOT))
    from seminar_utils.results import git_commit, read_events, summarize
    notebooks, environment = {}, {}
    for r in results:
        stem = Path(r["notebook"]).stem
        found = summarize(read_events(r["events"])).get(stem, {})
        environment = environment or found.get("environment", {})
        notebooks[stem] = {"ok": r["ok"], "error": r["error"], "wall_seconds": r["seconds"],
                           **{k: found.get(k, {} if k != "checks" else [])
                              for k in ("checks", "metrics", "assets")}}
    context = {"profile": profile, "git_commit": git_commit(ROOT),
               "finished": time.strftime("%Y-%m-%dT%H:%M:%S"), **environment}
    payload = {"context": context, "notebooks": notebooks}
    (out / "results.json").write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return payload


# ----------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="quick", choices=["auto", "full", "gpu", "quick", "smoke"])
    ap.add_argument("--out", default=None, help="output folder (default build/<profile>)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    ap.add_argument("--seed", type=int, default=None,
                    help="the notebooks' SEED parameter (default: each notebook's own, 42)")
    ap.add_argument("select", nargs="*", help="run only notebooks whose file name contains one of these")
    args = ap.parse_args(argv)
    ensure_environment()

    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    out = Path(args.out or ROOT / "build" / args.profile).resolve()
    (out / "events").mkdir(parents=True, exist_ok=True)
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.select:
        notebooks = [nb for nb in notebooks if any(s in nb.name for s in args.select)]
    if not notebooks:
        print("No notebooks selected.", file=sys.stderr)
        return 2
    os.environ["SEMINAR_PROFILE"] = args.profile
    parameters = {"PROFILE": args.profile}
    if args.seed is not None:
        os.environ["SEMINAR_SEED"] = str(args.seed)
        parameters["SEED"] = args.seed
    engine = _progress_engine()
    sockets = Path(tempfile.mkdtemp(prefix="kernels_"))
    results = []
    t_all = time.perf_counter()
    for nb in notebooks:
        target, events = out / nb.name, out / "events" / f"{nb.stem}.jsonl"
        events.unlink(missing_ok=True)
        os.environ["SEMINAR_RESULTS_FILE"] = str(events)
        print(f"=== {nb.name} (profile {args.profile}) ...", flush=True)
        engine.progress = Progress(nb.name[:2], len(nbformat.read(nb, as_version=4).cells))
        t0 = time.perf_counter()
        error = None
        try:
            pm.execute_notebook(str(nb), str(target), parameters=parameters,
                                cwd=str(nb.parent), kernel_name="python3", engine_name="progress",
                                execution_timeout=args.timeout, progress_bar=False,
                                config=local_kernel_config(sockets))
        except Exception as e:  # papermill still writes the notebook up to the failing cell
            last = str(e).strip().splitlines()[-1][:300] if str(e).strip() else ""
            error = f"{type(e).__name__}: {last}"
        finally:
            engine.progress.close()
        seconds = time.perf_counter() - t0
        html_path = None
        if target.exists():
            body, _ = HTMLExporter().from_filename(str(target))
            html_path = target.with_suffix(".html")
            html_path.write_text(body, encoding="utf-8")
        status = "FAILED" if error else "ok"
        print(f"    {status} in {seconds:.0f} s ({seconds / 60:.1f} min) -> {target}"
              + (f"\n    {error}" if error else ""), flush=True)
        results.append({"notebook": nb.name, "profile": args.profile, "seconds": round(seconds, 1),
                        "ok": error is None, "error": error, "ipynb": str(target),
                        "html": str(html_path) if html_path else None, "events": str(events)})
    shutil.rmtree(sockets, ignore_errors=True)
    (out / "run_summary.json").write_text(json.dumps(results, indent=2))
    payload = write_results(out, results, args.profile)
    index = write_index(out, results, args.profile, payload)
    print(f"Course site: {index}\nResults: {out / 'results.json'}")
    failed = [r for r in results if not r["ok"]]
    total = time.perf_counter() - t_all
    print(f"\n{len(results) - len(failed)} of {len(results)} notebooks ran in profile {args.profile} "
          f"in {total / 60:.1f} min; executed notebooks and HTML are in {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
