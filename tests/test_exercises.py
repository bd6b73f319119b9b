"""Every notebook has the SEED parameter and the exercise layout: exercises in the body with
hints and a link to their solution, and a Solutions section at the end with nbgrader answer and
check cells (tools/classroom.py builds the student release from it)."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def cells(nb_path):
    return json.loads(nb_path.read_text(encoding="utf-8"))["cells"]


def src(cell):
    return "".join(cell["source"])


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_seed_parameter(nb):
    params = [c for c in cells(nb) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert 'SEED = int(os.environ.get("SEMINAR_SEED", "42"))' in src(params[0]), \
        "a SEED parameter (perf/seed_spread.py runs the notebook with several seeds)"


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_exercises_have_linked_solutions_and_check_cells(nb):
    """Exercises in the body link to a Solutions section at the end; every answer cell holds its
    reference solution between nbgrader's markers and is followed by a one-line check cell."""
    cs = cells(nb)
    heads = [i for i, c in enumerate(cs) if c["cell_type"] == "markdown"
             and re.search(r"^## Solutions", src(c), re.M)]
    assert len(heads) == 1, "one '## Solutions' section"
    body, tail = cs[:heads[0]], cs[heads[0]:]
    answers = [i for i, c in enumerate(tail) if _nbgrader(c).get("solution")]
    assert answers, "at least one exercise answer cell"
    ids = [_nbgrader(c).get("grade_id") for c in cs if _nbgrader(c)]
    assert len(ids) == len(set(ids)), f"grade_id values repeat: {ids}"
    for i in answers:
        answer, check = src(tail[i]), tail[i + 1]
        assert "### BEGIN SOLUTION" in answer and "### END SOLUTION" in answer, answer[:60]
        assert _nbgrader(check).get("grade") and _nbgrader(check).get("points", 0) > 0, \
            f"the cell after answer {_nbgrader(tail[i])['grade_id']} is a graded check cell"
        assert "checks." in src(check), "the check cell calls the course's checks"
        anchor = re.search(r'<a id="(solution-[\w-]+)"></a>', "".join(src(c) for c in tail[max(0, i - 2):i]))
        assert anchor, f"a heading with an anchor before answer {_nbgrader(tail[i])['grade_id']}"
        assert any(f"(#{anchor.group(1)})" in src(c) for c in body), \
            f"the exercise text links to #{anchor.group(1)}"
    assert not any("### BEGIN SOLUTION" in src(c) for c in body), "solutions only at the end"
