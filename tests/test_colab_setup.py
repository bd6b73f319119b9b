"""The Colab path, simulated: a stand-in google.colab module; install commands recorded, not run."""

import json
import sys
import types
from pathlib import Path

import pytest

import seminar_utils
from seminar_utils import env

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def run_setup_cell(source: str, in_colab: bool, monkeypatch) -> list[str]:
    """Execute a setup cell the way IPython would, recording shell commands instead of running them."""
    from IPython.core.inputtransformer2 import TransformerManager
    recorded: list[str] = []
    fake_ipython = types.SimpleNamespace(system=recorded.append, run_line_magic=lambda *a: recorded.append(" ".join(a)))
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    code = TransformerManager().transform_cell(source)
    exec(compile(code, "setup-cell", "exec"), {"get_ipython": lambda: fake_ipython})
    return recorded


def test_setup_in_colab_installs_the_package_but_not_tensorflow(monkeypatch):
    cmds = run_setup_cell(env.setup_cell_source(), in_colab=True, monkeypatch=monkeypatch)
    assert len(cmds) == 1
    assert cmds[0].startswith("pip install") and seminar_utils.REPO_URL in cmds[0]
    assert "tensorflow" not in cmds[0].lower() and "[tf" not in cmds[0]


def test_setup_outside_colab_installs_nothing(monkeypatch):
    assert run_setup_cell(env.setup_cell_source(), in_colab=False, monkeypatch=monkeypatch) == []


def test_in_colab_detects_the_stand_in_module(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert env.in_colab()


def test_describe_environment_warns_without_gpu_in_colab(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(env, "gpu_names", lambda: [])
    info = env.describe_environment("quick")
    out = capsys.readouterr().out
    assert "Keras" in out and "CPU only" in out
    assert "Runtime > Change runtime type > GPU" in out and info["colab"] == "True"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_badge_and_setup_come_from_repo_url(nb):
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    assert env.colab_badge(nb.name) in "".join(cells[0]["source"])
    setup = next(c for c in cells if c["cell_type"] == "code")
    assert "".join(setup["source"]).startswith(env.setup_cell_source()), \
        "run tools/sync_notebooks.py after changing REPO_URL or the setup template"
