"""The exercise-check framework (seminar_utils.checks): verdict lines and the exercise guard."""

import pytest

from seminar_utils.checks import ExerciseFailed, at_least, equal, exercise, is_true, verify


@exercise
def exercise_7(model, history, profile=None):
    verify("Exercise 7", [is_true("a model", hasattr(model, "layers")),
                          at_least("accuracy", history["accuracy"], 0.5)])


@exercise(optional=("drift",))
def exercise_8(values, drift=None):
    verify("Exercise 8", [equal("values", values, [1, 2]), is_true("drift", drift in (None, 0.1))])


def failure(fn, *args, **kwargs) -> str:
    with pytest.raises(ExerciseFailed) as e:
        fn(*args, **kwargs)
    return str(e.value)


def test_verify_counts_the_passed_checks_and_lists_the_failed_ones(capsys):
    verify("Exercise 0", [equal("two", 2, 2)])
    assert capsys.readouterr().out == "Exercise 0: 1 of 1 checks passed\n"
    msg = failure(verify, "Exercise 0", [equal("two", 3, 2, hint="add"), equal("one", 1, 1)])
    assert msg == "Exercise 0: 1 of 2 checks passed\n  x two: expected 2, found 3\n    hint: add"


def test_placeholders_are_named_before_the_check_runs():
    msg = failure(exercise_7, None, None, profile="smoke")       # profile given: not a placeholder
    assert "Exercise 7: 0 of 1 checks passed" in msg
    assert "x your answer is written: model, history are still None (the placeholder)" in msg
    assert "YOUR CODE HERE" in msg


def test_optional_arguments_may_be_none_and_the_check_runs():
    exercise_8([1, 2])                                         # drift None is a valid answer
    assert "values: expected [1, 2], found [3]" in failure(exercise_8, [3])
    assert "values is still None" in failure(exercise_8, None)


def test_an_unreadable_answer_or_a_stub_fails_with_a_message_not_a_traceback():
    msg = failure(exercise_7, object(), {"loss": 1.0})          # no "accuracy" key: a KeyError inside
    assert "x your answer can be checked: KeyError: 'accuracy'" in msg

    @exercise
    def exercise_9(fn):
        verify("Exercise 9", [equal("fn(1)", fn(1), 2)])

    def stub(x):
        raise NotImplementedError()
    assert "NotImplementedError (the stub)" in failure(exercise_9, stub)
    exercise_9(lambda x: 2 * x)
