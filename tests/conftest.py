"""Unit tests never write to the notebooks' results file (their checks are not the course's)."""

import pytest


@pytest.fixture(autouse=True)
def _no_results_file(monkeypatch):
    monkeypatch.delenv("SEMINAR_RESULTS_FILE", raising=False)
