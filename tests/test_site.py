"""The course site index written by tools/run_notebooks.py."""

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import run_notebooks  # noqa: E402


def test_course_map_has_seven_rows_in_order():
    rows = run_notebooks.course_map()
    assert [r["number"] for r in rows] == [f"0{i}" for i in range(1, 8)]


def test_index_links_pages_and_shows_times_and_assets(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("display(data.asset_report())")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "text/plain": "Asset report\n...", "text/html": "<b>Asset report</b><table><tr><td>MNIST</td><td>stand-in</td></tr></table>"})]
    nb.cells = [cell]
    executed = tmp_path / "01_cnn_basics.ipynb"
    nbformat.write(nb, executed)
    (tmp_path / "01_cnn_basics.html").write_text("<html></html>")
    results = [{"notebook": "01_cnn_basics.ipynb", "seconds": 12.3, "ok": True, "error": None,
                "ipynb": str(executed), "html": str(tmp_path / "01_cnn_basics.html")}]
    index = run_notebooks.write_index(tmp_path, results, "smoke")
    page = index.read_text()
    assert '<a href="01_cnn_basics.html">01_cnn_basics.ipynb</a>' in page
    assert "12 s" in page and "<td>MNIST</td><td>stand-in</td>" in page
    assert page.count("<tr><td>0") == 7          # every course-map row, run or not
    assert page.count("not run") == 6
