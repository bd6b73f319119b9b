"""Run profiles: the one switch that sizes every notebook.

``SEMINAR_PROFILE`` (or the notebook's ``PROFILE`` parameter) picks one of

* ``full``  - the source material's scale, for Colab or any GPU;
* ``quick`` - real data, reduced: minutes per notebook on a 2-core CPU;
* ``smoke`` - tiny subsets and one epoch, for CI: seconds per notebook;
* ``auto``  - ``full`` when TensorFlow sees a GPU, else ``quick``.

Every number a notebook trains with (sample counts, image size, epochs, batch size,
weights) and every target its check cells compare against lives in :data:`SETTINGS`,
never in a notebook cell.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

PROFILES: tuple[str, ...] = ("full", "quick", "smoke")
CHOICES: tuple[str, ...] = ("auto",) + PROFILES
ENV_VAR = "SEMINAR_PROFILE"


class ProfileError(ValueError):
    """An unknown profile or notebook name."""


class Settings(dict):
    """A dict of run settings that also allows attribute access (``s.epochs``).

    >>> s = Settings({"epochs": 2}, profile="quick", notebook="01_cnn_basics")
    >>> s.epochs, s.profile
    (2, 'quick')
    """

    def __init__(self, values: Mapping[str, Any], profile: str, notebook: str):
        super().__init__(values)
        self.profile = profile
        self.notebook = notebook

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"{self.notebook!r} has no setting {name!r} in profile {self.profile!r}; "
                f"known settings: {', '.join(sorted(self))}"
            ) from None

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self.items())
        return f"Settings[{self.notebook} @ {self.profile}]({body})"


# Per-notebook settings. `None` for a sample count means "all of it".
# Targets (`min_*`) are what the check cells of that notebook compare against;
# `min_standin_accuracy` applies when the real data could not be had (generated stand-ins):
# it only asks for "clearly better than chance" (chance is 1 / number of classes).
SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "01_cnn_basics": {
        "full": dict(train_samples=None, test_samples=None, epochs=10, dense_epochs=10,
                     batch_size=128, min_cnn_test_accuracy=0.99, min_dense_test_accuracy=0.975,
                     min_standin_accuracy=0.5),
        "quick": dict(train_samples=None, test_samples=None, epochs=4, dense_epochs=3,
                      batch_size=128, min_cnn_test_accuracy=0.985, min_dense_test_accuracy=0.95,
                      min_standin_accuracy=0.5),
        "smoke": dict(train_samples=3000, test_samples=500, epochs=1, dense_epochs=1,
                      batch_size=64, min_cnn_test_accuracy=0.7, min_dense_test_accuracy=0.7,
                      min_standin_accuracy=0.3),
    },
    # --- 02_data_augmentation (begin)
    "02_data_augmentation": {
        "full": dict(),
        "quick": dict(),
        "smoke": dict(),
    },
    # --- 02_data_augmentation (end)
    # --- 03_mixup (begin)
    "03_mixup": {
        "full": dict(),
        "quick": dict(),
        "smoke": dict(),
    },
    # --- 03_mixup (end)
    # --- 04_feature_extraction (begin)
    "04_feature_extraction": {
        "full": dict(),
        "quick": dict(),
        "smoke": dict(),
    },
    # --- 04_feature_extraction (end)
    # --- 05_fine_tuning (begin)
    "05_fine_tuning": {
        "full": dict(),
        "quick": dict(),
        "smoke": dict(),
    },
    # --- 05_fine_tuning (end)
    # --- 06_visualising_convnets (begin)
    "06_visualising_convnets": {
        "full": dict(),
        "quick": dict(),
        "smoke": dict(),
    },
    # --- 06_visualising_convnets (end)
    # --- 07_pretrained_benchmark (begin)
    "07_pretrained_benchmark": {
        "full": dict(),
        "quick": dict(),
        "smoke": dict(),
    },
    # --- 07_pretrained_benchmark (end)
}


def detect_gpu() -> bool:
    """True when the Keras backend (TensorFlow by default) can see at least one GPU.

    >>> isinstance(detect_gpu(), bool)
    True
    """
    from .env import gpu_names
    return bool(gpu_names())


def resolve_profile(name: str | None = None, *, gpu: bool | None = None) -> str:
    """Turn a profile name (or ``None`` = read ``SEMINAR_PROFILE``) into full/quick/smoke.

    ``auto`` (the default) is ``full`` when a GPU is visible, else ``quick``.

    >>> resolve_profile("auto", gpu=False)
    'quick'
    """
    raw = name if name is not None else os.environ.get(ENV_VAR, "auto")
    value = str(raw).strip().lower() or "auto"
    if value not in CHOICES:
        raise ProfileError(
            f"Unknown profile {raw!r}. Valid profiles: {', '.join(CHOICES)} "
            f"(set {ENV_VAR} or the notebook's PROFILE parameter)."
        )
    if value == "auto":
        has_gpu = detect_gpu() if gpu is None else gpu
        return "full" if has_gpu else "quick"
    return value


def get_settings(notebook: str, profile: str | None = None) -> Settings:
    """The settings of ``notebook`` (e.g. ``"01_cnn_basics"``) in the resolved profile.

    >>> get_settings("01_cnn_basics", "smoke").epochs
    1
    """
    resolved = resolve_profile(profile)
    if notebook not in SETTINGS:
        raise ProfileError(
            f"No settings for notebook {notebook!r}. Known: {', '.join(sorted(SETTINGS))}."
        )
    return Settings(SETTINGS[notebook][resolved], profile=resolved, notebook=notebook)
