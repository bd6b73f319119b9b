"""Re-execute notebooks in the smoke profile and store ONLY the outputs of checked cells.

    python tools/refresh_outputs.py notebooks/01_cnn_basics.ipynb     # after editing a notebook
    python tools/refresh_outputs.py --strip-only notebooks/*.ipynb     # just strip outputs

Checked cells are those whose source contains ``# NBVAL_CHECK_OUTPUT``: their outputs are the
regression references that nbval compares in CI, so they must be stored. Every other output,
every other execution count and transient metadata are removed (the same rule as nbstripout with
``keep_output`` metadata, which tests/test_notebook_hygiene.py enforces).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat

CHECK_MARK = "NBVAL_CHECK_OUTPUT"


def is_checked(cell) -> bool:
    return cell.cell_type == "code" and CHECK_MARK in cell.source


def strip(nb) -> None:
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    n_checked = 0
    for cell in nb.cells:
        for key in ("execution", "papermill", "collapsed", "scrolled", "ExecuteTime"):
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        cell.execution_count = None
        if is_checked(cell):
            # nbval only compares cells that look executed: give them a count.
            n_checked += 1
            cell.execution_count = n_checked
            cell.metadata["keep_output"] = True
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
            for o in cell.outputs:
                if "execution_count" in o:
                    o.execution_count = n_checked
                o.pop("metadata", None) if o.output_type == "stream" else None
        else:
            cell.metadata.pop("keep_output", None)
            cell.outputs = []


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--strip-only", action="store_true")
    args = ap.parse_args(argv)
    os.environ["SEMINAR_PROFILE"] = "smoke"
    for path in map(Path, args.notebooks):
        nb = nbformat.read(path, as_version=4)
        if not args.strip_only:
            from nbclient import NotebookClient
            NotebookClient(nb, timeout=1200, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        strip(nb)
        nbformat.write(nb, path)
        kept = sum(1 for c in nb.cells if is_checked(c))
        print(f"{path}: kept the outputs of {kept} checked cells")
    return 0


if __name__ == "__main__":
    sys.exit(main())
