"""ImageDataGenerator-style settings as Keras 3 random layers (notebook 02).

The source augments with Keras 2's ``ImageDataGenerator(rotation_range=40, ...)``, absent from
``keras.preprocessing`` in Keras 3. :func:`build_augmentation` reads the same arguments and returns a ``keras.Sequential``
of random layers on float images in [0, 255], ending with :class:`ClipToRange`; it runs on
batches in ``tf.data`` (:func:`augment_dataset`) or as the first block of a model.
``SETTINGS_HELP`` says what each setting becomes (:func:`describe_settings`, for a dict;
:func:`layer_ranges` compares a pipeline with another). Two
differ from their Keras namesakes: ``shear_range`` is an angle in degrees (RandomShear takes
its tangent) and ``brightness_range`` multiplies (RandomBrightness adds). ``fused=True`` makes
the geometric transforms one :class:`~seminar_utils.affine.RandomAffine` resampling, about a
tenth of the CPU time: train with it; the one-layer-per-transform form is the one to show.
"""

from __future__ import annotations

import difflib
import warnings
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import keras
import numpy as np

from .affine import FILL_MODES, RandomAffine, shear_factor, zoom_bounds

if TYPE_CHECKING:
    import tensorflow as tf
    from matplotlib.figure import Figure

__all__ = ["SOURCE_SETTINGS", "SETTINGS_HELP", "check_settings", "describe_settings",
           "layer_ranges", "transform_layers", "build_augmentation", "ClipToRange", "RandomBrightnessScale",
           "RandomGaussianNoise", "show_transforms", "show_augmented_batch", "augment_dataset"]


# The source's generator (notebook 02): ImageDataGenerator(rotation_range=40, ...).
SOURCE_SETTINGS: dict[str, Any] = {
    "rotation_range": 40,
    "width_shift_range": 0.2,
    "height_shift_range": 0.2,
    "shear_range": 0.2,
    "zoom_range": 0.2,
    "horizontal_flip": True,
    "fill_mode": "nearest",
}

# Every accepted setting and what it means (also the text of the unknown-setting error).
SETTINGS_HELP: dict[str, str] = {
    "rotation_range": "degrees; uniform angle in [-r, r] -> RandomRotation(r / 360)",
    "width_shift_range": "fraction of the width in [0, 1) -> RandomTranslation(width_factor)",
    "height_shift_range": "fraction of the height in [0, 1) -> RandomTranslation(height_factor)",
    "shear_range": "degrees in [0, 45] -> RandomShear(x_factor=tan(radians(deg)))",
    "zoom_range": "float z (scale in [1-z, 1+z]) or [lo, hi] -> RandomZoom, x and y drawn apart",
    "horizontal_flip": "bool -> RandomFlip('horizontal')",
    "vertical_flip": "bool -> RandomFlip('vertical')",
    "brightness_range": "[lo, hi] multiplicative factor, as ImageDataGenerator -> RandomBrightnessScale",
    "brightness": "keras.layers.RandomBrightness factor (additive: factor * 255)",
    "contrast": "factor -> RandomContrast(factor, value_range=(0, 255))",
    "noise": "Gaussian noise stddev in pixel units (0-255) -> RandomGaussianNoise",
    "fill_mode": "'nearest' | 'reflect' | 'constant' | 'wrap' for the geometric layers",
    "cval": "fill value for fill_mode='constant'",
    "interpolation": "'bilinear' (ImageDataGenerator's default) | 'nearest'",
    "rescale": "ignored: the model rescales (keras.layers.Rescaling), augmentation works in 0-255",
}

