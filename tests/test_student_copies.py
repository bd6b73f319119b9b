"""Student copies keep the exercises and drop every reference solution."""

import os
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import student_copies  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def solution_lines(cell) -> set[str]:
    """The code lines of a solution that would give it away (not comments, not trivial lines)."""
    lines = set()
    for line in cell.source.splitlines():
        code = line.split("#", 1)[0].strip()
        if len(code) >= 12:
            lines.add(code)
    return lines


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_solution_code_survives(nb_path):
    original = nbformat.read(nb_path, as_version=4)
    solutions = [c for c in original.cells if student_copies.is_solution(c)]
    assert solutions, "every notebook has at least one exercise with a reference solution"
    copy = student_copies.student_copy(original)
    student_code = "\n".join(c.source for c in copy.cells if c.cell_type == "code")
    other_code = "\n".join(c.source for c in original.cells
                           if c.cell_type == "code" and not student_copies.is_solution(c))
    for cell in solutions:
        for line in solution_lines(cell):
            if line in other_code:  # shared with a non-solution cell: not a give-away
                continue
            assert line not in student_code, f"solution line survived: {line!r}"
    stubs = [c for c in copy.cells if "exercise-stub" in c.metadata.get("tags", [])]
    assert len(stubs) == len(solutions)
    assert all("TODO" in c.source and not c.outputs for c in stubs)
    # the exercise text itself is kept
    md_orig = [c.source for c in original.cells if c.cell_type == "markdown"]
    assert md_orig == [c.source for c in copy.cells if c.cell_type == "markdown"]


def test_hints_are_kept():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("# Reference solution 1\n# Hint: use GlobalAveragePooling2D\nx = compute()")]
    copy = student_copies.student_copy(nb)
    assert "# Hint: use GlobalAveragePooling2D" in copy.cells[0].source
    assert "compute()" not in copy.cells[0].source


def test_student_copy_runs_until_the_first_exercise(tmp_path):
    """Notebook 01's student copy executes (smoke) from the top through its first exercise stub."""
    from nbclient import NotebookClient
    nb_path = ROOT / "notebooks" / "01_cnn_basics.ipynb"
    copy = student_copies.student_copy(nbformat.read(nb_path, as_version=4))
    first = next(i for i, c in enumerate(copy.cells) if "exercise-stub" in c.metadata.get("tags", []))
    copy.cells = copy.cells[: first + 1]
    os.environ.setdefault("SEMINAR_PROFILE", "smoke")
    NotebookClient(copy, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(nb_path.parent)}}).execute()
    errors = [o for c in copy.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
