"""Run many backbones: one child process per model, a CSV row after each, a progress line.

One process per model keeps the kernel's memory flat and makes each peak that model's own; a
row written after each model lets a rerun skip what is done, so an interrupted run (Ctrl-C, a
killed kernel, a Colab disconnect) loses at most the model in progress. A child is
``python .../seminar_utils/benchmark/__main__.py --one NAME --job FILE --result FILE --parent PID``.

>>> run_benchmark(["MobileNetV2", "VGG16"], data, BenchmarkConfig(), "r.csv")  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..results import ENV_RESULTS
from .config import BenchmarkConfig, BenchmarkData, check_models
from .measure import _reset_peak_memory, run_one
from .results import ResultTable, append_row, read_results, run_id

__all__ = ["BenchmarkError", "run_benchmark", "cpu_share", "share_gpu_memory"]


_Record = Callable[[dict, int], None]   # writes a finished model's row (row, workers)


class BenchmarkError(RuntimeError):
    """A model failed during the benchmark (the rows finished before it are kept)."""


def run_benchmark(models: Sequence[str] | str, data: BenchmarkData, config: BenchmarkConfig,
                  results_csv: str | os.PathLike, redo: bool = False, isolate: bool = True,
                  workers: int = 1, verbose: int = 2) -> ResultTable:
    """Run ``models``; append a row to ``results_csv`` as soon as each one is finished.

    Models with a row of the same :func:`run_id` are skipped unless ``redo=True``.
    ``isolate=True`` trains each model in its own process (flat memory, a true per-model peak,
    and a killed kernel takes its child with it); ``workers`` children run at once, each on an
    equal share of the CPU cores (its TensorFlow thread pools sized to it), so their timings
    stay comparable with each other. ``isolate=False`` trains here and clears the Keras session
    between models. Each model's weights (ImageNet, or random and why) go to this process's
    asset report. Returns this run's rows in the order of ``models``.

    >>> run_benchmark(["MobileNetV2"], data, BenchmarkConfig(), "r.csv")  # doctest: +SKIP
    """
    models = check_models(models)                 # fails before anything runs
    if int(workers) < 1:
        raise ValueError(f"workers must be >= 1; got {workers}.")
    results_csv = Path(results_csv)
    rid = run_id(config, data)
    done = {} if redo else read_results(results_csv, rid).by_model()
    todo = [m for m in models if m not in done]
    skipped = [m for m in models if m in done]
    if skipped:
        print(f"Already in {results_csv.name} with these settings (run {rid}), skipped: "
              f"{', '.join(skipped)}. Pass redo=True to run them again.", flush=True)
        for m in skipped:
            _record_weights(done[m])
    if todo:
        progress = _Progress(len(models), len(skipped))

        def record(row: dict, n_workers: int) -> None:
            row.update(run_id=rid, workers=n_workers)
            append_row(results_csv, row)
            _record_weights(row)
            progress.step(f"<- {row['model']} done: test accuracy {row['test_accuracy']:.3f}, "
                          f"{row['train_seconds']:.0f} s training, peak {row['peak_rss_mb']:.0f} "
                          f"MB; row written to {results_csv.name}")
        try:
            if isolate:
                _run_children(todo, data, config, int(workers), verbose, progress, record)
            else:
                _run_here(todo, data, config, verbose, progress, record)
        finally:
            progress.close()
    rows = read_results(results_csv, rid).by_model()
    return ResultTable(rows[m] for m in models if m in rows)


def _record_weights(row: Mapping[str, Any]) -> None:
    """Put a finished model's weights in this process's asset report (the child's is lost)."""
    from ..data import record_asset
    from ..data.report import SOURCES
    label = str(row.get("weights", ""))
    name = f"{row['model']} ImageNet weights"
    if label.startswith("imagenet"):
        source = label.partition("(")[2].rstrip(")")
        record_asset(name, source if source in SOURCES else "download", "benchmark run")
    else:
        record_asset(name, "stand-in", "random initialisation", note=label)


def cpu_share(workers: int) -> int:
    """The CPU threads each of ``workers`` child processes gets: an equal share, at least 1.

    0 for a single worker (TensorFlow's default pools, all cores). Counts the cores this
    process may run on (a container's limit), not the machine's.

    >>> cpu_share(1), cpu_share(10_000)
    (0, 1)
    """
    if workers <= 1:
        return 0
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS / Windows
        cores = os.cpu_count() or 1
    return max(1, cores // workers)


def _run_here(todo: list[str], data: BenchmarkData, config: BenchmarkConfig, verbose: int,
              progress: "_Progress", record: _Record) -> None:
    """Train the models one after the other in this process."""
    import keras
    for name in todo:
        progress.start(name)
        reset = _reset_peak_memory()
        row = run_one(name, data, config, verbose=verbose)
        row["isolation"] = "in-process" + ("" if reset else " (peak since start)")
        keras.backend.clear_session()
        gc.collect()
        record(row, 1)


def _run_children(todo: list[str], data: BenchmarkData, config: BenchmarkConfig, workers: int,
                  verbose: int, progress: "_Progress", record: _Record) -> None:
    """Train each model in a child process, ``workers`` at a time, forwarding their output."""
    work = Path(tempfile.mkdtemp(prefix="seminar_benchmark_"))
    job = work / "job.json"
    job.write_text(json.dumps({"config": config.to_dict(), "threads": cpu_share(workers),
                               "data": str(data.save(work / "data.npz")), "verbose": verbose}))
    events: queue.Queue = queue.Queue()
    waiting, running = list(todo), []
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                name = waiting.pop(0)
                progress.start(name)
                running.append(_Child(name, work, job, events))
            child, kind, payload = events.get()
            if kind == "line":
                progress.write(f"  {child.name}: {payload}")
                continue
            running.remove(child)
            record(child.finish(payload), workers)
    except BaseException:          # Ctrl-C, a kernel interrupt, a failed model
        for child in running:
            child.stop()
        raise
    finally:
        for p in work.glob("*"):
            if p.suffix in {".npz", ".json", ".tmp"}:
                p.unlink(missing_ok=True)


# ----------------------------------------------------------------------------- progress

class _Progress:
    """The progress over models, with an estimated time left.

    In a terminal: a live tqdm bar (tqdm comes with papermill). In a notebook: the same bar
    printed as one line after each model (a bar redrawn with carriage returns turns into dozens
    of fragments in a saved notebook and its HTML). Without tqdm: a plain line per model.
    """

    _FORMAT = "{desc}: {n}/{total} models |{bar}| [{elapsed} elapsed, ETA {remaining}]"

    def __init__(self, total: int, done: int, live: bool | None = None):
        self.total, self.done, self.initial = total, done, done
        self.t0 = time.perf_counter()
        try:
            from tqdm.std import tqdm
        except ImportError:  # pragma: no cover - tqdm comes with papermill
            tqdm = None
        self._tqdm = tqdm
        self.bar = None
        in_notebook = "ipykernel" in sys.modules
        if tqdm is not None and (not in_notebook if live is None else live):
            self.bar = tqdm(total=total, initial=done, unit="model", file=sys.stdout, ncols=100,
                            desc="benchmark", bar_format=self._FORMAT)

    def start(self, name: str) -> None:
        if self.bar is not None:
            self.bar.set_description_str(f"benchmark ({name})")
        else:
            print(f"-> {name} started", flush=True)

    def write(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=sys.stdout)
        else:
            print(line, flush=True)

    def meter(self) -> str:
        """The bar as one line: done/total, elapsed time and the time left."""
        elapsed = time.perf_counter() - self.t0
        if self._tqdm is not None:
            return self._tqdm.format_meter(self.done, self.total, elapsed, ncols=100,
                                           initial=self.initial, prefix="benchmark",
                                           bar_format=self._FORMAT)
        left = (self.total - self.done) * elapsed / max(self.done - self.initial, 1)
        return (f"benchmark: {self.done}/{self.total} models [{elapsed:.0f} s elapsed, "
                f"ETA ~{left / 60:.1f} min]")

    def step(self, message: str) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.write(message, file=sys.stdout)
            self.bar.update(1)
        else:
            print(message, flush=True)
            print(self.meter(), flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.set_description_str("benchmark")
            self.bar.close()


# ----------------------------------------------------------------------------- child processes

def share_gpu_memory() -> list[str]:
    """Let TensorFlow take GPU memory as it needs it instead of (nearly) all of it at start.

    The notebook's kernel and the benchmark's child processes share one GPU: call this before
    the kernel runs anything on it, or the first child finds no memory left. A no-op without a
    GPU or without TensorFlow; returns the GPUs it could set (none once TF has started on them).

    >>> share_gpu_memory()      # on a CPU-only machine
    []
    """
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover - another Keras backend
        return []
    done = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
            done.append(gpu.name)
        except RuntimeError:  # pragma: no cover - TF already initialised the device
            pass
    return done


def _child_env() -> dict[str, str]:
    """The child's environment: unbuffered, GPU memory on demand, this package importable."""
    import seminar_utils
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env.pop(ENV_RESULTS, None)     # the parent records the child's results and assets
    env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")   # one GPU shared with the kernel
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    root = str(Path(seminar_utils.__file__).resolve().parent.parent)  # the package's parent
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


class _Child:
    """One model's child process; a thread forwards its stdout lines to a queue."""

    def __init__(self, name: str, work: Path, job: Path, events: queue.Queue):
        self.name, self.result, self.log_path = name, work / f"{name}.json", work / f"{name}.log"
        self.t0 = time.perf_counter()
        # Run by path, not with -m: the child watches its parent before the package (and
        # TensorFlow) is imported, so a kernel killed during that start-up leaves no orphan.
        cmd = [sys.executable, str(Path(__file__).with_name("__main__.py")), "--one", name,
               "--job", str(job), "--result", str(self.result), "--parent", str(os.getpid())]
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log, text=True,
                                     bufsize=1, env=_child_env())
        self._thread = threading.Thread(target=self._pump, args=(events,), daemon=True)
        self._thread.start()

    def _pump(self, events: queue.Queue) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip():
                events.put((self, "line", line.rstrip()))
        events.put((self, "exit", self.proc.wait()))

    def finish(self, rc: int) -> dict:
        self._thread.join(timeout=5)
        self._log.close()
        if rc != 0 or not self.result.exists():
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-25:]
            raise BenchmarkError(f"{self.name} failed (exit status {rc}); the last lines of its "
                                 f"log ({self.log_path}):\n" + "\n".join(tail))
        row = json.loads(self.result.read_text())
        row["wall_seconds"] = time.perf_counter() - self.t0    # with the child's start-up
        if not str(row.get("isolation", "")).startswith("child process"):
            row["isolation"] = "child process"
        return row

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                self.proc.kill()
        self._log.close()


def _limit_threads(threads: int) -> None:
    """Size TensorFlow's thread pools (before it starts) so children share the cores evenly."""
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover - another Keras backend
        return
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def _child_main(argv: Sequence[str] | None = None) -> int:
    """The child's entry point: train ``--one`` model of ``--job``, write its row to ``--result``."""
    ap = argparse.ArgumentParser(
        prog="python -m seminar_utils.benchmark",
        description="One model's child process of run_benchmark. To run a benchmark from a "
                    "shell: python tools/benchmark.py --help (in the course repository).")
    ap.add_argument("--one", required=True, help="the backbone to train")
    ap.add_argument("--job", required=True, help="the job file (settings, data) of the run")
    ap.add_argument("--result", required=True, help="where to write the result row (JSON)")
    ap.add_argument("--parent", type=int, default=None,
                    help="exit when this process is no longer the parent (see __main__.py)")
    args = ap.parse_args(argv)
    job = json.loads(Path(args.job).read_text())
    threads = int(job.get("threads", 0))
    if threads:
        _limit_threads(threads)
    config = BenchmarkConfig(**job["config"])
    data = BenchmarkData.load(job["data"])
    row = run_one(args.one, data, config, verbose=int(job.get("verbose", 2)))
    if threads:
        row["isolation"] = f"child process, {threads} thread{'s' if threads > 1 else ''}"
    tmp = Path(args.result).with_suffix(".tmp")
    tmp.write_text(json.dumps(row))
    tmp.replace(args.result)
    return 0
