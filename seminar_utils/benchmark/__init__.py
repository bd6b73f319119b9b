"""A fair, resumable benchmark of pretrained backbones (notebook 07).

Every model gets the same data, head (the source's GAP + Dense(256) + Dropout(0.5) + Dense),
optimizer, epochs, augmentation and seed, and its own preprocessing and an input size it accepts.
Modules: ``config`` (settings, data), ``measure`` (one model), ``runner`` (many, one child process
each, resumable), ``results`` (the CSV, the tables), ``plots``. Shell: ``python tools/benchmark.py``.

>>> from seminar_utils import benchmark
>>> benchmark.input_size("InceptionV3", 32)
75
"""

from .config import (SOURCE_AUGMENTATION, WEIGHT_POLICIES, BenchmarkConfig, BenchmarkData,
                     check_models, cifar10_splits, input_size)
from .measure import build_model, imagenet_available, memory_mb, run_one, weights_plan
from .plots import pareto_front, plot_tradeoff
from .results import (COLUMNS, REFERENCE_FILE, ResultTable, append_row, load_reference,
                      read_results, run_id)
from .runner import BenchmarkError, cpu_share, run_benchmark, share_gpu_memory

__all__ = ["SOURCE_AUGMENTATION", "WEIGHT_POLICIES", "BenchmarkConfig", "BenchmarkData",
           "check_models", "cifar10_splits", "input_size", "build_model", "imagenet_available",
           "memory_mb", "run_one", "weights_plan", "cpu_share",
           "pareto_front", "plot_tradeoff", "COLUMNS", "REFERENCE_FILE", "ResultTable",
           "append_row", "load_reference", "read_results", "run_id", "BenchmarkError",
           "run_benchmark", "share_gpu_memory"]
