"""Augmented images per second: our tf.data pipeline vs the source's ImageDataGenerator.

    SEMINAR_DATA_MIRROR=../shared/assets/datasets python perf/input_pipeline.py
    python perf/input_pipeline.py --max-images 256 --epochs 2      # a quick smoke run

Both pipelines read the same JPEG files (the cats-vs-dogs TRAINING folder from
``seminar_utils.data.load_cats_vs_dogs("quick")``, or ``--folder``), resize to
``--image-size`` and apply the source's transforms (``seminar_utils.augment.SOURCE_SETTINGS``):

* ours: ``image_folder_dataset`` (decode once, cache in memory, shuffle, batch) then
  ``augment_dataset`` (random Keras layers on whole batches, in parallel, prefetch). Two
  variants: ``layers`` = one Keras layer per transform (``build_augmentation``), ``fused`` =
  rotation/shift/shear/zoom as one resampling (``build_augmentation(fused=True)``).
* legacy: ``tf_keras``'s ``ImageDataGenerator(...).flow_from_directory(...)`` as the source
  used it (it decodes every file again every epoch), iterated directly (``workers=1``, what
  ``fit_generator`` did by default) and through ``OrderedEnqueuer`` threads (``fit(workers=N)``).

Epoch 1 of ours includes decoding and filling the cache; later epochs are steady state. The
legacy pipeline has no cache, so all its epochs cost the same. Needs the ``bench`` extra
(``tf_keras``, ``scipy``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled


def _need_legacy():
    try:
        import scipy  # noqa: F401  (ImageDataGenerator's affine transforms use scipy.ndimage)
        from tf_keras.preprocessing.image import ImageDataGenerator
        from tf_keras.utils import OrderedEnqueuer
    except ImportError as e:
        sys.exit(f"This benchmark compares with the legacy ImageDataGenerator, which needs the "
                 f"`tf_keras` and `scipy` packages ({e}).\nInstall them with:  pip install "
                 f"-e '.[bench]'   (or: pip install 'tf_keras==2.21.*' scipy)")
    return ImageDataGenerator, OrderedEnqueuer


def _files(args) -> tuple[list[str], np.ndarray, list[str], str]:
    from seminar_utils import data
    if args.folder:
        root = Path(args.folder)
        classes = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        if not classes:
            sys.exit(f"--folder {root}: expected class sub-folders (<folder>/<class>/*.jpg).")
        files, labels = [], []
        for k, c in enumerate(classes):
            for p in sorted((root / c).iterdir()):
                if p.is_file() and p.name.lower().endswith(data.IMAGE_SUFFIXES):
                    files.append(str(p))
                    labels.append(k)
        labels_arr = np.array(labels, dtype=np.int32)
        idx = data.stratified_indices(labels_arr, args.max_images, seed=0)
        return [files[i] for i in idx], labels_arr[idx], classes, str(root)
    d = data.load_cats_vs_dogs("quick", train_samples=args.max_images, validation_samples=2)
    if not d.real:
        print("!! cats_and_dogs_filtered is not available: benchmarking the generated STAND-IN "
              "images. Set SEMINAR_DATA_MIRROR or pass --folder for real figures.")
    paths, labels = d["train"]
    return list(paths), np.asarray(labels), d.class_names, str(Path(d.root) / "train")


def _link_farm(paths, labels, classes) -> tempfile.TemporaryDirectory:
    """The same files as <tmp>/<class>/<name> symlinks, for flow_from_directory (nothing copied)."""
    tmp = tempfile.TemporaryDirectory(prefix="bench_flow_")
    for p, k in zip(paths, labels):
        dst = Path(tmp.name) / classes[int(k)] / Path(p).name
        dst.parent.mkdir(exist_ok=True)
        if not dst.exists():
            dst.symlink_to(os.path.abspath(p))
    return tmp


def _timed(run_epoch) -> tuple[int, float, float]:
    """(images, wall seconds, CPU seconds of the whole process, all threads) of one epoch."""
    t, c = time.perf_counter(), time.process_time()
    n = run_epoch()
    return n, time.perf_counter() - t, time.process_time() - c


def ours_epoch(paths, labels, args, fused: bool):
    """One epoch of our pipeline per call (the cache fills during the first)."""
    import tensorflow as tf
    from seminar_utils.augment import SOURCE_SETTINGS, augment_dataset, build_augmentation
    from seminar_utils.data import image_folder_dataset
    size = (args.image_size, args.image_size)
    ds = image_folder_dataset(paths, labels, size, args.batch_size, shuffle=True, seed=0, cache=True)
    ds = augment_dataset(ds, build_augmentation(SOURCE_SETTINGS, seed=0, fused=fused),
                         deterministic=False if args.nondeterministic else None)
    if args.nondeterministic:
        opts = tf.data.Options()
        opts.deterministic = False
        ds = ds.with_options(opts)

    def epoch():
        n = 0
        for x, _ in ds:
            n += int(x.shape[0])
        return n
    return epoch


def legacy_epoch(farm: str, n_images: int, args, workers: int):
    """One epoch of the source's ImageDataGenerator per call, with ``workers`` threads."""
    ImageDataGenerator, OrderedEnqueuer = _need_legacy()
    from seminar_utils.augment import SOURCE_SETTINGS
    # the source: ImageDataGenerator(rescale=1./255, rotation_range=40, ...).flow_from_directory
    gen = ImageDataGenerator(rescale=1.0 / 255, **SOURCE_SETTINGS)
    it = gen.flow_from_directory(farm, target_size=(args.image_size, args.image_size),
                                 batch_size=args.batch_size, class_mode="binary", shuffle=True,
                                 seed=0)
    if it.samples != n_images:
        sys.exit(f"flow_from_directory found {it.samples} images, expected {n_images}.")
    steps = len(it)
    if workers <= 1:
        def epoch():
            return sum(len(next(it)[0]) for _ in range(steps))
        return epoch

    def threaded_epoch():
        # what model.fit(workers=N) did; started and stopped per epoch, so that its threads
        # neither run nor fill their queue while another pipeline is being timed
        enq = OrderedEnqueuer(it, use_multiprocessing=False, shuffle=False)
        enq.start(workers=workers, max_queue_size=10)
        try:
            out = enq.get()
            return sum(len(next(out)[0]) for _ in range(steps))
        finally:
            enq.stop()
    return threaded_epoch


