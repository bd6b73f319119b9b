"""Every file the notebooks read from the repository ships inside the installed package.

The wheel is built from a copy of the project, installed (not editable) into an empty folder,
and used from a process whose only ``seminar_utils`` is that folder, whose working directory is
outside the repository and whose network is blocked: what the notebooks read there (the
source project's benchmark table) must come from the package itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Imported first by Python in the child (sitecustomize on PYTHONPATH): no network connection.
_NO_NETWORK = '''
import socket

def _blocked(*args, **kwargs):
    raise OSError("network blocked by tests/test_wheel.py")

socket.socket.connect = socket.socket.connect_ex = _blocked
socket.create_connection = _blocked
'''

_CHILD = '''
import json, socket, seminar_utils
from seminar_utils import benchmark
try:
    socket.create_connection(("pypi.org", 443), timeout=2)
    blocked = False
except OSError as err:
    blocked = "blocked by tests/test_wheel.py" in str(err)
ref = benchmark.load_reference()
print(json.dumps({"file": seminar_utils.__file__, "blocked": blocked, "rows": len(ref),
                  "resnet50v2": ref.by_model()["ResNet50V2"]["test_accuracy"]}))
'''


def _pip(*args: str, cwd: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "pip", *args], cwd=cwd, capture_output=True,
                         text=True, timeout=300, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]


def test_the_installed_wheel_loads_the_reference_table_offline(tmp_path):
    src = tmp_path / "src"                   # a copy: building must not write into the checkout
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in ("seminar_utils", "data/reference"):
        shutil.copytree(ROOT / folder, src / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _pip("wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(src), cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("seminar_utils-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "seminar_utils/reference/source_benchmark_14.csv" in names
    packages = {str(p.parent.relative_to(ROOT)).replace("/", ".")
                for p in (ROOT / "seminar_utils").rglob("__init__.py")} | {"seminar_utils.reference"}
    shipped = {n.rsplit("/", 1)[0].replace("/", ".") for n in names if n.endswith("__init__.py")}
    assert packages <= shipped, f"subpackages missing from pyproject's list: {packages - shipped}"

    site, guard, elsewhere = tmp_path / "site", tmp_path / "guard", tmp_path / "elsewhere"
    _pip("install", "--no-deps", "-q", "--target", str(site), str(wheel), cwd=tmp_path)
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(_NO_NETWORK)
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(guard)]),
           "TF_CPP_MIN_LOG_LEVEL": "3", "SEMINAR_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", _CHILD], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(got["file"]).resolve().is_relative_to(site.resolve()), got["file"]
    assert got["blocked"] is True
    assert got["rows"] == 14 and got["resnet50v2"] == 0.82
