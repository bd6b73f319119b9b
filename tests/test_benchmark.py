"""Tests of seminar_utils.benchmark: names, sizes, the CSV and its resume, one model, the CLI.

Models run with ``weights=None`` on tiny random data at 32 px. The resume test really
interrupts a run: it starts the command line (tools/benchmark.py) over three small models in a
subprocess, kills it (SIGKILL, like a dead kernel) once the first row is in the CSV, checks that
the orphaned child stops too, reruns, and checks that the first model is skipped and the other
two complete.
"""

from __future__ import annotations

import csv
import math
import os
import signal
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from seminar_utils import backbones as bb  # noqa: E402
from seminar_utils import augment  # noqa: E402
from seminar_utils import benchmark as B  # noqa: E402
from seminar_utils.benchmark import measure, runner  # noqa: E402
from seminar_utils.env import device_label  # noqa: E402
from seminar_utils.data import AssetUnavailable, asset_report  # noqa: E402
from seminar_utils.table import Table  # noqa: E402
from weights_files import assert_same_weights, write_published_file  # noqa: E402
from seminar_utils.profiles import PROFILES, SETTINGS, get_settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "07_pretrained_benchmark"


def tiny_data(n_train=32, n_val=16, n_test=16, size=32, classes=4, seed=0) -> B.BenchmarkData:
    rng = np.random.default_rng(seed)

    def split(n):
        y = np.arange(n) % classes
        x = rng.integers(0, 256, (n, size, size, 3)).astype("uint8")
        x[..., 0] = (y[:, None, None] * 60).astype("uint8")       # a learnable colour cue
        return x, y

    return B.BenchmarkData(*split(n_train), *split(n_val), *split(n_test),
                           [f"c{i}" for i in range(classes)], "test arrays")


def row(model="VGG16", acc=0.5, run="r1", when="2025-01-01T00:00:00", **kw):
    base = {k: "" for k in B.COLUMNS}
    base.update(model=model, test_accuracy=acc, run_id=run, finished_at=when, train_seconds=1.0)
    base.update(kw)
    return base


# ----------------------------------------------------------------------------- names and sizes

def test_unknown_model_fails_with_the_valid_names(tmp_path):
    with pytest.raises(bb.UnknownBackboneError, match=r"Unknown backbone 'ResNet51'.*Did you mean: "
                                                      r"ResNet50.*Valid names: DenseNet121, "):
        B.check_models(["MobileNetV2", "ResNet51"])
    csv_path = tmp_path / "r.csv"
    with pytest.raises(bb.UnknownBackboneError, match="Valid names"):
        B.run_benchmark(["MobileNetV2", "ResNet51"], tiny_data(), B.BenchmarkConfig(), csv_path)
    assert not csv_path.exists()                       # nothing ran, nothing was written
    with pytest.raises(ValueError, match="listed twice: VGG16"):
        B.check_models("VGG16,vgg16")
    assert B.check_models("resnet50v2, mobilenetv3large") == ["ResNet50V2", "MobileNetV3Large"]


def test_input_size_is_the_request_raised_to_each_minimum():
    assert [B.input_size(n, 32) for n in bb.names(source_only=True)] == [
        75 if n == "InceptionV3" else 71 if n == "Xception" else 32
        for n in bb.names(source_only=True)]
    assert B.input_size("Xception", 128) == 128
    assert B.input_size("EfficientNetB1", "native") == 240
    assert B.input_size("InceptionV3", "native") == 299
    with pytest.raises(ValueError, match="'native'"):
        B.input_size("VGG16", "big")


def test_profile_settings_build_a_config_in_every_profile():
    block = SETTINGS[NOTEBOOK]
    assert all(set(block[p]) <= set(block["shared"]) for p in PROFILES)   # overrides only
    configs = {p: B.BenchmarkConfig.from_settings(get_settings(NOTEBOOK, p), p) for p in PROFILES}
    assert configs["smoke"].weights == "local-or-random"        # never a download in CI
    assert configs["quick"].weights == "imagenet-or-random"
    assert configs["gpu"].weights == configs["full"].weights == "imagenet"
    assert configs["full"].epochs == 20 and configs["full"].batch_size == 128   # the source's
    assert get_settings(NOTEBOOK, "quick").models == "source"     # a class sees all 14
    smoke = get_settings(NOTEBOOK, "smoke").models                # CI: a few, each a real backbone
    assert 0 < len(smoke) < 14 and B.check_models(smoke) == smoke
    assert configs["smoke"].epochs <= configs["quick"].epochs <= configs["full"].epochs
    assert configs["gpu"].epochs <= configs["full"].epochs
    assert all(c.augment and c.augmentation == B.SOURCE_AUGMENTATION for c in configs.values())
    with pytest.raises(ValueError, match="weights must be one of 'imagenet', 'imagenet-or-random', "
                                         "'local-or-random', None"):
        B.BenchmarkConfig(weights="imagenet21k")
    assert set(B.WEIGHT_POLICIES) == {"imagenet", "imagenet-or-random", "local-or-random", None}


