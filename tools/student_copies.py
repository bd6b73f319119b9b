"""Make student copies of the notebooks: every reference solution becomes a short TODO stub.

    python tools/student_copies.py                 # -> build/student/NN_name.ipynb
    python tools/student_copies.py --out DIR 01    # only notebooks whose name contains 01

A reference solution is a code cell whose first line starts with ``# Reference solution``.
Its stub keeps the cell's hint lines (comment lines starting with ``# Hint``) and nothing else;
all outputs are removed. Markdown (the exercise text) is kept as it is.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
MARK = "# Reference solution"


def is_solution(cell) -> bool:
    return cell.cell_type == "code" and cell.source.lstrip().startswith(MARK)


def stub(cell, number: int) -> str:
    hints = [line.strip() for line in cell.source.splitlines() if line.strip().startswith("# Hint")]
    lines = [f"# TODO (exercise {number}): write your solution here. / 여기에 답을 작성하세요."]
    lines += hints
    lines.append("...")
    return "\n".join(lines)


def student_copy(nb):
    """Return a copy of ``nb`` with solutions stubbed and outputs removed."""
    nb = nbformat.from_dict(nb)
    n = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("keep_output", None)
        if is_solution(cell):
            n += 1
            cell.source = stub(cell, n)
            cell.metadata.setdefault("tags", []).append("exercise-stub")
    return nb


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "build" / "student"))
    ap.add_argument("select", nargs="*")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        if args.select and not any(s in path.name for s in args.select):
            continue
        nb = student_copy(nbformat.read(path, as_version=4))
        stubs = sum("exercise-stub" in c.metadata.get("tags", []) for c in nb.cells)
        nbformat.write(nb, out / path.name)
        print(f"{out / path.name}: {stubs} solutions replaced by stubs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
