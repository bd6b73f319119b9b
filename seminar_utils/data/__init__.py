"""Datasets for the course: one ladder per asset, an asset report, stand-ins, tf.data pipelines.

Where an asset comes from (:func:`fetch`, over the registry :data:`ASSETS`), in order:

1. the offline mirror, a directory named by ``SEMINAR_DATA_MIRROR`` (layout in data/README.md);
2. its download with ``keras.utils.get_file`` (checked against the published hash where there
   is one), cached under ``KERAS_HOME``; skipped when ``SEMINAR_OFFLINE=1``;
3. when both fail: profile ``full`` raises :class:`AssetUnavailable` naming the asset and how
   to get it; ``quick`` and ``smoke`` go on with a generated stand-in of the same shapes and
   classes, and print a banner saying so.

Every load is recorded; :func:`asset_report` shows what is real and what is a stand-in.
"""

from .assets import ASSETS, Asset, Found, demo_photo, fetch, load_cats_vs_dogs, load_cifar10, load_mnist
from .core import (CATS_DOGS_CLASSES, CIFAR10_CLASSES, ENV_ARTIFACTS, ENV_CACHE, ENV_MIRROR,
                   ENV_OFFLINE, IMAGE_SUFFIXES, MNIST_CLASSES, ArrayData, AssetUnavailable,
                   DataError, DataWarning, ImageFolderData, artifact_path, cache_dir, mirror_dir,
                   online_allowed, stratified_indices)
from .formats import check_image, list_image_folder, read_idx
from .pipelines import image_folder_dataset
from .report import AssetRecord, AssetReport, asset_report, banner, record_asset

__all__ = [
    # the loaders and the ladder
    "load_mnist", "load_cifar10", "load_cats_vs_dogs", "demo_photo", "fetch", "ASSETS", "Asset",
    "Found",
    # the asset report
    "asset_report", "record_asset", "banner", "AssetRecord", "AssetReport",
    # errors, settings, folders
    "AssetUnavailable", "DataError", "DataWarning", "ENV_MIRROR", "ENV_CACHE", "ENV_OFFLINE",
    "ENV_ARTIFACTS", "cache_dir", "artifact_path", "mirror_dir", "online_allowed",
    # datasets, files, pipelines
    "ArrayData", "ImageFolderData", "MNIST_CLASSES", "CIFAR10_CLASSES", "CATS_DOGS_CLASSES",
    "IMAGE_SUFFIXES", "stratified_indices", "read_idx", "check_image", "list_image_folder",
    "image_folder_dataset",
]