# ----------------------------------------------------------------------------- CSV and table

def test_csv_rows_are_appended_read_back_and_survive_a_torn_last_line(tmp_path):
    path = tmp_path / "results.csv"
    B.append_row(path, row("VGG16", 0.5))
    B.append_row(path, row("MobileNetV2", 0.6))
    with open(path, "a") as f:                 # a run killed in the middle of writing a row
        f.write("ResNet50,0.7,1.2")
    assert [r["model"] for r in B.read_results(path)] == ["VGG16", "MobileNetV2"]
    B.append_row(path, row("VGG16", 0.55, when="2025-01-02T00:00:00"))   # a redo: latest wins
    B.append_row(path, row("Xception", 0.9, run="other"))
    table = B.read_results(path, "r1")
    assert table.by_model()["VGG16"]["test_accuracy"] == pytest.approx(0.55)
    assert sorted(table.by_model()) == ["MobileNetV2", "VGG16"]
    assert sorted(B.read_results(path).by_model()) == ["MobileNetV2", "VGG16", "Xception"]
    with open(path, newline="") as f:
        lines = list(csv.reader(f))
    assert lines[0] == list(B.COLUMNS)
    assert all(len(x) == len(B.COLUMNS) for x in lines if x and x[0] != "ResNet50")


def test_result_table_sorts_and_prints():
    t = B.ResultTable([{"model": "A", "test_accuracy": 0.5, "total_params": 1000},
                       {"model": "B", "test_accuracy": float("nan"), "total_params": 10},
                       {"model": "C", "test_accuracy": 0.7, "total_params": 2_000_000}])
    assert isinstance(t, Table)
    assert [r["model"] for r in t.sorted_by("test_accuracy")] == ["C", "A", "B"]
    assert [r["model"] for r in t.sorted_by("total_params", descending=False)] == ["B", "A", "C"]
    assert t.column("total_params") == [1000, 10, 2_000_000]
    assert t.by_model()["C"]["test_accuracy"] == 0.7
    text = t.sorted_by().to_text().splitlines()
    assert text[0] == "model  test acc     params"      # the model left, the rest right
    assert text[2] == "C         0.700  2,000,000"
    assert text[4] == "B                       10"
    html = t._repr_html_()
    assert "<th>test acc</th>" in html and '<td style="text-align:right">0.500</td>' in html
    # the columns asked for, in that order (the notebook's view of the source's table)
    narrow = B.ResultTable(t, [("total_params", "params", "{:,}"), ("model", "name", "{}")])
    assert narrow.to_text().splitlines()[2].split() == ["1,000", "A"]


def test_pareto_front():
    rows = [{"model": "slow-good", "t": 10, "acc": 0.9}, {"model": "fast-bad", "t": 1, "acc": 0.3},
            {"model": "dominated", "t": 5, "acc": 0.2}, {"model": "mid", "t": 4, "acc": 0.6},
            {"model": "tie-slower", "t": 6, "acc": 0.6},
            {"model": "nan", "t": float("nan"), "acc": 1}]
    assert B.pareto_front(rows, "t", "acc") == ["fast-bad", "mid", "slow-good"]
    assert B.pareto_front([], "t", "acc") == []


def test_plot_tradeoff_draws_the_front_in_bold():
    import matplotlib
    matplotlib.use("Agg")
    rows = [{"model": "fast", "t": 10, "acc": 0.3}, {"model": "slow", "t": 1000, "acc": 0.9},
            {"model": "dominated", "t": 500, "acc": 0.2}]
    ax = B.plot_tradeoff(rows, "t", "acc", logx=True, xlabel="seconds", title="T")
    labels = {t.get_text(): t.get_fontweight() for t in ax.texts}
    assert labels == {"fast": "bold", "slow": "bold", "dominated": "normal"}
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "seconds" and ax.get_title() == "T"
    (step,) = ax.lines                                 # the front as a step line
    assert list(step.get_xdata()) == [10.0, 1000.0] and list(step.get_ydata()) == [0.3, 0.9]


