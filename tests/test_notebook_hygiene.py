"""Committed notebooks follow the course template and carry no stray outputs."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def cells(nb_path):
    return json.loads(nb_path.read_text(encoding="utf-8"))["cells"]


def src(cell):
    return "".join(cell["source"])


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_only_checked_cells_keep_outputs(nb):
    for i, cell in enumerate(cells(nb)):
        if cell["cell_type"] != "code":
            continue
        checked = "NBVAL_CHECK_OUTPUT" in src(cell)
        if checked:
            assert isinstance(cell.get("execution_count"), int), f"checked cell {i} needs a count for nbval"
            assert cell["outputs"], f"checked cell {i} has no stored reference output"
            assert cell["metadata"].get("keep_output") is True, f"checked cell {i} lacks keep_output"
            assert not any(o.get("name") == "stderr" for o in cell["outputs"]), f"cell {i} stores stderr"
        else:
            assert cell.get("execution_count") is None, f"cell {i} has an execution count"
            assert not cell["outputs"], f"cell {i} has stray outputs: run tools/refresh_outputs.py"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_template(nb):
    cs = cells(nb)
    title = src(cs[0])
    assert title.startswith("# ") and HANGUL.search(title), "title in English and Korean"
    assert "colab.research.google.com" in title, "Open in Colab badge"
    params = [c for c in cs if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    assert 'os.environ.get("SEMINAR_PROFILE", "auto")' in src(params[0])
    setup = src(cs[1])
    pip_lines = [line for line in setup.splitlines() if "pip install" in line]
    assert "google.colab" in setup and pip_lines
    assert not any("tensorflow" in line.lower() for line in pip_lines), "Colab's TensorFlow must not be reinstalled"
    assert any("expect(" in src(c) for c in cs if c["cell_type"] == "code"), "a check cell"
    assert any("Exercise" in src(c) for c in cs if c["cell_type"] == "markdown")
    assert any(c.get("metadata", {}).get("nbgrader", {}).get("solution") for c in cs), \
        "an nbgrader answer cell (tests/test_exercises.py checks the layout)"



@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_no_numbers_hard_coded_for_training(nb):
    """Epochs and sample counts come from seminar_utils.profiles, not from cells."""
    for i, cell in enumerate(cells(nb)):
        if cell["cell_type"] == "code":
            assert not re.search(r"\bepochs\s*=\s*\d", src(cell)), f"cell {i} hard-codes epochs"


LATIN = re.compile(r"[A-Za-z]")


def _prose(text: str) -> str:
    """Markdown without code spans, code blocks, links' targets and tables' pipes."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return text


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_every_prose_cell_is_bilingual(nb):
    """English, then Korean (COURSE.md §6): a markdown cell with prose has Latin and Hangul text."""
    for i, cell in enumerate(cells(nb)):
        if cell["cell_type"] != "markdown":
            continue
        text = _prose(src(cell))
        if len(LATIN.findall(text)) >= 30 or len(HANGUL.findall(text)) >= 10:
            assert HANGUL.search(text), f"cell {i} has English prose but no Korean: {text[:80]!r}"
            assert LATIN.search(text), f"cell {i} has Korean prose but no English: {text[:80]!r}"
