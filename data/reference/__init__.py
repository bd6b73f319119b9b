"""Reference results, shipped with the package as ``seminar_utils.reference``.

The files live in the repository's ``data/reference/`` (pyproject maps the folder into the
package), so notebooks read them with ``importlib.resources`` from a checkout, a wheel or Colab:
``source_benchmark_14.csv`` (the source project's 14-model table), ``seed_spread_<profile>.json``
(perf/seed_spread.py) and ``baseline_<profile>.json`` (tools/compare_runs.py).
"""
