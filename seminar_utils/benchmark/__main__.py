"""``python -m seminar_utils.benchmark --one NAME --job FILE --result FILE``: one model's process.

:func:`~seminar_utils.benchmark.run_benchmark` starts one per model. To run a benchmark from a
shell, use ``python tools/benchmark.py`` in the course repository.
"""

import sys

from .runner import _child_main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(_child_main())
