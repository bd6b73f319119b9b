"""``python -m seminar_utils.benchmark --one NAME --job FILE --result FILE``: one model's process.

:func:`~seminar_utils.benchmark.run_benchmark` starts one per model, by this file's path and
with ``--parent PID``: the watch on the parent starts here, before the package and TensorFlow
are imported (seconds, more on a busy machine), so a kernel killed at any moment leaves no
orphan training. To run a benchmark from a shell, use ``python tools/benchmark.py`` in the
course repository.
"""

import os
import sys
import threading
import time
from pathlib import Path

__all__: list[str] = []


def _watch_parent(parent: int) -> None:
    """Exit as soon as process ``parent`` is no longer this process's parent (it died)."""
    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(3)
            time.sleep(0.5)
    threading.Thread(target=watch, daemon=True).start()


if __name__ == "__main__":
    if "--parent" in sys.argv[:-1]:
        _watch_parent(int(sys.argv[sys.argv.index("--parent") + 1]))
    here = Path(__file__).resolve().parent
    if sys.path and Path(sys.path[0] or ".").resolve() == here:
        sys.path.pop(0)        # run by path: config.py, plots.py ... must not shadow other modules
    from seminar_utils.benchmark.runner import _child_main
    sys.exit(_child_main())
