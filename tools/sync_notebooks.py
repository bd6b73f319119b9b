"""Rewrite every notebook's Colab badge and setup-cell preamble from seminar_utils (REPO_URL).

    python tools/sync_notebooks.py          # fix in place
    python tools/sync_notebooks.py --check  # exit 1 if a notebook is out of date

The repository address lives in one place, ``seminar_utils.REPO_URL``; badges and the Colab
install line are generated from it (tests/test_colab_setup.py checks they agree).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seminar_utils.env import colab_badge, setup_cell_source  # noqa: E402

BADGE_RE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")


def sync(path: Path, check: bool) -> bool:
    nb = nbformat.read(path, as_version=4)
    changed = False
    title = nb.cells[0]
    badge = colab_badge(path.name)
    new_title = BADGE_RE.sub(badge, title.source) if BADGE_RE.search(title.source) else title.source + "\n\n" + badge
    if new_title != title.source:
        title.source, changed = new_title, True
    setup = next(c for c in nb.cells if c.cell_type == "code")
    preamble = setup_cell_source()
    if not setup.source.startswith(preamble):
        lines = setup.source.splitlines(keepends=True)
        # drop an old preamble: everything up to and including the TF_CPP_MIN_LOG_LEVEL line
        idx = next((i for i, l in enumerate(lines) if "TF_CPP_MIN_LOG_LEVEL" in l), -1)
        setup.source, changed = preamble + "".join(lines[idx + 1:]), True
    if changed and not check:
        nbformat.write(nb, path)
    return changed


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = [p.name for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) if sync(p, check)]
    if stale:
        print(("Out of date: " if check else "Updated: ") + ", ".join(stale))
    return 1 if (check and stale) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