# ImageDataGenerator arguments that are deliberately not augmentation settings here.
_NOT_HERE = {
    "featurewise_center": "normalise inside the model (keras.layers.Normalization)",
    "samplewise_center": "normalise inside the model",
    "featurewise_std_normalization": "normalise inside the model (keras.layers.Normalization)",
    "samplewise_std_normalization": "normalise inside the model",
    "zca_whitening": "not supported",
    "zca_epsilon": "not supported",
    "channel_shift_range": "not supported; 'brightness' or 'contrast' are the closest",
    "preprocessing_function": "append your own layer to the returned Sequential",
    "validation_split": "split the data with seminar_utils.data, not in the augmentation",
    "data_format": "images are channels-last",
    "dtype": "images are float32",
}


def check_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Validate an ImageDataGenerator-style settings dict; returns a plain copy.

    Unknown keys raise ``ValueError`` naming the close matches and listing every valid key.

    >>> check_settings({"rotation_range": 10})
    {'rotation_range': 10}
    """
    out = dict(settings)
    for key in out:
        if key in SETTINGS_HELP:
            continue
        if key in _NOT_HERE:
            raise ValueError(f"ImageDataGenerator's {key!r} is not an augmentation setting here: "
                             f"{_NOT_HERE[key]}. Valid settings: {', '.join(SETTINGS_HELP)}.")
        close = difflib.get_close_matches(key, list(SETTINGS_HELP), n=2, cutoff=0.7)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        valid = "\n".join(f"  {k:20s} {v}" for k, v in SETTINGS_HELP.items())
        raise ValueError(f"Unknown augmentation setting {key!r}.{hint} Valid settings:\n{valid}")
    fill = out.get("fill_mode", "nearest")
    if fill not in FILL_MODES:
        raise ValueError(f"fill_mode={fill!r}; expected one of {FILL_MODES}.")
    if out.get("interpolation", "bilinear") not in ("bilinear", "nearest"):
        raise ValueError(f"interpolation={out['interpolation']!r}; expected 'bilinear' or 'nearest'.")
    for key in ("width_shift_range", "height_shift_range"):
        v = out.get(key, 0)
        if not 0 <= float(v) < 1:
            raise ValueError(f"{key}={v!r}: give a fraction of the image size in [0, 1) "
                             f"(ImageDataGenerator's pixel shifts >= 1 are not supported).")
    if "rotation_range" in out and not 0 <= float(out["rotation_range"]) <= 180:
        raise ValueError(f"rotation_range={out['rotation_range']!r}: degrees in [0, 180].")
    if "shear_range" in out:
        shear_factor(float(out["shear_range"]))
    if "zoom_range" in out:
        zoom_bounds(out["zoom_range"])
    if "brightness_range" in out and out["brightness_range"] is not None:
        _brightness_bounds(out["brightness_range"])
    for key in ("contrast", "noise", "brightness"):
        if key in out and not isinstance(out[key], (int, float, tuple, list)):
            raise ValueError(f"{key}={out[key]!r}: expected a number.")
    return out


def _brightness_bounds(b: Any) -> tuple[float, float]:
    """ImageDataGenerator's ``brightness_range`` [lo, hi], checked, as floats."""
    if not (isinstance(b, (tuple, list)) and len(b) == 2 and 0 <= float(b[0]) <= float(b[1])):
        raise ValueError(f"brightness_range={b!r}: expected [lo, hi] with 0 <= lo <= hi "
                         f"(multiplicative, 1.0 = unchanged).")
    return float(b[0]), float(b[1])


def describe_settings(settings: Mapping[str, Any] = SOURCE_SETTINGS) -> list[tuple[str, str]]:
    """(ImageDataGenerator argument, Keras 3 layer call) pairs for a settings dict.

    >>> describe_settings({"rotation_range": 40})[0]
    ('rotation_range=40', 'RandomRotation(factor=(-0.1111, 0.1111), fill_mode=nearest)')
    """
    return [(_label(name, settings), f"{type(layer).__name__}("
             + ", ".join(f"{k}={v}" for k, v in _ranges(layer).items() if k != "y_factor") + ")")
            for name, layer in transform_layers(settings).items()]


