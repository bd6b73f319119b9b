"""Run notebook 07's backbone benchmark from a shell, with a profile's settings.

    python tools/benchmark.py --profile smoke --models MobileNetV2,VGG16 --csv out.csv
    python tools/benchmark.py --profile quick            # the source's 14 models, resumable

The same code the notebook runs (``seminar_utils.benchmark``): one process per model and a CSV
row after each, so an interrupted run resumes where it stopped. Options override the profile's
settings of ``07_pretrained_benchmark``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

NOTEBOOK = "07_pretrained_benchmark"
_OVERRIDES = (("--train-samples", int), ("--val-samples", int), ("--test-samples", int),
              ("--epochs", int), ("--batch-size", int), ("--image-size", str), ("--weights", str),
              ("--seed", int))


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python tools/benchmark.py", description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="source",
                    help="comma-separated registry names, or 'source' (the 14 of the source "
                         "project, default) or 'all'")
    ap.add_argument("--profile", default=None, help="smoke | quick | gpu | full | auto "
                    "(default: $SEMINAR_PROFILE, else auto)")
    ap.add_argument("--csv", default=None, help="results CSV (default: the profile's artifact)")
    ap.add_argument("--redo", action="store_true", help="rerun models already in the CSV")
    ap.add_argument("--data", default=None, help="an .npz of x/y_train, x/y_val, x/y_test "
                    "instead of CIFAR-10")
    for opt, typ in _OVERRIDES:
        ap.add_argument(opt, type=typ, default=None, help="override the profile's setting")
    ap.add_argument("--workers", type=int, default=None,
                    help="models trained at the same time (default: the profile's, else 1)")
    ap.add_argument("--in-process", action="store_true", help="no child processes")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from seminar_utils import backbones, benchmark
    from seminar_utils.data import artifact_path
    from seminar_utils.profiles import get_settings

    models = {"source": backbones.names(source_only=True), "all": backbones.names()}.get(
        args.models, args.models)
    models = benchmark.check_models(models)
    profile_settings = get_settings(NOTEBOOK, args.profile)
    profile, settings = profile_settings.profile, dict(profile_settings)
    for opt, _ in _OVERRIDES:
        key = opt[2:].replace("-", "_")
        v = getattr(args, key)
        if v is not None:
            settings[key] = (int(v) if key == "image_size" and str(v).isdigit() else
                             None if key == "weights" and v.lower() == "none" else v)
    config = benchmark.BenchmarkConfig.from_settings(settings, profile)
    if args.data:
        data = benchmark.BenchmarkData.load(args.data)
    else:
        data = benchmark.cifar10_splits(profile, settings["train_samples"],
                                        settings["val_samples"], settings["test_samples"],
                                        seed=int(settings.get("data_seed", 42)))
    csv_path = Path(args.csv) if args.csv else artifact_path("07_benchmark.csv", profile)
    workers = args.workers or int(settings.get("workers", 1))
    table = benchmark.run_benchmark(models, data, config, csv_path, redo=args.redo,
                                    isolate=not args.in_process, workers=workers)
    print(table.sorted_by("test_accuracy").to_text())
    print(f"results: {csv_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
