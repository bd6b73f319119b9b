"""tools/classroom.py with nbgrader: the student release and the grading of a folder of submissions.

A small course of one notebook with two exercises (written here) keeps this fast; the release of
the real notebooks is checked in tests/test_student_release.py.
"""

import csv
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import classroom  # noqa: E402

pytest.importorskip("nbgrader")


def _meta(kind, n, points=1):
    if kind == "answer":
        return {"nbgrader": {"grade": False, "grade_id": f"ex{n}-answer", "locked": False,
                             "schema_version": 3, "solution": True, "task": False}}
    return {"nbgrader": {"grade": True, "grade_id": f"ex{n}-check", "locked": True,
                         "points": points, "schema_version": 3, "solution": False, "task": False}}


def demo_notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 09 Demo\n1. Double a number. [Solution 1](#solution-1)\n"
                                      "2. A list of squares. [Solution 2](#solution-2)"),
        nbformat.v4.new_code_cell("from seminar_utils import checks"),
        nbformat.v4.new_markdown_cell("## Solutions / 답안"),
        nbformat.v4.new_markdown_cell('### Exercise 1 <a id="solution-1"></a>'),
        nbformat.v4.new_code_cell("# Exercise 1: define `double`.\n# Hint: multiply by 2.\ndouble = None\n"
                                  "### BEGIN SOLUTION\ndef double(x):\n    return 2 * x\n### END SOLUTION",
                                  metadata=_meta("answer", 1)),
        nbformat.v4.new_code_cell('checks.verify("Exercise 1", [checks.is_true("double(3) == 6", '
                                  'callable(double) and double(3) == 6, f"double is {double!r}", '
                                  '"return x times two")])', metadata=_meta("check", 1, 2)),
        nbformat.v4.new_markdown_cell('### Exercise 2 <a id="solution-2"></a>'),
        nbformat.v4.new_code_cell("# Exercise 2: define `squares` (0..4).\nsquares = []\n"
                                  "### BEGIN SOLUTION\nsquares = [i * i for i in range(5)]\n### END SOLUTION",
                                  metadata=_meta("answer", 2)),
        nbformat.v4.new_code_cell('checks.verify("Exercise 2", [checks.equal("squares", squares, '
                                  '[0, 1, 4, 9, 16], "i * i for i in range(5)")])',
                                  metadata=_meta("check", 2, 1)),
    ]
    return nb


@pytest.fixture
def course(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nbformat.write(demo_notebook(), notebooks / "09_demo.ipynb")
    monkeypatch.setattr(classroom, "NOTEBOOKS", notebooks)
    monkeypatch.setattr(classroom, "ROOT", tmp_path)
    return tmp_path


def test_release_removes_solutions_and_keeps_hints_placeholders_and_checks(course):
    (path,) = classroom.release(course / "build" / "student")
    cells = nbformat.read(path, as_version=4).cells
    answer1, check1 = cells[4], cells[5]
    assert "return 2 * x" not in answer1.source and "BEGIN SOLUTION" not in answer1.source
    assert "# Hint: multiply by 2." in answer1.source and "double = None" in answer1.source
    assert "raise NotImplementedError()" in answer1.source
    assert check1.source == demo_notebook().cells[5].source
    assert all(not c.get("outputs") for c in cells if c.cell_type == "code")


def test_grading_gives_full_marks_to_the_right_answers_and_zero_to_the_wrong_ones(course):
    (path,) = classroom.release(course / "build" / "student")
    subs = course / "subs"
    for learner, answers in (("ada", ("def double(x):\n    return x + x", "squares = [0, 1, 4, 9, 16]")),
                             ("bob", ("def double(x):\n    return x * 3", "squares = [1, 4, 9, 16, 25]"))):
        nb = nbformat.read(path, as_version=4)
        for cell, code in zip([c for c in nb.cells if "NotImplementedError" in c.source], answers):
            cell.source = cell.source.replace("# YOUR CODE HERE\nraise NotImplementedError()", code)
        (subs / learner).mkdir(parents=True)
        nbformat.write(nb, subs / learner / "09_demo.ipynb")
    rows = classroom.grade(subs, course / "build" / "grades")
    scores = {(r["learner"], r["exercise"]): (r["score"], r["max_score"]) for r in rows}
    assert scores == {("ada", "ex1"): (2.0, 2.0), ("ada", "ex2"): (1.0, 1.0),
                      ("bob", "ex1"): (0.0, 2.0), ("bob", "ex2"): (0.0, 1.0)}
    with open(course / "build" / "grades" / "grades.csv") as f:
        assert len(list(csv.DictReader(f))) == 4
    page = (course / "build" / "grades" / "grades.html").read_text()
    assert "<b>3 / 3</b>" in page and "<b>0 / 3</b>" in page
