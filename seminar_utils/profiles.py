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
    # The source's scale is 150x150, Adam(1e-4), 30 epochs without and 100 with augmentation
    # (~70-72 % vs ~82 % validation). quick trains at 64x64 with a higher learning rate so that
    # both stories (overfitting, then augmentation closing the gap) fit in minutes on 2 cores.
    # The ablation (the exercise) runs the variants named in `ablation_variants`.
    "02_data_augmentation": {
        "full": dict(train_samples=None, validation_samples=None, image_size=150, batch_size=32,
                     learning_rate=1e-4, baseline_epochs=30, augmented_epochs=100, patience=20,
                     ablation_image_size=150, ablation_train_samples=None,
                     ablation_validation_samples=None, ablation_epochs=30, ablation_variants="all",
                     min_baseline_val_accuracy=0.66, min_overfit_gap=0.15,
                     min_augmented_val_accuracy=0.76, max_augmented_gap=0.1,
                     min_standin_accuracy=0.6),
        "quick": dict(train_samples=None, validation_samples=None, image_size=64, batch_size=32,
                      learning_rate=3e-4, baseline_epochs=15, augmented_epochs=30, patience=10,
                      ablation_image_size=48, ablation_train_samples=500,
                      ablation_validation_samples=500, ablation_epochs=12,
                      ablation_variants=["baseline", "dropout 0.5", "L2 1e-3", "augmentation",
                                         "dropout 0.5 + augmentation",
                                         "dropout 0.5 + augmentation + BatchNorm"],
                      min_baseline_val_accuracy=0.64, min_overfit_gap=0.1,
                      min_augmented_val_accuracy=0.7, max_augmented_gap=0.12,
                      min_standin_accuracy=0.6),
        "smoke": dict(train_samples=96, validation_samples=64, image_size=48, batch_size=32,
                      learning_rate=1e-3, baseline_epochs=1, augmented_epochs=1, patience=1,
                      ablation_image_size=48, ablation_train_samples=64,
                      ablation_validation_samples=64, ablation_epochs=1,
                      ablation_variants=["dropout 0.5 + augmentation + BatchNorm"],
                      min_baseline_val_accuracy=0.3, min_overfit_gap=-1.0,
                      min_augmented_val_accuracy=0.3, max_augmented_gap=1.0,
                      min_standin_accuracy=0.3),
    },
    # --- 02_data_augmentation (end)
    # --- 03_mixup (begin)
    # full: chosen to beat the source's best, 0.8752 (mixup + the deeper VGG-style CNN, 40 epochs):
    # all of CIFAR-10 (45,000 train / 5,000 validation / 10,000 test), full widths, 80 epochs for the
    # VGG-style models with cosine learning-rate decay (the notebook's half-strength augmentation:
    # 0.879 measured after 60 epochs on an H100). quick: a stratified 10,000-image subset, the same
    # architectures at a quarter of the filters (`width`), 10 epochs. smoke: a pipeline test.
    "03_mixup": {
        "full": dict(train_samples=None, validation_samples=5000, test_samples=None, batch_size=128,
                     width=1.0, epochs_small=40, epochs_vgg=80, learning_rate=1e-3,
                     mixup_alpha=0.2, beta_samples=200_000, beta_tolerance=0.01,
                     min_stage_test_accuracy=0.65, min_final_test_accuracy=0.8752,
                     min_standin_accuracy=0.5),
        "quick": dict(train_samples=10000, validation_samples=1000, test_samples=2000, batch_size=128,
                      width=0.25, epochs_small=10, epochs_vgg=10, learning_rate=1e-3,
                      mixup_alpha=0.2, beta_samples=200_000, beta_tolerance=0.01,
                      min_stage_test_accuracy=0.35, min_final_test_accuracy=0.40,
                      min_standin_accuracy=0.5),
        "smoke": dict(train_samples=800, validation_samples=160, test_samples=400, batch_size=64,
                      width=0.125, epochs_small=1, epochs_vgg=1, learning_rate=1e-3,
                      mixup_alpha=0.2, beta_samples=200_000, beta_tolerance=0.01,
                      min_stage_test_accuracy=0.05, min_final_test_accuracy=0.05,
                      min_standin_accuracy=0.05),
    },
    # --- 03_mixup (end)
    # --- 04_feature_extraction (begin)
    # `standin` is the recipe of the CIFAR-10 base that stands in for ImageNet weights in quick
    # (seminar_utils.pretrained.cifar10_base; notebook 05 reuses it): ~3 min on 2 CPU cores.
    # full never uses it (ImageNet weights or an error); smoke uses random weights.
    "04_feature_extraction": {
        "full": dict(train_samples=None, validation_samples=None, image_size=150, batch_size=32,
                     backbone="VGG16", standin_input_size=64, standin=dict(epochs=2),
                     scratch_epochs=30, head_epochs=30, aug_epochs=30, probe_epochs=50,
                     cifar_backbone="ResNet50", cifar_resize=224, cifar_train_samples=10000,
                     cifar_test_samples=2000, cifar_epochs=3,
                     min_scratch_accuracy=0.65, min_feature_accuracy=0.85,
                     min_augmented_accuracy=0.85, min_feature_gain=0.10, min_speed_ratio=10.0,
                     min_cifar_accuracy=0.75),
        "quick": dict(train_samples=None, validation_samples=None, image_size=64, batch_size=32,
                      backbone="VGG16", standin_input_size=64, standin=dict(epochs=2),
                      scratch_epochs=10, head_epochs=30, aug_epochs=6, probe_epochs=20,
                      cifar_backbone="ResNet50", cifar_resize=64, cifar_train_samples=2000,
                      cifar_test_samples=500, cifar_epochs=1,
                      min_scratch_accuracy=0.60, min_feature_accuracy=0.72,
                      min_augmented_accuracy=0.70, min_feature_gain=0.02, min_speed_ratio=5.0,
                      min_cifar_accuracy=0.50),
        "smoke": dict(train_samples=64, validation_samples=32, image_size=48, batch_size=16,
                      backbone="VGG16", standin_input_size=48,
                      standin=dict(train_samples=512, test_samples=256, epochs=1),
                      scratch_epochs=1, head_epochs=2, aug_epochs=1, probe_epochs=2,
                      cifar_backbone="VGG16", cifar_resize=32, cifar_train_samples=64,
                      cifar_test_samples=32, cifar_epochs=1,
                      min_scratch_accuracy=0.3, min_feature_accuracy=0.3,
                      min_augmented_accuracy=0.3, min_feature_gain=-1.0, min_speed_ratio=1.0,
                      min_cifar_accuracy=0.0),
    },
    # --- 04_feature_extraction (end)
    # --- 05_fine_tuning (begin)
    # The validation folder of cats_and_dogs_filtered is split in two (stratified, seeded):
    # `test_samples` photos become a held-out test split, the rest stay for validation.
    # Learning rates: phase 1 trains the new head, phase 2 fine-tunes the top block (Adam and
    # SGD + momentum at their own rates; the schedule decays from 2x the Adam rate to 0).
    # `augmentation`: the source's ImageDataGenerator settings at 224 px; flips only at 64 px (the
    # CIFAR-10 stand-in was trained with flips; strong geometric changes make 5 epochs noisy).
    # smoke fine-tunes VGG16 (19 layers): tracing ResNet50V2's train step 5 times costs a minute.
    "05_fine_tuning": {
        "full": dict(train_samples=None, validation_samples=None, test_samples=500, image_size=224,
                     batch_size=32, backbone="ResNet50V2", standin_input_size=64,
                     augmentation=dict(rotation_range=40, width_shift_range=0.2,
                                       height_shift_range=0.2, shear_range=0.2, zoom_range=0.2,
                                       horizontal_flip=True, fill_mode="nearest"),
                     head_epochs=10, fine_epochs=10, head_learning_rate=1e-3,
                     fine_learning_rate=1e-5, sgd_learning_rate=1e-4,
                     min_head_accuracy=0.93, min_fine_accuracy=0.95, min_test_accuracy=0.93),
        "quick": dict(train_samples=None, validation_samples=None, test_samples=500, image_size=64,
                      batch_size=32, backbone="ResNet50V2", standin_input_size=64,
                      augmentation=dict(horizontal_flip=True),
                      head_epochs=5, fine_epochs=5, head_learning_rate=1e-3,
                      fine_learning_rate=1e-4, sgd_learning_rate=1e-3,
                      min_head_accuracy=0.70, min_fine_accuracy=0.72, min_test_accuracy=0.70),
        "smoke": dict(train_samples=64, validation_samples=64, test_samples=32, image_size=32,
                      batch_size=16, backbone="VGG16", standin_input_size=32,
                      augmentation=dict(horizontal_flip=True),
                      head_epochs=1, fine_epochs=1, head_learning_rate=1e-3,
                      fine_learning_rate=1e-4, sgd_learning_rate=1e-3,
                      min_head_accuracy=0.3, min_fine_accuracy=0.3, min_test_accuracy=0.3),
    },
    # --- 05_fine_tuning (end)
    # --- 06_visualising_convnets (begin)
    "06_visualising_convnets": {
        # image_size / train_samples / regen_epochs: only used when notebook 02's model is missing
        # and is regenerated. Gradient ascent starts from grey +- pattern_start (0-255 units) and
        # moves each input pixel by pattern_pixel_step (root mean square) per step. occlusion_patch
        # / _stride: fractions of the image side. display_size: photos under heatmaps are shown at
        # least this large. min_map_agreement: mean correlation of the Grad-CAM and occlusion maps.
        "full": dict(image_size=150, train_samples=None, validation_samples=None, batch_size=32,
                     regen_epochs=30, learning_rate=1e-3, min_model_accuracy=0.7,
                     weights="imagenet", classifier_size=224, pattern_size=128, vgg_pattern_size=150,
                     pattern_steps=40, pattern_filters=16, pattern_start=32.0, pattern_pixel_step=2.0,
                     explain_per_class=3, display_size=224, occlusion_patch=0.16, occlusion_stride=0.05,
                     min_map_agreement=0.2),
        "quick": dict(image_size=64, train_samples=2000, validation_samples=500, batch_size=32,
                      regen_epochs=10, learning_rate=1e-3, min_model_accuracy=0.6,
                      weights="imagenet", classifier_size=224, pattern_size=96, vgg_pattern_size=64,
                      pattern_steps=40, pattern_filters=8, pattern_start=32.0, pattern_pixel_step=2.0,
                      explain_per_class=2, display_size=160, occlusion_patch=0.16, occlusion_stride=0.06,
                      min_map_agreement=0.1),
        "smoke": dict(image_size=48, train_samples=200, validation_samples=100, batch_size=32,
                      regen_epochs=1, learning_rate=1e-3, min_model_accuracy=0.3,
                      weights=None, classifier_size=64, pattern_size=48, vgg_pattern_size=32,
                      pattern_steps=3, pattern_filters=3, pattern_start=32.0, pattern_pixel_step=2.0,
                      explain_per_class=1, display_size=64, occlusion_patch=0.2, occlusion_stride=0.1,
                      min_map_agreement=-1.0),
    },
    # --- 06_visualising_convnets (end)
    # --- 07_pretrained_benchmark (begin)
    "07_pretrained_benchmark": {
        # The source's setting: all of CIFAR-10 at 224 px, batch 128, 20 epochs, ImageNet weights.
        "full": dict(models="source", train_samples=None, val_samples=5000, test_samples=None,
                     image_size=224, epochs=20, batch_size=128, learning_rate=1e-3, augment=True,
                     weights="imagenet", seed=42, workers=1, redo=False,
                     demo_train_samples=5000, demo_test_samples=1000, demo_epochs=5,
                     exercise_model="MobileNet", pick_margin=0.05,
                     min_best_test_accuracy=0.80, min_efficientnet_test_accuracy=0.60,
                     min_best_test_accuracy_random=0.12, min_probe_gap=0.10,
                     max_kernel_growth_mb=300, max_peak_rss_mb=24000),
        # ~15 min on 2 cores: 2,000 / 500 / 1,000 images at 32 px (InceptionV3 75, Xception 71).
        "quick": dict(models="source", train_samples=2000, val_samples=500, test_samples=1000,
                      image_size=32, epochs=3, batch_size=32, learning_rate=1e-3, augment=True,
                      weights="imagenet-or-random", seed=42, workers=1, redo=False,
                      demo_train_samples=2000, demo_test_samples=500, demo_epochs=5,
                      exercise_model="MobileNet", pick_margin=0.05,
                      min_best_test_accuracy=0.35, min_efficientnet_test_accuracy=0.20,
                      min_best_test_accuracy_random=0.12, min_probe_gap=0.10,
                      max_kernel_growth_mb=200, max_peak_rss_mb=4000),
        # CI: every model trains 3 steps and is evaluated; two models at a time.
        "smoke": dict(models="source", train_samples=96, val_samples=48, test_samples=96,
                      image_size=32, epochs=1, batch_size=32, learning_rate=1e-3, augment=True,
                      weights=None, seed=42, workers=2, redo=True,
                      demo_train_samples=1000, demo_test_samples=300, demo_epochs=3,
                      exercise_model="MobileNet", pick_margin=0.05,
                      min_best_test_accuracy=0.0, min_efficientnet_test_accuracy=0.0,
                      min_best_test_accuracy_random=0.0, min_probe_gap=0.05,
                      max_kernel_growth_mb=200, max_peak_rss_mb=3000),
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
