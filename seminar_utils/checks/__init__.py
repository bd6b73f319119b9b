"""Exercise checks: after each exercise, one line that says what is right and, if not, why.

Each notebook has a module here (``checks.nb01`` ...) with one function per exercise; its check
cell calls it with the learner's objects. The function runs small tests (:func:`equal`,
:func:`close`, :func:`at_least`, ...) and :func:`verify` prints "3 of 3 checks passed" or, for
each failed test, what was expected, what was found and a hint, then raises
:class:`ExerciseFailed` (which is how nbgrader scores a check cell zero). The tests are public
on purpose: reading them is a fair way to understand the exercise.
"""

from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

__all__ = ["Check", "ExerciseFailed", "exercise", "verify", "equal", "close", "at_least",
           "at_most", "has_shape", "is_true"]


def __getattr__(name: str):
    """``checks.nb01`` ... ``checks.nb07`` are imported on first use."""
    if name.startswith("nb") and name[2:].isdigit():
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ExerciseFailed(AssertionError):
    """An exercise's answer failed at least one of its checks (the message lists them)."""


@dataclass(frozen=True)
class Check:
    """One test of an exercise's answer: what it checks, whether it passed, and why not."""

    what: str
    ok: bool
    found: str = ""
    hint: str = ""


def _show(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return repr(v)


def equal(what: str, value: Any, expected: Any, hint: str = "") -> Check:
    """``value == expected`` (shapes as tuples, numbers exactly).

    >>> equal("conv1 parameters", 1216, 1216).ok
    True
    """
    if hasattr(value, "shape") and not hasattr(expected, "shape") and isinstance(expected, tuple):
        value = tuple(value.shape)
    ok = value == expected
    return Check(what, bool(ok), f"expected {_show(expected)}, found {_show(value)}", hint)


def close(what: str, value: float, expected: float, tolerance: float, hint: str = "") -> Check:
    """``|value - expected| <= tolerance``.

    >>> close("mean", 0.501, 0.5, 0.01).ok
    True
    """
    try:
        ok = math.isfinite(float(value)) and abs(float(value) - expected) <= tolerance
    except (TypeError, ValueError):
        ok = False
    return Check(what, ok, f"expected {_show(expected)} ± {tolerance:g}, found {_show(value)}", hint)


def at_least(what: str, value: float, floor: float, hint: str = "") -> Check:
    """``value >= floor`` (for a trained metric, the floor depends on the profile).

    >>> at_least("validation accuracy", 0.8, 0.6).ok
    True
    """
    try:
        ok = float(value) >= floor
    except (TypeError, ValueError):
        ok = False
    return Check(what, ok, f"expected at least {_show(floor)}, found {_show(value)}", hint)


def at_most(what: str, value: float, ceiling: float, hint: str = "") -> Check:
    """``value <= ceiling``.

    >>> at_most("loss", 0.3, 0.5).ok
    True
    """
    try:
        ok = float(value) <= ceiling
    except (TypeError, ValueError):
        ok = False
    return Check(what, ok, f"expected at most {_show(ceiling)}, found {_show(value)}", hint)


def has_shape(what: str, array: Any, shape: Sequence[int | None], hint: str = "") -> Check:
    """``array.shape == shape`` (``None`` matches any size, as in a Keras batch axis).

    >>> has_shape("output", __import__("numpy").zeros((2, 10)), (None, 10)).ok
    True
    """
    found = tuple(getattr(array, "shape", ()) or ())
    ok = len(found) == len(shape) and all(s is None or s == f for s, f in zip(shape, found))
    return Check(what, ok, f"expected shape {tuple(shape)}, found {found or type(array).__name__}",
                 hint)


def is_true(what: str, condition: Any, found: str = "", hint: str = "") -> Check:
    """Any other condition, with what was found when it fails.

    >>> is_true("the model is compiled", True).ok
    True
    """
    return Check(what, bool(condition), found, hint)


def verify(title: str, checks: Iterable[Check]) -> None:
    """Print the checks' verdict; raise :class:`ExerciseFailed` if any failed.

    Returns nothing on purpose: nbgrader reads a number shown by a check cell as partial credit.

    >>> verify("Exercise 0", [equal("two", 1 + 1, 2)])
    Exercise 0: 1 of 1 checks passed
    """
    checks = list(checks)
    failed = [c for c in checks if not c.ok]
    line = f"{title}: {len(checks) - len(failed)} of {len(checks)} checks passed"
    if not failed:
        print(line)
        return
    details = [f"  x {c.what}: {c.found}" + (f"\n    hint: {c.hint}" if c.hint else "")
               for c in failed]
    message = "\n".join([line] + details)
    print(message)
    raise ExerciseFailed(message)


def exercise(check: Callable[..., None] | None = None, *, optional: Sequence[str] = ()) -> Any:
    """Mark ``exercise_N``: an answer still at its placeholder, or one the check cannot read, fails cleanly.

    The student release keeps each answer cell's placeholders (``ex1_model = None``) and stubs out
    the rest, so an unedited exercise reaches its check with ``None``: it fails with one line
    naming what is still undefined, not with a traceback from deep inside the check. Any other
    error the check meets on the learner's objects is reported the same way. ``optional`` names
    arguments for which None is a valid answer (``@exercise(optional=("drift",))``).

    >>> @exercise
    ... def exercise_9(model): verify("Exercise 9", [is_true("a model", model is not None)])
    >>> try:
    ...     exercise_9(None)
    ... except ExerciseFailed:
    ...     pass  # doctest: +ELLIPSIS
    Exercise 9: 0 of 1 checks passed
      x your answer is written: model is still None (the placeholder)
        hint: write your answer in the cell above the check ...
    """
    if check is None:
        return functools.partial(exercise, optional=optional)
    signature = inspect.signature(check)
    title = "Exercise " + check.__name__.rsplit("_", 1)[-1]

    @functools.wraps(check)
    def run(*args: Any, **kwargs: Any) -> None:
        given = signature.bind(*args, **kwargs).arguments
        missing = [name for name, value in given.items() if value is None and name not in optional]
        if missing:
            verify(title, [is_true(
                "your answer is written", False,
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} still None (the placeholder)",
                "write your answer in the cell above the check (where it says YOUR CODE HERE) "
                "and run that cell, then this one")])
        try:
            return check(*args, **kwargs)
        except ExerciseFailed:
            raise
        except NotImplementedError:                  # a function the learner completes, unedited
            verify(title, [is_true(
                "your answer is written", False,
                "the function still raises NotImplementedError (the stub)",
                "replace the stub (YOUR CODE HERE) with your code and run that cell, then this one")])
        except Exception as error:  # the learner's object is not what the check can read
            verify(title, [is_true(
                "your answer can be checked", False, f"{type(error).__name__}: {error}",
                "the check could not read your answer: compare its type and shape with what the "
                "exercise asks for")])
    return run
