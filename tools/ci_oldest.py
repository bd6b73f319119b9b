"""CI on the oldest supported stack (.venv-oldest, pinned by .ci/colab-stack.txt): check it, report it.

    python tools/ci_oldest.py check [--commit SHA] [--kernel [--cwd DIR]]
        the pins are what runs; seminar_utils is the installed, non-editable copy in site-packages
        (of that commit), not the checkout; --kernel: inside a kernel started as nbval starts it
    python tools/ci_oldest.py report JUNIT_XML  one row per notebook: cells, failures, time, first error

Run it with .venv-oldest/bin/python as a script (not ``-m``), so the checkout is not on sys.path.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

__all__ = ["STACK_FILE", "read_pins", "probe", "stack_problems", "notebook_report"]

ROOT = Path(__file__).resolve().parents[1]
STACK_FILE = ROOT / ".ci" / "colab-stack.txt"

# Runs in the interpreter (or kernel) under test; writes what it imported to the file OUT.
_PROBE = """
import os as _os
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import importlib.metadata as _md, json as _json, sys as _sys, sysconfig as _sc
import numpy as _np, keras as _keras, tensorflow as _tf, seminar_utils as _su
_dist = _md.distribution("seminar_utils")
with open(OUT, "w") as _f:
    _json.dump({"executable": _sys.executable, "prefix": _sys.prefix,
                "purelib": _sc.get_paths()["purelib"], "package": _su.__file__,
                "direct_url": _json.loads(_dist.read_text("direct_url.json") or "{}"),
                "versions": {"tensorflow": _tf.__version__, "keras": _keras.__version__,
                             "numpy": _np.__version__, "seminar_utils": _dist.version}}, _f)