def profile_layers(args) -> None:
    """Milliseconds per batch of each random layer (and the whole pipeline) on one cached batch."""
    import tensorflow as tf
    from seminar_utils.augment import SOURCE_SETTINGS, build_augmentation
    x = tf.random.uniform((args.batch_size, args.image_size, args.image_size, 3), 0, 255)
    print(f"\ncost of each layer on a {args.batch_size}x{args.image_size}x{args.image_size}x3 batch, "
          f"one call at a time (ms per batch: wall clock / CPU time of all threads):")
    for fused in (False, True):
        aug = build_augmentation(SOURCE_SETTINGS, seed=0, fused=fused)
        for layer in list(aug.layers) + [aug]:
            f = tf.function(lambda t, layer=layer: layer(t, training=True))
            f(x)
            t, c = time.perf_counter(), time.process_time()
            for _ in range(10):
                f(x)
            ms, cpu = (time.perf_counter() - t) * 100, (time.process_time() - c) * 100
            name = ("whole pipeline" + (" (fused)" if fused else " (layers)")) if layer is aug \
                else f"{layer.name} ({type(layer).__name__})"
            print(f"  {name:44s} {ms:7.1f} / {cpu:6.1f} ms")


def _summary(label: str, runs: list[tuple[int, float, float]]) -> dict[str, float]:
    rates = [n / t for n, t, _ in runs]
    total_n = sum(r[0] for r in runs)
    later = runs[1:] or runs
    r = {"epoch1": rates[0], "steady": sum(x[0] for x in later) / sum(x[1] for x in later),
         "overall": total_n / sum(x[1] for x in runs), "cpu": total_n / sum(x[2] for x in runs)}
    print(f"  {label:34s} {r['epoch1']:8.0f} {r['steady']:8.0f} {r['overall']:8.0f}   {r['cpu']:8.0f}"
          f"   ({', '.join(f'{x:.0f}' for x in rates)})")
    return r


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=3, help="epochs per pipeline (default 3)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--image-size", type=int, default=150, help="square side in pixels (default 150)")
    p.add_argument("--max-images", type=int, default=None,
                   help="use a stratified subset of this many training images (smoke runs)")
    p.add_argument("--folder", default=None,
                   help="a training folder <folder>/<class>/*.jpg instead of cats_and_dogs_filtered/train")
    p.add_argument("--variants", default="layers,fused",
                   help="our pipelines to time: layers, fused (comma separated)")
    p.add_argument("--baseline-workers", default="1,2",
                   help="ImageDataGenerator worker threads to time, comma separated (default 1,2)")
    p.add_argument("--nondeterministic", action="store_true",
                   help="let tf.data return batches out of order (deterministic=False)")
    p.add_argument("--profile-layers", action="store_true", help="also time each random layer")
    args = p.parse_args(argv)
    if args.epochs < 1:
        p.error("--epochs must be >= 1")
    _need_legacy()  # fail early, before any work, when the bench extra is missing

    import tensorflow as tf
    paths, labels, classes, where = _files(args)
    print(f"{len(paths)} images of {classes} from {where}; {args.image_size}x{args.image_size}, "
          f"batch {args.batch_size}, {args.epochs} epochs; {os.cpu_count()} CPU cores; "
          f"TensorFlow {tf.__version__}")
    try:
        print(f"load average at start: {os.getloadavg()[0]:.2f}")
    except OSError:
        pass
    farm = _link_farm(paths, labels, classes)
    pipelines = {}
    for w in [int(v) for v in args.baseline_workers.split(",") if v.strip()]:
        pipelines[f"ImageDataGenerator (workers={w})"] = legacy_epoch(farm.name, len(paths), args, w)
    for v in [v.strip() for v in args.variants.split(",") if v.strip()]:
        if v not in ("layers", "fused"):
            p.error(f"unknown variant {v!r}; use layers and/or fused")
        label = f"ours: tf.data + {'fused affine' if v == 'fused' else 'Keras layers'}"
        pipelines[label] = ours_epoch(paths, labels, args, fused=v == "fused")
    # round robin, one epoch of each pipeline in turn: a change of machine load between the
    # start and the end of the run then hits every pipeline alike
    runs: dict[str, list] = {k: [] for k in pipelines}
    for e in range(args.epochs):
        for label, epoch in pipelines.items():
            runs[label].append(_timed(epoch))
    print("\naugmented images per second (wall clock), and per CPU-second (all threads):")
    print(f"  {'pipeline':34s} {'epoch 1':>8s} {'steady':>8s} {'overall':>8s}   {'per CPU-s':>8s}"
          f"   (each epoch)")
    results = {label: _summary(label, r) for label, r in runs.items()}
    farm.cleanup()

    legacy = {k: r for k, r in results.items() if k.startswith("ImageDataGenerator")}
    ours = {k: r for k, r in results.items() if k.startswith("ours")}
    if legacy and ours:
        print("\nspeed-up, ours / ImageDataGenerator: overall wall-clock img/s (epoch 1 included), "
              "[steady state], {per CPU-second}:")
        for k, r in ours.items():
            for b in legacy:
                print(f"  {k:34s} vs {b:32s} {r['overall'] / legacy[b]['overall']:5.1f}x  "
                      f"[{r['steady'] / legacy[b]['steady']:5.1f}x]  {{{r['cpu'] / legacy[b]['cpu']:4.1f}x}}")
    if args.profile_layers:
        profile_layers(args)
    try:
        print(f"\nload average at the end: {os.getloadavg()[0]:.2f} (1 min); figures from a busy "
              f"machine are low and noisy")
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
