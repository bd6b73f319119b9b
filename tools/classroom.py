"""Student release and grading of the course's exercises, with nbgrader.

    python tools/classroom.py release                 # build/student/NN_*.ipynb, ready to hand out
    python tools/classroom.py grade SUBMISSIONS       # SUBMISSIONS/<learner>/NN_*.ipynb
                                                      # -> build/grades/grades.csv and grades.html

Every notebook is an nbgrader assignment of its own. Its answer cells hold the reference
solution between `### BEGIN SOLUTION` and `### END SOLUTION`; the release replaces that region
by a stub (the placeholders before it stay, so the check cell right after says what is wrong),
keeps the hints and the check cells, and clears the outputs. Grading runs each submitted notebook
top to bottom in the smoke profile (heavy training stays short), scores every check cell (its
points when it passes, zero when it raises) and writes one row per learner and exercise.
Instructors may add hidden tests to a check cell between `### BEGIN HIDDEN TESTS` and
`### END HIDDEN TESTS` in notebooks/: the release removes them, grading runs them.
"""

from __future__ import annotations

import argparse
import csv
import html
import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def _notebooks(select: list[str] | None = None) -> list[Path]:
    found = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    return [p for p in found if not select or any(s in p.name for s in select)]


def _api(root: Path, timeout: int = 1800):
    """nbgrader's Python API on the course folder ``root`` (its gradebook is root/gradebook.db)."""
    # nbgrader runs `alembic` for its database and a kernel for grading: both from this venv.
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    config = Config()
    config.CourseDirectory.root = str(root)
    config.Execute.timeout = timeout
    config.Execute.allow_errors = True          # a failing check scores zero; grading goes on
    config.Execute.interrupt_on_timeout = True
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def _prepare(root: Path, notebooks: list[Path]):
    """A fresh course folder with one source assignment per notebook, generated into release/."""
    shutil.rmtree(root, ignore_errors=True)
    for nb in notebooks:
        (root / "source" / nb.stem).mkdir(parents=True)
        shutil.copy(nb, root / "source" / nb.stem / nb.name)
    api = _api(root)
    for nb in notebooks:
        result = api.generate_assignment(nb.stem, force=True)
        if not result["success"]:
            raise SystemExit(f"nbgrader could not release {nb.name}:\n{result['log'][-3000:]}")
    return api


def release(out: Path, select: list[str] | None = None) -> list[Path]:
    """Write the student release of the selected notebooks into ``out``."""
    notebooks = _notebooks(select)
    root = ROOT / "build" / "nbgrader"
    _prepare(root, notebooks)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for nb in notebooks:
        target = out / nb.name
        shutil.copy(root / "release" / nb.stem / nb.name, target)
        written.append(target)
        print(f"student release: {target}")
    return written


def _submissions(folder: Path, known: dict[str, Path]) -> dict[str, dict[str, Path]]:
    """learner -> {assignment: file}: SUBMISSIONS/<learner>/<NN>*.ipynb, matched by the number."""
    out: dict[str, dict[str, Path]] = {}
    by_number = {stem[:2]: stem for stem in known}
    for learner in sorted(p for p in folder.iterdir() if p.is_dir()):
        for f in sorted(learner.glob("*.ipynb")):
            stem = by_number.get(f.name[:2])
            if stem is None:
                print(f"skipping {f}: not a course notebook (names start with 01..07)")
                continue
            out.setdefault(learner.name, {})[stem] = f
    if not out:
        raise SystemExit(f"No submissions found: expected {folder}/<learner>/NN_name.ipynb")
    return out


def grade(folder: Path, out: Path) -> list[dict]:
    """Autograde every submission in ``folder`` (smoke profile); write grades.csv and grades.html."""
    known = {p.stem: p for p in _notebooks()}
    subs = _submissions(folder, known)
    wanted = sorted({stem for files in subs.values() for stem in files})
    root = ROOT / "build" / "grading"
    api = _prepare(root, [known[s] for s in wanted])
    for learner, files in subs.items():
        for stem, f in files.items():
            dest = root / "submitted" / learner / stem
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, dest / f"{stem}.ipynb")
    os.environ["SEMINAR_PROFILE"] = "smoke"              # heavy training stays short
    for key in ("CI", "SEMINAR_STRICT", "SEMINAR_RESULTS_FILE"):
        os.environ.pop(key, None)
    for stem in wanted:
        for learner in subs:
            if stem in subs[learner]:
                result = api.autograde(stem, learner, force=True, create=True)
                print(f"graded {learner} / {stem}: {'ok' if result['success'] else 'FAILED'}")
    rows = _scores(root, subs)
    _write(rows, out)
    return rows


def _scores(root: Path, subs: dict[str, dict[str, Path]]) -> list[dict]:
    from nbgrader.api import Gradebook
    rows = []
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for learner in sorted(subs):
            for stem in sorted(subs[learner]):
                sub = gb.find_submission_notebook(stem, stem, learner)
                for g in sorted(sub.grades, key=lambda g: _natural(g.name)):
                    rows.append({"learner": learner, "notebook": stem,
                                 "exercise": g.name.removesuffix("-check"),
                                 "score": float(g.score or 0.0), "max_score": float(g.max_score)})
    return rows


def _natural(name: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _write(rows: list[dict], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["learner", "notebook", "exercise", "score", "max_score"])
        w.writeheader()
        w.writerows(rows)
    columns = sorted({(r["notebook"], r["exercise"]) for r in rows},
                     key=lambda k: (k[0], _natural(k[1])))
    learners = sorted({r["learner"] for r in rows})
    cell = {(r["learner"], r["notebook"], r["exercise"]): r for r in rows}
    head = "".join(f"<th>{html.escape(nb[:2])} {html.escape(ex)}</th>" for nb, ex in columns)
    body = []
    for learner in learners:
        tds, total, most = [], 0.0, 0.0
        for nb, ex in columns:
            r = cell.get((learner, nb, ex))
            if r is None:
                tds.append("<td>-</td>")
                continue
            total, most = total + r["score"], most + r["max_score"]
            color = "#dfd" if r["score"] == r["max_score"] else "#fdd"
            tds.append(f'<td style="background:{color}">{r["score"]:g} / {r["max_score"]:g}</td>')
        body.append(f"<tr><td>{html.escape(learner)}</td>{''.join(tds)}"
                    f"<td><b>{total:g} / {most:g}</b></td></tr>")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>cnn-seminar grades</title>"
            f"<style>body{{font-family:sans-serif}} td,th{{border:1px solid #ccc;padding:3px 6px;"
            f"font-size:13px}} table{{border-collapse:collapse}}</style></head><body>"
            f"<h1>Exercise scores</h1><p>One column per exercise (notebook number and exercise); "
            f"green: every check passed. Graded in the smoke profile.</p>"
            f"<table><tr><th>learner</th>{head}<th>total</th></tr>{''.join(body)}</table>"
            f"</body></html>")
    (out / "grades.html").write_text(page, encoding="utf-8")
    print(f"grades: {out / 'grades.csv'} and {out / 'grades.html'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("release", help="build the student release into build/student/")
    r.add_argument("--out", default=str(ROOT / "build" / "student"))
    r.add_argument("select", nargs="*", help="notebooks whose file name contains one of these")
    g = sub.add_parser("grade", help="grade a folder of submissions: SUBMISSIONS/<learner>/NN_*.ipynb")
    g.add_argument("submissions")
    g.add_argument("--out", default=str(ROOT / "build" / "grades"))
    args = ap.parse_args(argv)
    if args.command == "release":
        release(Path(args.out), args.select)
    else:
        grade(Path(args.submissions), Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