def _label(name: str, settings: Mapping[str, Any]) -> str:
    keys = {"shift": ("width_shift_range", "height_shift_range"),
            "flip": ("horizontal_flip", "vertical_flip")}.get(name, (name,))
    return ", ".join(f"{k}={settings[k]!r}" for k in keys if k in settings and settings[k])


# Config keys that say what a random layer draws; a float factor f means [-f, f] to Keras.
_RANGE_KEYS = ("factor", "height_factor", "width_factor", "x_factor", "y_factor", "mode",
               "fill_mode", "value_range", "stddev", "lower", "upper", "rotation", "shear", "zoom",
               "width_shift", "height_shift")
_FACTORS = ("factor", "height_factor", "width_factor", "x_factor")


def _ranges(layer: keras.layers.Layer) -> dict[str, Any]:
    """The range settings of one layer's config, floats rounded, float factors as (-f, f)."""
    out = {}
    for k, v in layer.get_config().items():
        if k not in _RANGE_KEYS or v is None:
            continue
        if isinstance(v, (int, float)) and not isinstance(v, bool) and k in _FACTORS:
            v = (-abs(float(v)), abs(float(v)))
        if isinstance(v, float):
            v = round(v, 4)
        elif isinstance(v, (tuple, list)):
            v = tuple(round(float(x), 4) + 0.0 if isinstance(x, (int, float)) else x for x in v)
        out[k] = v
    return out


def layer_ranges(augmentation: keras.layers.Layer) -> dict[str, dict[str, Any]]:
    """What the random layers of an augmentation draw: layer type -> its ranges, normalised.

    Two pipelines that agree here draw the same transforms, whatever their layer names, seeds
    or order: a hand-written ``keras.Sequential`` can be compared with :func:`build_augmentation`.
    A type that appears twice (one ``RandomTranslation`` per axis) is merged: a zero range
    gives way to the other layer's.

    >>> layer_ranges(keras.Sequential([keras.layers.RandomRotation(0.1)]))
    {'RandomRotation': {'factor': (-0.1, 0.1), 'fill_mode': 'reflect'}}
    """
    out: dict[str, dict[str, Any]] = {}
    stack = list(getattr(augmentation, "layers", [augmentation]))
    while stack:
        layer = stack.pop(0)
        if isinstance(layer, keras.Sequential):
            stack[:0] = layer.layers
        elif type(layer).__name__.startswith("Random"):
            merged = out.setdefault(type(layer).__name__, {})
            for k, v in _ranges(layer).items():
                old = merged.get(k)
                if old is None or (not _nonzero(old) and _nonzero(v)):
                    merged[k] = v
                elif old != v and _nonzero(v):
                    merged[k] = (old, v)
    return out


def _nonzero(v: Any) -> bool:
    return any(v) if isinstance(v, tuple) else bool(v)


# --------------------------------------------------------------------------- custom layers

@keras.saving.register_keras_serializable(package="seminar_utils")
class ClipToRange(keras.layers.Layer):
    """Clip values to ``[low, high]`` (the last layer of every augmentation pipeline).

    >>> ClipToRange(0, 255)(np.array([[-5.0, 300.0]])).numpy().tolist()
    [[0.0, 255.0]]
    """

    def __init__(self, low: float = 0.0, high: float = 255.0, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high = float(low), float(high)

    def call(self, inputs):
        return keras.ops.clip(inputs, self.low, self.high)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "low": self.low, "high": self.high}


