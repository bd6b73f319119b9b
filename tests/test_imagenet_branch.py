"""The ImageNet-weights branch of notebooks 04-07, executed in CI with generated weight files.

No ImageNet weights can be had in this workplace, and offline every notebook falls back to a
stand-in or to random weights, so the branch a Colab learner takes (weights available) would
never run. Here weight files with exactly the layer names and shapes of the published ones
(random values: tests/weights_files.py) are put in an offline mirror's ``models/`` folder, the
course's own feature for a room without internet, and notebooks 04, 05, 06 and 07 (three
backbones) run at smoke size down that branch. Random values cannot meet accuracy targets, so
the run is not strict; it asserts the plumbing: no error, no stand-in or random-weights banner,
every backbone's weights reported as ImageNet weights from the mirror.

Run with `make test-imagenet` (`pytest -m imagenet`); `make test` leaves it out.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from weights_files import write_published_file

pytestmark = pytest.mark.imagenet

ROOT = Path(__file__).resolve().parents[1]
BENCHMARK_MODELS = ["MobileNetV2", "EfficientNetB0", "ResNet50V2"]
#: (backbone, include_top, size) of every file the four notebooks ask for in smoke.
FILES = [("VGG16", False, None), ("VGG16", True, None), ("ResNet50", True, None),
         ("ResNet50", False, None), ("ResNet50V2", False, None), ("MobileNetV2", False, None),
         ("EfficientNetB0", False, None)]
#: The weights each notebook must report as ImageNet weights from the mirror.
EXPECTED = {
    "04_feature_extraction": {"VGG16", "ResNet50"},
    "05_fine_tuning": {"VGG16"},
    "06_visualising_convnets": {"VGG16"},
    "07_pretrained_benchmark": set(BENCHMARK_MODELS),
}
BANNERS = ("RANDOM WEIGHTS", "RANDOM weights", "STAND-IN", "random weights (", "weights=None")


@pytest.fixture(scope="module")
def imagenet_mirror(tmp_path_factory):
    """The real offline mirror's datasets, plus generated ImageNet weight files in models/."""
    mirror = tmp_path_factory.mktemp("imagenet_mirror")
    real = os.environ.get("SEMINAR_DATA_MIRROR")
    if real and Path(real).is_dir():
        for item in Path(real).iterdir():
            (mirror / item.name).symlink_to(item.resolve())
    for name, top, size in FILES:
        write_published_file(name, mirror / "models", include_top=top, size=size)
    return mirror


@pytest.mark.parametrize("notebook", sorted(EXPECTED))
def test_notebook_runs_down_the_imagenet_branch(notebook, imagenet_mirror, tmp_path, monkeypatch):
    import nbformat
    import papermill as pm
    from seminar_utils.results import read_events, summarize
    events = tmp_path / "events.jsonl"
    for key, value in {"SEMINAR_DATA_MIRROR": str(imagenet_mirror), "SEMINAR_OFFLINE": "1",
                       "SEMINAR_PROFILE": "smoke", "SEMINAR_STRICT": "0", "CI": "false",
                       "SEMINAR_RESULTS_FILE": str(events),
                       "SEMINAR_ARTIFACTS_DIR": str(tmp_path / "artifacts")}.items():
        monkeypatch.setenv(key, value)
    parameters = {"PROFILE": "smoke"}
    if notebook.startswith("07"):
        parameters["MODELS"] = BENCHMARK_MODELS
    out = tmp_path / f"{notebook}.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / f"{notebook}.ipynb"), str(out),
                        parameters=parameters, cwd=str(ROOT / "notebooks"), kernel_name="python3",
                        progress_bar=False)
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                     for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"
                     for o in c.get("outputs", []))
    shown = [b for b in BANNERS if b in text]
    assert not shown, f"{notebook} still shows {shown} with ImageNet weights available"
    assets = summarize(read_events(events))[notebook]["assets"]
    weights = {n.removesuffix(" ImageNet weights"): s for n, s in assets.items()
               if n.endswith("ImageNet weights")}
    assert set(weights) >= EXPECTED[notebook], f"{notebook} loaded {weights}"
    assert all(s == "mirror" for s in weights.values()), weights
