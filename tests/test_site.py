"""The runner's course site, results file and progress lines (tools/run_notebooks.py)."""

import json
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import run_notebooks  # noqa: E402


def test_course_map_has_seven_rows_in_order_with_a_time_per_profile():
    rows = run_notebooks.course_map()
    assert [r["number"] for r in rows] == [f"0{i}" for i in range(1, 8)]
    assert all({"smoke", "quick", "full"} <= set(r) for r in rows)


def _events(path: Path, notebook: str, *events: dict) -> str:
    with open(path, "w") as f:
        for e in events:
            f.write(json.dumps({"notebook": notebook, "profile": "smoke", **e}) + "\n")
    return str(path)


def test_results_and_index_show_checks_metrics_and_every_stand_in(tmp_path):
    events = _events(
        tmp_path / "01.jsonl", "01_cnn_basics",
        {"type": "environment", "python": "3.11.7", "keras": "3.15.1", "device": "CPU only"},
        {"type": "asset", "name": "MNIST", "source": "mirror"},
        {"type": "check", "name": "CNN test accuracy", "value": 0.98, "target": 0.7, "op": ">=",
         "ok": True},
        {"type": "metric", "name": "CNN test accuracy", "value": 0.98, "kind": "accuracy"})
    events4 = _events(
        tmp_path / "04.jsonl", "04_feature_extraction",
        {"type": "asset", "name": "cats_and_dogs_filtered", "source": "mirror"},
        {"type": "asset", "name": "VGG16 ImageNet weights", "source": "stand-in"},
        {"type": "check", "name": "feature gain", "value": 0.01, "target": 0.02, "op": ">=",
         "ok": False})
    nb = nbformat.v4.new_notebook()
    for stem in ("01_cnn_basics", "04_feature_extraction"):
        nbformat.write(nb, tmp_path / f"{stem}.ipynb")
        (tmp_path / f"{stem}.html").write_text("<html></html>")
    results = [{"notebook": f"{stem}.ipynb", "seconds": s, "ok": True, "error": None,
                "ipynb": str(tmp_path / f"{stem}.ipynb"), "html": str(tmp_path / f"{stem}.html"),
                "events": ev}
               for stem, s, ev in (("01_cnn_basics", 90.0, events), ("04_feature_extraction", 30.0, events4))]
    payload = run_notebooks.write_results(tmp_path, results, "smoke")
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved == payload
    assert saved["context"]["profile"] == "smoke" and saved["context"]["keras"] == "3.15.1"
    assert saved["context"]["git_commit"] != ""
    one = saved["notebooks"]["01_cnn_basics"]
    assert one["wall_seconds"] == 90.0 and one["assets"] == {"MNIST": "mirror"}
    assert one["metrics"]["CNN test accuracy"] == {"value": 0.98, "kind": "accuracy"}
    assert one["checks"][0]["ok"] is True
    page = run_notebooks.write_index(tmp_path, results, "smoke", payload).read_text()
    assert '<a href="01_cnn_basics.html">01_cnn_basics.ipynb</a>' in page
    assert "1.5 min" in page and "0.5 min" in page
    assert "VGG16 ImageNet weights: stand-in" in page        # not only the first report's assets
    assert "1 of 1 met" in page and "0 of 1 met" in page and "missed: feature gain" in page
    assert page.count("<tr><td>0") == 7 and page.count("not run") == 5
    # an overrun of the README's claim is flagged: 90 s against 01's smoke claim, not 04's 30 s
    claims = {r["number"]: run_notebooks.claimed_minutes(r["smoke"]) for r in run_notebooks.course_map()}
    assert claims["01"] < 1.5 / 1.25 and claims["04"] > 0.5 / 1.25
    assert page.count("over the README's") == 1


def test_progress_prints_each_section_once(capsys):
    progress = run_notebooks.Progress("02", 5, heartbeat=3600)
    try:
        for i, src in enumerate(["# 02 · Title", "x = 1", "## 1. The data", "y = 2", "## 1. The data"]):
            cell = nbformat.v4.new_markdown_cell(src) if src.startswith("#") else \
                nbformat.v4.new_code_cell(src)
            progress.cell_start(cell, i)
    finally:
        progress.close()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].strip().startswith("[02] 0:00  cell 1/5  02 · Title")
    assert lines[1].strip().endswith("cell 3/5  1. The data")


def test_index_shows_drift_against_the_baseline(tmp_path, monkeypatch):
    import compare_runs
    monkeypatch.setattr(compare_runs, "_spread_file", lambda profile: {"01_cnn_basics": {"metrics": {
        "CNN test accuracy": {"kind": "accuracy", "mean": 0.98, "std": 0.002}}}})
    base = {"context": {"profile": "smoke"}, "notebooks": {"01_cnn_basics": {
        "ok": True, "assets": {"MNIST": "mirror"}, "checks": [],
        "metrics": {"CNN test accuracy": {"value": 0.98, "kind": "accuracy"}}}}}
    ref = tmp_path / "data" / "reference"
    ref.mkdir(parents=True)
    (ref / "baseline_smoke.json").write_text(json.dumps(base))
    monkeypatch.setattr(run_notebooks, "ROOT", tmp_path)
    monkeypatch.setattr(run_notebooks, "course_map", lambda: [
        {"number": "01", "notebook": "[01](notebooks/01_cnn_basics.ipynb)", "teaches": "x", "smoke": "1 min"}])
    cur = json.loads(json.dumps(base))
    cur["notebooks"]["01_cnn_basics"]["metrics"]["CNN test accuracy"]["value"] = 0.95
    (tmp_path / "01_cnn_basics.html").write_text("<html></html>")
    results = [{"notebook": "01_cnn_basics.ipynb", "seconds": 60.0, "ok": True, "error": None,
                "html": str(tmp_path / "01_cnn_basics.html")}]
    page = run_notebooks.write_index(tmp_path, results, "smoke", cur).read_text()
    assert "1 moved beyond tolerance" in page and "WORSE" in page
    assert "compared with data/reference/baseline_smoke.json" in page


def _execute(tmp_path, **kw):
    import papermill as pm
    source = tmp_path / "tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("answer = 6 * 7\nanswer")]),
                   source)
    pm.execute_notebook(str(source), str(tmp_path / "out.ipynb"), kernel_name="python3",
                        progress_bar=False, **kw)
    return nbformat.read(tmp_path / "out.ipynb", as_version=4)


def test_make_run_kernels_talk_over_local_sockets_without_the_tcp_warning(tmp_path, capfd):
    _execute(tmp_path)                     # papermill's default: TCP, and ipykernel says so
    assert "without encryption" in capfd.readouterr().err
    (tmp_path / "sockets").mkdir()
    out = _execute(tmp_path, config=run_notebooks.local_kernel_config(tmp_path / "sockets"))
    assert out.cells[0].outputs[0]["data"]["text/plain"] == "42"
    assert "without encryption" not in capfd.readouterr().err
