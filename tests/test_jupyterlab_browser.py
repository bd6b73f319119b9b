"""Notebook 01 in a real JupyterLab, driven by headless Chromium (Debian's chromium + chromedriver).

JupyterLab listens on loopback, on a free port, with a random token that is never written to its
log. The browser opens notebook 01, runs all cells (smoke profile), waits for the kernel to go
idle, and saves a screenshot to build/screenshots/. Assertions: no error output, every figure
cell rendered an image, the checked parameter counts are on the page.

.ci/run installs chromium; on a machine without it the test is skipped, except under CI=true
where a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "notebooks/01_cnn_basics.ipynb"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _need_browser():
    missing = [n for n, p in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)) if not p]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip)")
    if missing:
        msg = f"browser test needs {', '.join(missing)} (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _figure_cells(nb_path: Path) -> list[int]:
    """Indices (among all cells) of code cells that draw a figure."""
    cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
    return [i for i, c in enumerate(cells) if c["cell_type"] == "code"
            and re.search(r"\bfig\b\s*(,\s*\w+)?\s*=|plt\.subplots", "".join(c["source"]))]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    _need_browser()
    tmp = tmp_path_factory.mktemp("lab")
    token, port = secrets.token_hex(24), _free_port()
    settings = tmp / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # render every cell (no virtual scrolling) so the DOM holds all outputs; no autosave, no news pop-up
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    (settings.parent / "docmanager-extension").mkdir()
    (settings.parent / "docmanager-extension" / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    (settings.parent / "apputils-extension").mkdir()
    (settings.parent / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # serve a copy: the repository's notebook is never written to
    root = tmp / "root"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / NOTEBOOK, root / NOTEBOOK)
    env = dict(os.environ, SEMINAR_PROFILE="smoke", JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), MPLBACKEND="module://matplotlib_inline.backend_inline")
    log = tmp / "lab.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--LabApp.expose_app_in_browser=True", "--ServerApp.port_retries=0"]
        + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        cwd=root, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except Exception:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited: {log.read_text()[-2000:]}")
            time.sleep(0.5)
    else:
        proc.terminate()
        raise RuntimeError("JupyterLab did not start in 60 s")
    yield {"base": base, "token": token, "log": log}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def driver(lab, tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                 f"--user-data-dir={tmp_path_factory.mktemp('chrome')}"):
        opts.add_argument(flag)
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield drv
    drv.quit()


def _wait(predicate, timeout: float, what: str, poll: float = 1.0):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


STATE_JS = """
const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
if (!w || !w.content || !w.content.model || !w.sessionContext.session) return null;
const kernel = w.sessionContext.session.kernel;
const cells = [];
for (let i = 0; i < w.content.model.cells.length; i++) {
  const c = w.content.model.cells.get(i);
  cells.push({type: c.type, count: c.type === 'code' ? c.executionCount : null,
              outputs: c.type === 'code' ? c.outputs.toJSON().map(o => ({type: o.output_type,
                       mimes: Object.keys(o.data || {}), ename: o.ename || null})) : []});
}
return {status: kernel ? kernel.status : 'none', cells: cells};
"""


def test_notebook_01_runs_in_jupyterlab(lab, driver):
    driver.get(f"{lab['base']}/lab/tree/{NOTEBOOK}?token={lab['token']}")
    _wait(lambda: driver.execute_script(STATE_JS), 90, "the notebook and its kernel")
    _wait(lambda: driver.execute_script(STATE_JS)["status"] == "idle", 90, "an idle kernel")
    driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")

    def finished():
        state = driver.execute_script(STATE_JS)
        codes = [c for c in state["cells"] if c["type"] == "code"]
        return state if state["status"] == "idle" and all(c["count"] for c in codes) else None

    state = _wait(finished, 600, "all cells to run")
    shots = ROOT / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(shots / "jupyterlab_01_top.png"))

    errors = [(i, o["ename"]) for i, c in enumerate(state["cells"]) for o in c["outputs"] if o["type"] == "error"]
    assert not errors, f"cells with errors: {errors}"
    for i in _figure_cells(ROOT / NOTEBOOK):
        mimes = {m for o in state["cells"][i]["outputs"] for m in o["mimes"]}
        assert "image/png" in mimes, f"figure cell {i} rendered no image"
    rendered = driver.execute_script("return document.querySelectorAll('.jp-RenderedImage img').length;")
    assert rendered >= len(_figure_cells(ROOT / NOTEBOOK))
    text = driver.execute_script("return document.querySelector('.jp-Notebook').innerText;")
    for expected in ("93,322", "1,187,286", "501,086", "trainable 499,806, non-trainable 1,280", "CHECK CNN test accuracy"):
        assert expected in text, f"{expected!r} not shown on the page"
    # a screenshot of the first figure area too, for people to look at
    driver.execute_script("document.querySelectorAll('.jp-RenderedImage')[2].scrollIntoView();")
    driver.save_screenshot(str(shots / "jupyterlab_01_figures.png"))


def test_token_is_not_leaked_in_the_server_log(lab, driver):
    assert lab["token"] not in lab["log"].read_text()