@keras.saving.register_keras_serializable(package="seminar_utils")
class RandomBrightnessScale(keras.layers.Layer):
    """ImageDataGenerator's ``brightness_range``: multiply each image by a factor in [lower, upper].

    (``keras.layers.RandomBrightness`` adds an offset instead.) Identity when not training.

    >>> layer = RandomBrightnessScale(0.5, 0.5)
    >>> float(layer(np.full((1, 2, 2, 3), 200.0), training=True).numpy().max())
    100.0
    """

    def __init__(self, lower: float = 0.8, upper: float = 1.2, value_range: Sequence[float] = (0, 255),
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.lower, self.upper = _brightness_bounds((lower, upper))
        self.value_range = tuple(float(v) for v in value_range)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training:
            return images
        ops = keras.ops
        shape = ops.shape(images)
        batched = len(shape) == 4
        factor_shape = (shape[0], 1, 1, 1) if batched else (1, 1, 1)
        factor = keras.random.uniform(factor_shape, self.lower, self.upper,
                                      dtype=self.compute_dtype, seed=self.seed_generator)
        out = ops.cast(images, self.compute_dtype) * factor
        return ops.clip(out, self.value_range[0], self.value_range[1])

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "lower": self.lower, "upper": self.upper,
                "value_range": self.value_range, "seed": self.seed}


@keras.saving.register_keras_serializable(package="seminar_utils")
class RandomGaussianNoise(keras.layers.Layer):
    """Add Gaussian noise of ``stddev`` pixel units, clipped to ``value_range``; only in training.

    (``keras.layers.GaussianNoise`` does the same without clipping, for stddev <= 1 only.)

    >>> x = RandomGaussianNoise(10.0, seed=0)(np.full((1, 64, 64, 3), 128.0), training=True)
    >>> 8 < float(np.std(x)) < 12
    True
    """

    def __init__(self, stddev: float = 10.0, value_range: Sequence[float] = (0, 255),
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not float(stddev) >= 0:
            raise ValueError(f"noise stddev must be >= 0 (pixel units); got {stddev}.")
        self.stddev = float(stddev)
        self.value_range = tuple(float(v) for v in value_range)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training or self.stddev == 0:
            return images
        images = keras.ops.cast(images, self.compute_dtype)
        noisy = images + keras.random.normal(keras.ops.shape(images), stddev=self.stddev,
                                             dtype=self.compute_dtype, seed=self.seed_generator)
        return keras.ops.clip(noisy, self.value_range[0], self.value_range[1])

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "value_range": self.value_range,
                "seed": self.seed}


# --------------------------------------------------------------------------- builders

