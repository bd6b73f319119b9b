"""The student release of the real notebooks (nbgrader, tools/classroom.py): no solution survives,
hints and checks stay, and an unedited exercise fails its check with the intended message.

Executing the seven released notebooks would cost as much as the notebook tests themselves, so the
last part calls each exercise's check function the way the released check cell calls it, with
the learner's names at their placeholders (what an unedited answer cell leaves behind).
tests/test_classroom.py grades generated submissions end to end on a small notebook.
"""

import ast
import importlib
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from seminar_utils.checks import ExerciseFailed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import classroom  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("course")
    original_root = classroom.ROOT
    classroom.ROOT = tmp                          # nbgrader's course folder goes to tmp/build
    try:
        paths = classroom.release(tmp / "student")
    finally:
        classroom.ROOT = original_root
    return {p.name: nbformat.read(p, as_version=4) for p in paths}


def _exercises(nb):
    """(answer cell, check cell) pairs, in order."""
    cells = nb.cells
    return [(c, cells[i + 1]) for i, c in enumerate(cells)
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]


def _assigned(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(textwrap.dedent(source))):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def _code_lines(source: str) -> set[str]:
    """Lines that would give a solution away (code, not comments, not trivial)."""
    return {ln.split("#", 1)[0].strip() for ln in source.splitlines()
            if len(ln.split("#", 1)[0].strip()) >= 12}


def test_every_notebook_is_released_with_its_exercises(released):
    assert sorted(released) == [p.name for p in NOTEBOOKS]
    counts = {name: len(_exercises(nb)) for name, nb in released.items()}
    assert all(n >= 2 for n in counts.values()), counts
    assert sum(counts.values()) >= 20


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_solution_survives_and_hints_checks_and_placeholders_stay(path, released):
    source = nbformat.read(path, as_version=4)
    student = released[path.name]
    assert [c.source for c in student.cells if c.cell_type == "markdown"] == \
        [c.source for c in source.cells if c.cell_type == "markdown"]          # hints kept
    assert any("<details>" in c.source for c in student.cells if c.cell_type == "markdown")
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")
    for (answer, check), (ref, ref_check) in zip(_exercises(student), _exercises(source)):
        before, rest = ref.source.split("### BEGIN SOLUTION", 1)
        solution, after = rest.split("### END SOLUTION", 1)
        leaked = _code_lines(solution) & _code_lines(answer.source) - _code_lines(before + after)
        assert not leaked, f"{path.name} {ref.metadata.nbgrader.grade_id}: solution lines survive: {leaked}"
        assert "BEGIN SOLUTION" not in answer.source and "raise NotImplementedError()" in answer.source
        assert check.source == ref_check.source and check.metadata.nbgrader.locked
        # every name the check reads from the answer has a placeholder before the stub, so an
        # unedited exercise reaches its check (and gets its message) instead of a NameError
        stub_part = answer.source.split("# YOUR CODE HERE")[0]
        learner = _assigned(solution) & {n.id for n in ast.walk(ast.parse(check.source))
                                         if isinstance(n, ast.Name)}
        assert learner <= _assigned(stub_part), \
            f"{path.name} {ref.metadata.nbgrader.grade_id}: no placeholder for {learner - _assigned(stub_part)}"


def _placeholders(source: str) -> dict[str, object]:
    """What an unedited answer cell leaves behind: the names it assigns before its stub (a literal
    such as None or {}; anything computed, e.g. a model loaded from a file, stands as an object)
    and the functions it defines around a stub."""
    values = {}
    stub = source[:source.index("# YOUR CODE HERE")].count("\n") + 1      # the stub's line
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):                 # a function the learner completes
            namespace = {}
            exec(compile(ast.Module([node], type_ignores=[]), "<answer>", "exec"), namespace)
            values[node.name] = namespace[node.name]
        if isinstance(node, ast.Assign) and node.lineno < stub:
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                value = object()
            for target in node.targets:
                if isinstance(target, ast.Tuple) and isinstance(value, tuple):   # a, b = {}, None
                    values.update({n.id: v for n, v in zip(target.elts, value)
                                   if isinstance(n, ast.Name)})
                    continue
                for n in ast.walk(target):
                    if isinstance(n, ast.Name):
                        values[n.id] = value
    return values


def _unedited_calls(nb):
    """Per exercise: (grade id, check function, args, kwargs, names at None) as an unedited release calls it."""
    calls = []
    for answer, check in _exercises(nb):
        held = _placeholders(answer.source)
        call = ast.parse(check.source).body[0].value
        assert isinstance(call, ast.Call), check.source
        module, function = ast.unparse(call.func).split(".")[-2:]
        value = lambda node: held[node.id] if isinstance(node, ast.Name) and node.id in held \
            else object()                                   # noqa: E731  (the notebook's context)
        args = [value(a) for a in call.args]
        kwargs = {k.arg: value(k.value) for k in call.keywords}
        names = [n.id for n in ast.walk(call) if isinstance(n, ast.Name) and n.id in held
                 and (held[n.id] is None or callable(held[n.id]))]
        fn = getattr(importlib.import_module(f"seminar_utils.checks.{module}"), function)
        calls.append((check.metadata.nbgrader.grade_id, fn, args, kwargs, names))
    return calls


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_an_unedited_exercise_fails_its_check_with_the_intended_message(path, released):
    for grade_id, fn, args, kwargs, names in _unedited_calls(released[path.name]):
        assert names, f"{grade_id}: the check reads nothing the learner writes"
        with pytest.raises(ExerciseFailed) as failed:
            fn(*args, **kwargs)
        message = str(failed.value)
        placeholder = "your answer is written" in message and "still None (the placeholder)" in message
        stub = "NotImplementedError" in message           # a function still holding its stub
        assert placeholder or stub, f"{path.name} {grade_id}: {message}"
        assert "hint:" in message
