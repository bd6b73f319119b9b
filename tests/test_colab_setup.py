"""The Colab path, simulated: a stand-in google.colab module; pip is recorded, not run."""

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

import seminar_utils
from seminar_utils import env

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
sys.path.insert(0, str(ROOT / "tools"))
import sync_notebooks  # noqa: E402


def run_setup_cell(monkeypatch, in_colab: bool, returncode: int = 0, stderr: str = "") -> list:
    """Execute the setup cell as IPython would; pip calls are recorded and answer `returncode`."""
    from IPython.core.inputtransformer2 import TransformerManager
    calls = []

    real_run = subprocess.run

    def fake_run(cmd, **kwargs):
        if "pip" not in cmd:                  # other programs (the backend probing) run as usual
            return real_run(cmd, **kwargs)
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, returncode, "", stderr)

    monkeypatch.setattr(subprocess, "run", fake_run)
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    code = TransformerManager().transform_cell(sync_notebooks.setup_cell_source())
    exec(compile(code, "setup-cell", "exec"), {"get_ipython": lambda: None})
    return calls


def test_setup_in_colab_installs_the_package_but_not_tensorflow(monkeypatch):
    calls = run_setup_cell(monkeypatch, in_colab=True)
    assert len(calls) == 1
    cmd = " ".join(calls[0])
    assert "-m pip install" in cmd and seminar_utils.REPO_URL in cmd
    assert "tensorflow" not in cmd.lower() and "[tf" not in cmd


def test_setup_outside_colab_installs_nothing(monkeypatch):
    assert run_setup_cell(monkeypatch, in_colab=False) == []


def test_a_failed_install_goes_on_when_the_package_is_already_there(monkeypatch, capsys):
    run_setup_cell(monkeypatch, in_colab=True, returncode=1,
                   stderr="Collecting seminar_utils\nERROR: could not reach github.com")
    out = capsys.readouterr().out
    assert "Could not update the course package (ERROR: could not reach github.com)" in out
    assert "using the installed one" in out


def test_a_failed_install_without_the_package_stops_with_one_clear_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "seminar_utils", None)      # not importable
    with pytest.raises(SystemExit) as info:
        run_setup_cell(monkeypatch, in_colab=True, returncode=128,
                       stderr="fatal: could not read Username for 'https://github.com'")
    message = str(info.value)
    assert message.startswith("Could not install the course package seminar_utils: fatal: could "
                              "not read Username")
    assert "Runtime > Disconnect and delete runtime" in message and "pip install" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no pip traceback


def test_start_quietly_keeps_only_unknown_stderr_lines(capfd):
    dropped = env.start_quietly()
    assert all(any(n in line for n in env._STARTUP_NOISE) for line in dropped)
    assert "cuInit" not in capfd.readouterr().err


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
def test_notebook_badge_and_setup_come_from_the_template(nb):
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    assert sync_notebooks.colab_badge(nb.name) in "".join(cells[0]["source"])
    setup = next(c for c in cells if c["cell_type"] == "code")
    assert "".join(setup["source"]).startswith(sync_notebooks.setup_cell_source()), \
        "run tools/sync_notebooks.py after changing REPO_URL or the setup template"