def _layers(settings: Mapping[str, Any], seed: int | None, combine: bool,
            fused: bool = False) -> dict[str, keras.layers.Layer]:
    """Setting name -> random layer; ``combine`` merges shifts (and flips) as the pipeline does."""
    s = check_settings(settings)
    if s.get("rescale") not in (None, 1, 1.0):
        warnings.warn(f"rescale={s['rescale']!r} ignored: augmentation works on 0-255 images and "
                      f"the model does the rescaling (keras.layers.Rescaling(1 / 255) as its first "
                      f"layer, or the backbone's preprocess_input).", UserWarning, stacklevel=3)
    L = keras.layers
    geo = dict(fill_mode=s.get("fill_mode", "nearest"), fill_value=float(s.get("cval", 0.0)),
               interpolation=s.get("interpolation", "bilinear"))
    counter = iter(range(1000))

    def seed_():
        i = next(counter)
        return None if seed is None else int(seed) + i

    out: dict[str, keras.layers.Layer] = {}
    rot = float(s.get("rotation_range", 0) or 0)
    ws, hs = float(s.get("width_shift_range", 0) or 0), float(s.get("height_shift_range", 0) or 0)
    shear = float(s.get("shear_range", 0) or 0)
    zoom = zoom_bounds(s["zoom_range"]) if s.get("zoom_range") else (1.0, 1.0)
    hf, vf = bool(s.get("horizontal_flip")), bool(s.get("vertical_flip"))
    if fused and (rot or ws or hs or shear or zoom != (1.0, 1.0)):
        out["affine"] = RandomAffine(rot, ws, hs, shear, zoom, horizontal_flip=hf, vertical_flip=vf,
                                     seed=seed_(), name="affine", **geo)
        hf = vf = False  # done by the affine layer
    else:
        if rot:
            out["rotation_range"] = L.RandomRotation(rot / 360.0, seed=seed_(), name="rotation_range",
                                                     **geo)
        if combine and (ws or hs):
            out["shift"] = L.RandomTranslation(hs, ws, seed=seed_(), name="shift", **geo)
        else:
            if ws:
                out["width_shift_range"] = L.RandomTranslation(0.0, ws, seed=seed_(),
                                                               name="width_shift_range", **geo)
            if hs:
                out["height_shift_range"] = L.RandomTranslation(hs, 0.0, seed=seed_(),
                                                                name="height_shift_range", **geo)
        if shear:
            k = shear_factor(shear)
            out["shear_range"] = L.RandomShear(x_factor=k, y_factor=0.0, seed=seed_(),
                                               name="shear_range", **geo)
        if zoom != (1.0, 1.0):
            f = (zoom[0] - 1.0, zoom[1] - 1.0)
            out["zoom_range"] = L.RandomZoom(f, f, seed=seed_(), name="zoom_range", **geo)
    if combine and hf and vf:
        out["flip"] = L.RandomFlip("horizontal_and_vertical", seed=seed_(), name="flip")
    else:
        if hf:
            out["horizontal_flip"] = L.RandomFlip("horizontal", seed=seed_(), name="horizontal_flip")
        if vf:
            out["vertical_flip"] = L.RandomFlip("vertical", seed=seed_(), name="vertical_flip")
    if s.get("brightness_range") is not None:
        lo, hi = _brightness_bounds(s["brightness_range"])
        out["brightness_range"] = RandomBrightnessScale(lo, hi, seed=seed_(), name="brightness_range")
    if s.get("brightness"):
        out["brightness"] = L.RandomBrightness(s["brightness"], value_range=(0, 255), seed=seed_(),
                                               name="brightness")
    if s.get("contrast"):
        out["contrast"] = L.RandomContrast(s["contrast"], value_range=(0, 255), seed=seed_(),
                                           name="contrast")
    if s.get("noise"):
        out["noise"] = RandomGaussianNoise(float(s["noise"]), seed=seed_(), name="noise")
    return out


def transform_layers(settings: Mapping[str, Any] = SOURCE_SETTINGS,
                     seed: int | None = None) -> dict[str, keras.layers.Layer]:
    """One named random layer per setting (setting name -> layer), to show each on its own.

    ``fill_mode``, ``cval``, ``interpolation`` configure the geometric layers; they make no
    layer themselves.

    >>> list(transform_layers(SOURCE_SETTINGS))
    ['rotation_range', 'width_shift_range', 'height_shift_range', 'shear_range', 'zoom_range', 'horizontal_flip']
    """
    return _layers(settings, seed, combine=False)


def build_augmentation(settings: Mapping[str, Any] = SOURCE_SETTINGS, seed: int | None = None,
                       fused: bool = False, name: str = "augmentation") -> keras.Sequential:
    """A ``keras.Sequential`` of random layers from ImageDataGenerator-style settings.

    Input and output: float images in [0, 255], shape kept (batched or not); the layers act
    only when called with ``training=True`` (``model.fit`` does that; in ``tf.data`` use
    :func:`augment_dataset`). Same ``seed`` -> same draws. ``fused=True`` does rotation,
    shift, shear, zoom and flips as one :class:`~seminar_utils.affine.RandomAffine` resampling
    (faster, same transforms).

    >>> aug = build_augmentation(SOURCE_SETTINGS, seed=0)
    >>> [layer.name for layer in aug.layers][:3]
    ['rotation_range', 'shift', 'shear_range']
    """
    layers = list(_layers(settings, seed, combine=True, fused=fused).values())
    layers.append(ClipToRange(0.0, 255.0, name="clip_0_255"))
    return keras.Sequential(layers, name=name)


# --------------------------------------------------------------------------- figures

def _as_numpy(x) -> np.ndarray:
    """A backend tensor or array as float32 NumPy."""
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float32)


