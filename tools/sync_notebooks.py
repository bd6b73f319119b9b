"""Write every notebook's Colab badge and setup-cell preamble from one template (and REPO_URL).

    python tools/sync_notebooks.py          # fix in place
    python tools/sync_notebooks.py --check  # exit 1 if a notebook is out of date

The repository address lives in one place, ``seminar_utils.REPO_URL``; the badges and the Colab
install lines are generated here from it (tests/test_colab_setup.py checks they agree).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seminar_utils import REPO_URL  # noqa: E402

BADGE_RE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")
#: The last line of the preamble (and of the template before it, to replace old notebooks).
END_MARKERS = ("start_quietly()", "TF_CPP_MIN_LOG_LEVEL")


def colab_url(notebook: str) -> str:
    """The Colab address that opens ``notebooks/<notebook>`` from the course repository."""
    path = REPO_URL.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{path}/blob/main/notebooks/{notebook}"


def colab_badge(notebook: str) -> str:
    """The markdown "Open in Colab" badge of a notebook's title cell."""
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url(notebook)})")


def setup_cell_source() -> str:
    """The first lines of every notebook's setup cell.

    In Colab it pip-installs ``seminar_utils`` from the repository: TensorFlow is not a dependency
    of the package, so Colab's own is kept; Keras is (>= 3.10), so an older Colab Keras is upgraded
    before anything imports it. A failed install says why in one message and what to do (or goes
    on with an already installed package) instead of a pip traceback. Then TensorFlow starts with
    its C++ start-up log kept out of the notebook (``seminar_utils.env.start_quietly``).
    """
    return (
        "# Setup. In Colab, install the course package (Colab's TensorFlow is kept as it is).\n"
        "import os, sys, subprocess\n"
        'if "google.colab" in sys.modules:\n'
        '    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q",\n'
        f'                          "seminar_utils @ git+{REPO_URL}"], capture_output=True, text=True)\n'
        "    if pip.returncode:\n"
        '        why = (pip.stderr.strip().splitlines() or ["pip failed"])[-1]\n'
        "        try:\n"
        "            import seminar_utils\n"
        '            print(f"Could not update the course package ({why}); using the installed one.")\n'
        "        except ImportError:\n"
        '            raise SystemExit(f"Could not install the course package seminar_utils: {why}\\n"\n'
        '                             "Is this runtime online? Runtime > Disconnect and delete runtime, then "\n'
        '                             "run again. Or upload a copy of the course repository and run "\n'
        '                             "!pip install ./cnn-seminar, then this cell again.") from None\n'
        "from seminar_utils.env import start_quietly\n"
        "start_quietly()   # TensorFlow's start-up log (CUDA probing, CPU notes) stays out of sight\n"
    )


def sync(path: Path, check: bool) -> bool:
    """Bring one notebook's badge and setup preamble up to date; True if it changed."""
    nb = nbformat.read(path, as_version=4)
    changed = False
    title = nb.cells[0]
    badge = colab_badge(path.name)
    new_title = (BADGE_RE.sub(badge, title.source) if BADGE_RE.search(title.source)
                 else title.source + "\n\n" + badge)
    if new_title != title.source:
        title.source, changed = new_title, True
    setup = next(c for c in nb.cells if c.cell_type == "code")
    preamble = setup_cell_source()
    if not setup.source.startswith(preamble):
        lines = setup.source.splitlines(keepends=True)
        ends = [i for i, line in enumerate(lines) if any(m in line for m in END_MARKERS)]
        rest = "".join(lines[ends[-1] + 1:]) if ends else setup.source
        setup.source, changed = preamble + rest, True
    if changed and not check:
        nbformat.write(nb, path)
    return changed


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = [p.name for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
             if sync(p, check)]
    if stale:
        print(("Out of date: " if check else "Updated: ") + ", ".join(stale))
    return 1 if (check and stale) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