"""


def read_pins(path: Path = STACK_FILE) -> dict[str, str]:
    """The ``name==version`` lines of a pins file, as {lower-case name: version}.

    >>> read_pins()["keras"]
    '3.10.0'
    """
    pins: dict[str, str] = {}
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*==\s*([\w.+-]+)", line)
        if not m:
            raise ValueError(f"{path}: not a pin (name==version): {line!r}")
        pins[m.group(1).lower()] = m.group(2)
    return pins


def probe(kernel: bool = False, cwd: Path = ROOT / "notebooks") -> dict[str, Any]:
    """Import TensorFlow, Keras, NumPy and seminar_utils here, or in a Jupyter kernel started the
    way nbval starts it (this interpreter's ipykernel, working directory ``cwd``), and say which
    versions and files were imported.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "probe.json"
        code = f"OUT = {str(out)!r}\n{_PROBE}"
        if not kernel:
            exec(compile(code, "<probe>", "exec"), {})
        else:
            import os
            from nbval.kernel import CURRENT_ENV_KERNEL_NAME, start_new_kernel
            km, kc = start_new_kernel(kernel_name=CURRENT_ENV_KERNEL_NAME, cwd=str(cwd),
                                      stderr=open(os.devnull, "w"))
            try:
                reply = kc.execute_interactive(code, timeout=300, output_hook=lambda msg: None)
            finally:
                kc.stop_channels()
                km.shutdown_kernel(now=True)
            if reply["content"]["status"] != "ok":
                c = reply["content"]
                raise RuntimeError(f"the probe failed in the kernel: {c.get('ename')}: {c.get('evalue')}")
        return json.loads(out.read_text())


def stack_problems(info: dict[str, Any], pins: dict[str, str], venv: Path,
                   commit: str | None = None) -> list[str]:
    """What is wrong with a :func:`probe` result for the pins, the virtual environment and the
    commit the package should have been installed from (empty: fine).

    >>> stack_problems({"executable": "/v/bin/python", "prefix": "/v", "purelib": "/v/site",
    ...                 "package": "/v/site/seminar_utils/__init__.py", "direct_url": {},
    ...                 "versions": {"keras": "3.10.0"}}, {"keras": "3.10.0"}, Path("/v"))
    []
    """
    problems = []
    venv = Path(venv).absolute()
    if Path(info["prefix"]).absolute() != venv:
        problems.append(f"runs in {info['prefix']} ({info['executable']}), not in {venv}")
    for name, want in pins.items():
        got = info["versions"].get(name)
        if got != want:
            problems.append(f"{name} {got} is imported, the pin is {want}")
    package, purelib = Path(info["package"]).absolute(), Path(info["purelib"]).absolute()
    if not package.is_relative_to(purelib) or not purelib.is_relative_to(venv):
        problems.append(f"seminar_utils is imported from {package.parent}, not from {purelib}")
    if info["direct_url"].get("dir_info", {}).get("editable"):
        problems.append("seminar_utils is an editable install; Colab installs a copy")
    installed = info["direct_url"].get("vcs_info", {}).get("commit_id")
    if commit and installed != commit:
        problems.append(f"seminar_utils is installed from commit {installed}, not {commit}")
    return problems


def _first_line(text: str) -> str:
    text = re.sub(r"(\x1b|#x1B)\[[0-9;]*m", "", text or "")    # colours (junitxml escapes ESC)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if re.match(r"^(E\s+)?\w+(Error|Exception|Exit)\b", ln)]
    return (errors[-1] if errors else lines[-1] if lines else "")[:160]


def notebook_report(junit_xml: Path) -> list[dict[str, Any]]:
    """One row per notebook of a pytest JUnit file (nbval: one test case per cell): cells, failed
    cells, seconds, and the first failing cell with its error line.
    """
    rows: dict[str, dict[str, Any]] = {}
    for case in ET.parse(junit_xml).getroot().iter("testcase"):
        ident = f"{case.get('classname', '')}::{case.get('name', '')}"
        m = re.search(r"(\d\d_[\w.-]+?)(\.ipynb)?::(.*)$", ident)
        if not m:
            continue
        row = rows.setdefault(m.group(1), {"notebook": m.group(1), "cells": 0, "failed": 0,
                                           "seconds": 0.0, "first_failure": ""})
        row["cells"] += 1
        row["seconds"] += float(case.get("time") or 0.0)
        bad = [e for e in case if e.tag in ("failure", "error")]
        if bad:
            row["failed"] += 1
            if not row["first_failure"]:
                text = bad[0].text or bad[0].get("message", "")
                row["first_failure"] = f"{m.group(3)}: {_first_line(text)}"
    return [rows[k] for k in sorted(rows)]


def _report(junit_xml: Path) -> int:
    from seminar_utils.table import Table
    if not junit_xml.exists():
        print(f"No {junit_xml}: pytest stopped before it ran the notebooks.", file=sys.stderr)
        return 1
    rows = notebook_report(junit_xml)
    total = sum(r["seconds"] for r in rows)
    print(Table(rows, [("notebook", "notebook"), ("cells", "cells"), ("failed", "failed cells"),
                       ("seconds", "s", "{:.0f}"), ("first_failure", "first failure")],
                title="Notebooks on the oldest stack (" + ", ".join(
                    f"{k} {v}" for k, v in read_pins().items()) + ")",
                note=f"{len(rows)} notebooks, {sum(r['failed'] > 0 for r in rows)} failing, "
                     f"{total:.0f} s in cells", highlight=lambda r: r["failed"] > 0))
    return 1 if not rows or any(r["failed"] for r in rows) else 0


def _check(kernel: bool, cwd: Path, commit: str | None) -> int:
    venv = Path(sys.prefix)
    where = "in an nbval kernel" if kernel else "in this interpreter"
    info = probe(kernel, cwd)
    problems = stack_problems(info, read_pins(), venv, commit)
    for p in problems:
        print(f"oldest stack {where}: {p}", file=sys.stderr)
    url = info["direct_url"]
    source = url.get("url", "?") + ("@" + url["vcs_info"]["commit_id"][:10] if "vcs_info" in url else "")
    v = info["versions"]
    print(f"oldest stack {where}: {'OK' if not problems else 'WRONG'}: TensorFlow {v['tensorflow']}, "
          f"Keras {v['keras']}, NumPy {v['numpy']}, Python {sys.version.split()[0]}; "
          f"seminar_utils {v['seminar_utils']} from {info['package']} (installed from {source})")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    check = sub.add_parser("check", help="the pins and the installed package are what is imported")
    check.add_argument("--kernel", action="store_true", help="check inside a kernel started as nbval does")
    check.add_argument("--cwd", type=Path, default=ROOT / "notebooks", help="the kernel's directory")
    check.add_argument("--commit", help="the commit seminar_utils must be installed from")
    report = sub.add_parser("report", help="per-notebook summary of a pytest --junitxml file")
    report.add_argument("junit_xml", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "check":
        return _check(args.kernel, args.cwd, args.commit)
    return _report(args.junit_xml)


if __name__ == "__main__":
    sys.exit(main())