def show_transforms(image: np.ndarray, settings: Mapping[str, Any] = SOURCE_SETTINGS, n: int = 4,
                    seed: int | None = 0, size: float = 1.7) -> Figure:
    """A grid: one row per transform (labelled with its setting), ``n`` random draws each.

    The first column is the original photo. Tip: exaggerate a setting to see what it does
    (the source's ``shear_range=0.2`` is 0.2 degrees: invisible).

    >>> fig = show_transforms(np.zeros((32, 32, 3)), {"rotation_range": 40, "zoom_range": 0.2}, n=2)
    >>> len(fig.axes)
    6
    """
    import matplotlib.pyplot as plt
    img = np.asarray(image, dtype=np.float32)
    if img.ndim != 3:
        raise ValueError(f"show_transforms needs one image (H, W, C); got shape {img.shape}.")
    layers = transform_layers(settings, seed)
    if not layers:
        raise ValueError(f"settings {dict(settings)!r} contain no transform to show.")
    batch = np.repeat(img[None], n, axis=0)
    fig, axes = plt.subplots(len(layers), n + 1, figsize=(size * (n + 1), size * len(layers)),
                             squeeze=False)
    for row, (key, layer) in zip(axes, layers.items()):
        out = np.clip(_as_numpy(layer(batch, training=True)), 0, 255)
        for j, ax in enumerate(row):
            ax.imshow((img if j == 0 else out[j - 1]) / 255.0)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(_label(key, settings), fontsize=8)
                ax.set_title("original", fontsize=8)
            else:
                ax.set_title(f"draw {j}", fontsize=8)
    fig.tight_layout()
    return fig


def show_augmented_batch(images: np.ndarray, augmentation: keras.layers.Layer, draws: int = 2,
                         max_images: int = 8, size: float = 1.7, title: str | None = None) -> Figure:
    """Originals in the top row, ``draws`` augmented versions of each below.

    >>> fig = show_augmented_batch(np.zeros((3, 32, 32, 3)), build_augmentation(seed=0), draws=1)
    >>> len(fig.axes)
    6
    """
    import matplotlib.pyplot as plt
    x = _as_numpy(images)[:max_images]
    if x.ndim != 4:
        raise ValueError(f"show_augmented_batch needs a batch (N, H, W, C); got shape {x.shape}.")
    k = len(x)
    fig, axes = plt.subplots(draws + 1, k, figsize=(size * k, size * (draws + 1)), squeeze=False)
    rows = [x] + [np.clip(_as_numpy(augmentation(x, training=True)), 0, 255) for _ in range(draws)]
    for r, (row_axes, imgs) in enumerate(zip(axes, rows)):
        for ax, im in zip(row_axes, imgs):
            ax.imshow(np.clip(im / 255.0, 0, 1))
            ax.set_xticks([])
            ax.set_yticks([])
        row_axes[0].set_ylabel("original" if r == 0 else f"augmented {r}", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- tf.data

def augment_dataset(ds: tf.data.Dataset, augmentation: keras.layers.Layer,
                    num_parallel_calls: int | None = None,
                    deterministic: bool | None = None) -> tf.data.Dataset:
    """Apply ``augmentation(images, training=True)`` to every batch of a ``tf.data.Dataset``.

    ``ds`` yields ``images`` or ``(images, labels[, weights])`` batches, normally the output of
    :func:`seminar_utils.data.image_folder_dataset` (decode once, cache, shuffle, batch): the
    augmentation comes after the cache, so every epoch gets new draws.
    Apply it to the training set only; the validation set stays as it is.

    >>> train_ds = augment_dataset(train_ds, build_augmentation())  # doctest: +SKIP
    """
    import tensorflow as tf
    calls = tf.data.AUTOTUNE if num_parallel_calls is None else num_parallel_calls

    def apply(images, *rest):
        images = augmentation(images, training=True)
        return (images, *rest) if rest else images

    return ds.map(apply, num_parallel_calls=calls,
                  deterministic=deterministic).prefetch(tf.data.AUTOTUNE)