def test_reference_table_is_the_source_table():
    ref = B.load_reference()
    assert [r["model"] for r in ref] == list(bb.SOURCE_BENCHMARK)
    by = ref.by_model()
    assert by["MobileNetV3Large"]["model_as_printed"] == "MobileNetV2Large"
    assert by["ResNet50V2"]["test_accuracy"] == pytest.approx(0.82)
    assert by["ResNet152V2"]["train_seconds"] == 3314
    broken = sorted(m for m, r in by.items() if r["test_accuracy"] < 0.55)
    assert broken == ["EfficientNetB0", "EfficientNetB1", "MobileNetV3Large", "ResNet50"]
    text = resources.files("seminar_utils.reference").joinpath(B.REFERENCE_FILE).read_text()
    assert "seed 004" in text and "section 5" in text
    assert (ROOT / "data" / "reference" / B.REFERENCE_FILE).exists()          # where it lives
    assert not list((ROOT / "seminar_utils").rglob(B.REFERENCE_FILE))         # one copy only


# ----------------------------------------------------------------------------- one model

def test_run_one_measures_what_it_says(tmp_path):
    data = tiny_data()
    cfg = B.BenchmarkConfig(profile="test", epochs=2, batch_size=16, augment=True)
    r = B.run_one("MobileNetV2", data, cfg, verbose=0)
    assert set(B.COLUMNS) - set(r) == {"run_id", "workers"}           # added by the runner
    for key in ("train_accuracy", "val_accuracy", "test_accuracy"):
        assert 0.0 <= r[key] <= 1.0
    for key in ("train_loss", "val_loss", "test_loss", "first_epoch_seconds",
                "seconds_per_epoch", "train_seconds", "inference_ms_per_image"):
        assert r[key] > 0 and math.isfinite(r[key]), key
    assert r["train_seconds"] >= r["first_epoch_seconds"]
    assert r["input_size"] == 32 and r["preprocessing"] == "tf"
    assert r["weights"] == "random (weights=None)"
    # the head: GAP -> Dense(256) -> Dropout -> Dense(4) on MobileNetV2's 1280 features
    assert r["trainable_params"] == 1280 * 256 + 256 + 256 * 4 + 4
    assert r["total_params"] == bb.get_spec("MobileNetV2").params_no_top + r["trainable_params"]
    # float32 weights plus the HDF5 bookkeeping of ~300 tensors
    assert 4 * r["total_params"] / 1e6 < r["weights_mb"] < 4 * r["total_params"] / 1e6 * 1.5
    assert r["peak_rss_mb"] > 100
    assert (r["train_samples"], r["val_samples"], r["test_samples"]) == (32, 16, 16)
    assert r["device"] == device_label() and r["keras"] == keras.__version__
    # In-process, rows go to the CSV; a second call skips the model.
    path = tmp_path / "r.csv"
    t = B.run_benchmark(["MobileNet"], data, cfg, path, isolate=False, verbose=0)
    assert [x["model"] for x in t] == ["MobileNet"] and t[0]["isolation"].startswith("in-process")
    again = B.run_benchmark(["MobileNet"], data, cfg, path, isolate=False, verbose=0)
    assert again[0]["finished_at"] == t[0]["finished_at"]
    # the weights each row used are in this process's asset report (a child's report is lost)
    rec = {r.name: r for r in asset_report()}["MobileNet ImageNet weights"]
    assert (rec.source, rec.note) == ("stand-in", "random (weights=None)")


def test_a_different_setting_or_dataset_is_a_different_run():
    d = tiny_data()
    base = B.run_id(B.BenchmarkConfig(), d)
    assert B.run_id(B.BenchmarkConfig(epochs=2), d) != base
    assert B.run_id(B.BenchmarkConfig(), tiny_data(seed=1)) != base
    assert B.run_id(B.BenchmarkConfig(), tiny_data()) == base


def test_cifar10_splits_are_stratified_and_disjoint():
    d = B.cifar10_splits("smoke", 40, 20, 30, seed=0)
    assert d.counts() == {"train": 40, "val": 20, "test": 30} and d.num_classes == 10
    assert np.bincount(d.y_val, minlength=10).tolist() == [2] * 10
    assert np.bincount(d.y_train, minlength=10).tolist() == [4] * 10
    train = {x.tobytes() for x in d.x_train}
    assert not any(x.tobytes() in train for x in d.x_val)       # no image in two splits
    assert d.x_train.shape[1:] == (32, 32, 3) and d.source


def test_data_file_round_trip(tmp_path):
    d = tiny_data()
    e = B.BenchmarkData.load(d.save(tmp_path / "d.npz"))
    assert e.fingerprint() == d.fingerprint() and e.class_names == d.class_names
    assert e.source == "test arrays" and e.num_classes == 4


def test_the_augmentation_is_the_source_settings_through_build_augmentation():
    cfg = B.BenchmarkConfig(seed=3)
    model, weights = B.build_model("MobileNet", tiny_data(), cfg)
    assert weights == "random (weights=None)"
    aug = model.get_layer("augmentation")
    expected = augment.build_augmentation(B.SOURCE_AUGMENTATION, seed=3)
    assert [layer.name for layer in aug.layers] == [layer.name for layer in expected.layers] == [
        "rotation_range", "shift", "zoom_range", "horizontal_flip", "clip_0_255"]
    rotation = aug.get_layer("rotation_range").get_config()
    assert rotation["factor"] == pytest.approx((-30 / 360, 30 / 360))
    assert rotation["fill_mode"] == "nearest" and rotation["seed"] == 3
    assert aug.get_layer("zoom_range").get_config()["height_factor"] == pytest.approx((-0.3, 0.3))
    shift = aug.get_layer("shift").get_config()
    assert (shift["height_factor"], shift["width_factor"]) == (0.2, 0.2)
    model, _ = B.build_model("MobileNet", tiny_data(), B.BenchmarkConfig(augment=False))
    assert "augmentation" not in [layer.name for layer in model.layers]


def test_memory_mb_reads_current_and_peak():
    current, peak = B.memory_mb()
    assert 0 < current <= peak
    block = np.ones(100 * 2**20, "uint8")           # 100 MB, touched
    grown, peak_grown = B.memory_mb()
    assert grown - current > 90 and peak_grown >= grown
    del block
    after, peak_after = B.memory_mb()
    assert after < grown - 50                         # freed ...
    assert peak_after > grown - 5                     # ... but the peak stays (kernel counters
    assert peak_after - after > 50                    # lag by a few pages, hence the 5 MB)


# ----------------------------------------------------------------------------- ImageNet weights

@pytest.fixture
def offline_mirror(tmp_path, monkeypatch):
    """An offline mirror with MobileNetV2's published no-top file (random values) and nothing
    else; no download allowed, and any connection attempt fails the test."""
    import socket
    mirror = tmp_path / "mirror"
    path = write_published_file("MobileNetV2", mirror / "models")
    monkeypatch.setenv("SEMINAR_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("SEMINAR_OFFLINE", "1")

    def no_network(*args, **kwargs):
        raise AssertionError("a network connection was attempted")
    monkeypatch.setattr(socket.socket, "connect", no_network)
    return path


def test_imagenet_available_answers_from_local_files_without_building(offline_mirror, monkeypatch):
    assert not B.imagenet_available("VGG16")                   # offline, no file: False at once
    assert not B.imagenet_available("VGG16", download=False)

    def built(*args, **kwargs):
        raise AssertionError("a model was built")
    monkeypatch.setattr(bb, "build_backbone", built)
    assert B.imagenet_available("MobileNetV2", size=224)       # the mirror's file, nothing built
    assert B.imagenet_available("MobileNetV2", download=False, size=32)   # 32 px loads the 224 file
    assert not B.imagenet_available("MobileNetV2", download=False)        # 96 px has its own file
    cached = write_published_file("VGG16", Path(os.environ["KERAS_HOME"]) / "models")
    assert cached.exists() and B.imagenet_available("VGG16", download=False)   # Keras's cache


def test_weights_plan_decides_before_anything_trains(offline_mirror):
    names = ["MobileNetV2", "VGG16"]
    for policy in ("local-or-random", "imagenet-or-random"):
        config, plan = B.weights_plan(names, B.BenchmarkConfig(weights=policy))
        assert plan == {"MobileNetV2": True, "VGG16": False}
        assert config.weights == "local-or-random"      # no child waits for a download that fails
    with pytest.raises(AssetUnavailable, match=r"ImageNet weights of VGG16 are not in the offline"):
        B.weights_plan(names, B.BenchmarkConfig(weights="imagenet"))
    config, plan = B.weights_plan(["mobilenetv2"], B.BenchmarkConfig(weights="imagenet"))
    assert plan == {"MobileNetV2": True} and config.weights == "imagenet"
    assert B.weights_plan(names, B.BenchmarkConfig())[1] == {"MobileNetV2": False, "VGG16": False}


def test_build_model_takes_local_imagenet_weights_and_says_so(offline_mirror):
    config = B.BenchmarkConfig(weights="local-or-random", augment=False)
    model, label = B.build_model("MobileNetV2", tiny_data(), config)
    assert label == "imagenet (mirror)"
    assert_same_weights(model.get_layer("backbone"), offline_mirror)   # the file's values
    assert model.get_layer("backbone").trainable is False
    _, label = B.build_model("MobileNet", tiny_data(), config)
    assert label == "random (no local ImageNet file)"
    with pytest.raises(AssetUnavailable):
        B.build_model("MobileNet", tiny_data(), B.BenchmarkConfig(weights="imagenet"))
    _, label = B.build_model("MobileNet", tiny_data(),
                             B.BenchmarkConfig(weights="imagenet-or-random", augment=False))
    assert label == "random (ImageNet weights unavailable)"


def test_cpu_share_splits_the_cores_between_workers():
    cores = len(os.sched_getaffinity(0))
    assert B.cpu_share(1) == 0                         # one worker: TensorFlow's own default
    assert B.cpu_share(2) == max(1, cores // 2)
    assert B.cpu_share(cores * 4) == 1


# ----------------------------------------------------------------------------- the command line

def _rows(path):
    return B.read_results(path).by_model() if path.exists() else {}


def _children(pid):
    try:
        import psutil
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except Exception:  # psutil missing or process gone
        return []


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:                                           # a zombie is not alive
        with open(f"/proc/{pid}/status") as f:
            return "zombie" not in f.read()
    except OSError:
        return True


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path):
    data_path = tiny_data(n_train=16, n_val=8, n_test=8).save(tmp_path / "tiny.npz")
    csv_path = tmp_path / "results.csv"
    models = ["MobileNet", "MobileNetV2", "VGG16"]
    cmd = [sys.executable, str(ROOT / "tools" / "benchmark.py"), "--models", ",".join(models),
           "--data", str(data_path), "--csv", str(csv_path), "--profile", "smoke",
           "--epochs", "1", "--batch-size", "8", "--image-size", "32", "--weights", "none"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            cwd=tmp_path, start_new_session=True)
    deadline = time.time() + 300
    child = []
    while not _rows(csv_path) and time.time() < deadline and proc.poll() is None:
        child = _children(proc.pid) or child
        time.sleep(0.2)
    assert list(_rows(csv_path)) == ["MobileNet"], proc.stdout.read().decode()[-3000:]
    time.sleep(0.5)
    child = _children(proc.pid) or child
    os.kill(proc.pid, signal.SIGKILL)              # a dead kernel: no cleanup code runs
    proc.wait()
    first = _rows(csv_path)["MobileNet"]
    # The orphaned child (training MobileNetV2) notices and stops within seconds.
    t0 = time.time()
    while any(_alive(c) for c in child) and time.time() - t0 < 15:
        time.sleep(0.2)
    assert not any(_alive(c) for c in child), "orphaned child still running"
    assert list(_rows(csv_path)) == ["MobileNet"]

    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "skipped: MobileNet." in out.stdout
    rows = _rows(csv_path)
    assert sorted(rows) == sorted(models)
    assert rows["MobileNet"]["finished_at"] == first["finished_at"]    # not run again
    threads = B.cpu_share(2)                      # smoke trains two models at a time
    expected = "child process" + (f", {threads} thread{'s' * (threads > 1)}" if threads else "")
    assert all(r["isolation"] == expected and r["epochs"] == 1 and r["workers"] == 2
               for r in rows.values())
    assert len({r["run_id"] for r in rows.values()}) == 1
    # every child had its own process: the peaks are per model, not a running maximum
    assert all(r["peak_rss_mb"] > 100 for r in rows.values())


def test_share_gpu_memory_is_a_no_op_without_a_gpu(monkeypatch):
    import tensorflow as tf
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU is visible")
    assert B.share_gpu_memory() == []
    monkeypatch.setenv("SEMINAR_RESULTS_FILE", "/tmp/events.jsonl")
    env = runner._child_env()
    assert "SEMINAR_RESULTS_FILE" not in env        # the parent records what a child measured
    assert env["TF_FORCE_GPU_ALLOW_GROWTH"] in {"true", os.environ.get("TF_FORCE_GPU_ALLOW_GROWTH")}
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(ROOT)    # the package's parent
