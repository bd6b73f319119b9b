"""Data augmentation: ImageDataGenerator-style settings as Keras 3 layers, and mixup.

The source material augments with the Keras 2 ``ImageDataGenerator(rotation_range=40, ...)``,
which Keras 3 no longer has. :func:`build_augmentation` reads the same arguments and builds
the Keras 3 equivalent, a ``keras.Sequential`` of random preprocessing layers that runs on
whole batches inside ``tf.data`` (:func:`augment_dataset`) or as the first block of a model.

How each ImageDataGenerator argument maps (images are float32 in [0, 255]):

=====================  ==========================================================================
setting                Keras 3
=====================  ==========================================================================
rotation_range=40      ``RandomRotation(40 / 360)``: uniform angle in [-40, 40] degrees
width_shift_range=0.2  ``RandomTranslation(width_factor=0.2)``: shift by up to 20 % of the width
height_shift_range     ``RandomTranslation(height_factor=...)``
shear_range=0.2        ``RandomShear(x_factor=tan(radians(0.2)))``: ImageDataGenerator's shear is
                       an ANGLE IN DEGREES, RandomShear's factor is the slope (pixels moved
                       sideways per pixel of height), so factor = tan(angle). The source's 0.2
                       is therefore 0.2 degrees, a shear of 0.0035: under one pixel at 150 px.
zoom_range=0.2         ``RandomZoom((-0.2, 0.2), (-0.2, 0.2))``: independent x/y scale in [0.8, 1.2]
horizontal_flip=True   ``RandomFlip("horizontal")`` (``vertical_flip`` -> ``"vertical"``)
brightness_range       [lo, hi]: multiply the image by a factor drawn in [lo, hi], as
                       ImageDataGenerator does (:class:`RandomBrightnessScale`).
                       ``keras.layers.RandomBrightness`` instead ADDS ``factor * 255``; it is
                       available as the ``brightness`` setting.
contrast=0.2           ``RandomContrast(0.2, value_range=(0, 255))`` (no ImageDataGenerator twin)
noise=10.0             :class:`RandomGaussianNoise`: stddev in pixel units, only in training
                       (``keras.layers.GaussianNoise`` accepts stddev <= 1 only)
fill_mode, cval        ``fill_mode`` / ``fill_value`` of every geometric layer
rescale=1/255          not an augmentation: the model rescales (``keras.layers.Rescaling``), so the
                       setting is accepted and ignored with a warning
=====================  ==========================================================================

Every pipeline ends with :class:`ClipToRange` so the output stays in [0, 255].
``build_augmentation(..., fused=True)`` replaces the geometric layers (and the flips) by one
:class:`RandomAffine` that composes rotation, shift, shear and zoom into a single resampling,
as ImageDataGenerator itself does, and resamples with an XLA-compiled sampler: the same
transforms for about a tenth of the CPU time (see benchmarks/README.md). Use it to train;
the one-layer-per-transform pipeline is the one to read and to show.

Mixup (notebook 03): :func:`sample_beta` draws lambda ~ Beta(a, a) as g1 / (g1 + g2) from two
Gamma(a) samples; :func:`mixup_batch` mixes a batch with a shuffled copy of itself,
:func:`mixup_dataset` does it inside ``tf.data``; :func:`keras_mixup` is the same with the
built-in ``keras.layers.MixUp`` (Keras >= 3.8).
"""

from __future__ import annotations

import difflib
import math
import warnings
from typing import Any, Mapping, Sequence

import keras
import numpy as np

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
    "zoom_range": "float z (scale in [1-z, 1+z]) or [lo, hi] -> RandomZoom",
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

FILL_MODES = ("nearest", "reflect", "constant", "wrap")


# --------------------------------------------------------------------------- settings

def shear_factor(degrees: float) -> float:
    """RandomShear's factor for an ImageDataGenerator ``shear_range`` in degrees: tan(angle).

    A shear by angle a moves a pixel sideways by tan(a) pixels per pixel of height. (Keras 2's
    matrix ``[[1, -sin a], [0, cos a]]`` moves it by the same tan(a) per input row, plus a
    vertical stretch by 1 / cos(a): 6e-6 at the source's 0.2 degrees, 1.5 % at 10 degrees.)

    >>> round(shear_factor(45), 6), round(shear_factor(0.2), 5)
    (1.0, 0.00349)
    """
    if not 0 <= degrees <= 45:
        raise ValueError(f"shear_range is an angle in degrees and must be in [0, 45] "
                         f"(keras.layers.RandomShear takes factors up to tan(45)=1); got {degrees}.")
    return math.tan(math.radians(degrees))


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
        _zoom_bounds(out["zoom_range"])
    if "brightness_range" in out and out["brightness_range"] is not None:
        _brightness_bounds(out["brightness_range"])
    for key in ("contrast", "noise", "brightness"):
        if key in out and not isinstance(out[key], (int, float, tuple, list)):
            raise ValueError(f"{key}={out[key]!r}: expected a number.")
    return out


def _zoom_bounds(z: Any) -> tuple[float, float]:
    """ImageDataGenerator's zoom_range -> (lo, hi) scale: float z means [1 - z, 1 + z]."""
    if isinstance(z, (int, float)):
        lo, hi = 1 - float(z), 1 + float(z)
    elif isinstance(z, (tuple, list)) and len(z) == 2:
        lo, hi = float(z[0]), float(z[1])
    else:
        raise ValueError(f"zoom_range={z!r}: expected a float or [lo, hi].")
    if not 0 < lo <= hi:
        raise ValueError(f"zoom_range={z!r} gives scales [{lo}, {hi}]; need 0 < lo <= hi.")
    return lo, hi


def _brightness_bounds(b: Any) -> tuple[float, float]:
    if not (isinstance(b, (tuple, list)) and len(b) == 2 and 0 <= float(b[0]) <= float(b[1])):
        raise ValueError(f"brightness_range={b!r}: expected [lo, hi] with 0 <= lo <= hi "
                         f"(multiplicative, 1.0 = unchanged).")
    return float(b[0]), float(b[1])


def describe_settings(settings: Mapping[str, Any] = SOURCE_SETTINGS) -> list[tuple[str, str]]:
    """(ImageDataGenerator argument, Keras 3 layer call) pairs for a settings dict.

    >>> describe_settings({"rotation_range": 40})[0]
    ('rotation_range=40', 'RandomRotation(factor=(-0.1111, 0.1111), fill_mode=nearest)')
    """
    rows = []
    for name, layer in transform_layers(settings).items():
        rows.append((_label(name, settings), _layer_call(layer)))
    return rows


def _label(name: str, settings: Mapping[str, Any]) -> str:
    keys = {"shift": ("width_shift_range", "height_shift_range"),
            "flip": ("horizontal_flip", "vertical_flip")}.get(name, (name,))
    return ", ".join(f"{k}={settings[k]!r}" for k in keys if k in settings and settings[k])


def _layer_call(layer: keras.layers.Layer) -> str:
    keep = {"factor", "height_factor", "width_factor", "x_factor", "mode", "fill_mode",
            "value_range", "stddev", "lower", "upper", "rotation", "shear", "zoom",
            "width_shift", "height_shift"}
    cfg = layer.get_config()
    args = []
    for k, v in cfg.items():
        if k not in keep or v is None:
            continue
        if isinstance(v, float):
            v = round(v, 4)
        elif isinstance(v, (tuple, list)):
            v = tuple(round(x, 4) if isinstance(x, float) else x for x in v)
        args.append(f"{k}={v}")
    return f"{type(layer).__name__}({', '.join(args)})"


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


def sample_affine(images, transforms, fill_mode: str = "nearest", fill_value: float = 0.0,
                  interpolation: str = "bilinear"):
    """Resample a batch through per-image 8-parameter transforms: ``affine_transform`` in TF ops.

    Same result as ``keras.ops.image.affine_transform`` up to float rounding, except for
    ``fill_mode="wrap"``: here the image repeats with a period of exactly its size, as
    documented, where TensorFlow's kernel clamps some points far outside. Written as four
    gathers so that XLA can compile it: :class:`RandomAffine` runs it with
    ``jit_compile=True``, about 4x less CPU than TensorFlow's projective-transform kernel.
    TensorFlow backend only; ``images`` (N, H, W, C), ``transforms`` (N, 8).

    >>> eye = np.array([[1, 0, 0, 0, 1, 0, 0, 0]], "float32")
    >>> img = np.arange(12, dtype="float32").reshape(1, 2, 2, 3)
    >>> bool((sample_affine(img, eye).numpy() == img).all())
    True
    """
    import tensorflow as tf
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode={fill_mode!r}; expected one of {FILL_MODES}.")
    images = tf.convert_to_tensor(images)
    dtype = images.dtype
    images = tf.cast(images, tf.float32)
    shape = tf.shape(images)
    n, h, w, ch = shape[0], shape[1], shape[2], shape[3]
    ys, xs = tf.meshgrid(tf.range(h, dtype=tf.float32), tf.range(w, dtype=tf.float32), indexing="ij")
    xs, ys = tf.reshape(xs, [1, -1]), tf.reshape(ys, [1, -1])
    t = tf.cast(tf.convert_to_tensor(transforms), tf.float32)
    k = t[:, 6:7] * xs + t[:, 7:8] * ys + 1.0
    xin = (t[:, 0:1] * xs + t[:, 1:2] * ys + t[:, 2:3]) / k
    yin = (t[:, 3:4] * xs + t[:, 4:5] * ys + t[:, 5:6]) / k
    flat = tf.reshape(images, [n, h * w, ch])

    def index(i, size):
        """Map integer pixel indices into [0, size) for the fill mode; plus a validity mask."""
        if fill_mode == "wrap":
            return tf.math.floormod(i, size), None
        if fill_mode == "reflect":  # (d c b a | a b c d | d c b a)
            p = tf.math.floormod(i, 2 * size)
            return tf.where(p < size, p, 2 * size - 1 - p), None
        valid = (i >= 0) & (i < size) if fill_mode == "constant" else None
        return tf.clip_by_value(i, 0, size - 1), valid

    def read(yi, xi):
        (yy, vy), (xx, vx) = index(yi, h), index(xi, w)
        v = tf.gather(flat, yy * w + xx, batch_dims=1)
        if vy is not None:
            v = tf.where((vy & vx)[..., None], v, tf.cast(fill_value, tf.float32))
        return v

    if interpolation == "nearest":
        out = read(tf.cast(tf.round(yin), tf.int32), tf.cast(tf.round(xin), tf.int32))
    else:
        x0f, y0f = tf.floor(xin), tf.floor(yin)
        wx, wy = (xin - x0f)[..., None], (yin - y0f)[..., None]
        x0, y0 = tf.cast(x0f, tf.int32), tf.cast(y0f, tf.int32)
        top = read(y0, x0) * (1.0 - wx) + read(y0, x0 + 1) * wx
        bottom = read(y0 + 1, x0) * (1.0 - wx) + read(y0 + 1, x0 + 1) * wx
        out = top + (bottom - top) * wy
    return tf.cast(tf.reshape(out, shape), dtype)


_COMPILED: dict[tuple[str, str], Any] = {}


def _compiled_sampler(fill_mode: str, interpolation: str):
    """``sample_affine`` under ``tf.function(jit_compile=True)``, one per fill mode (cached)."""
    import tensorflow as tf
    key = (fill_mode, interpolation)
    if key not in _COMPILED:
        _COMPILED[key] = tf.function(
            lambda images, transforms, fill_value: sample_affine(
                images, transforms, fill_mode, fill_value, interpolation),
            jit_compile=True, reduce_retracing=True)
    return _COMPILED[key]


def affine_matrices(theta, tx, ty, shear, zx, zy, height: int, width: int):
    """Per-image 8-parameter transforms (``keras.ops.image.affine_transform``) about the centre.

    Composes, like ImageDataGenerator: rotation(theta) . shift(tx, ty) . shear . zoom(zx, zy),
    mapping OUTPUT pixel (x, y) to the INPUT pixel it samples. ``theta`` in radians; ``tx``,
    ``ty`` in pixels; ``shear`` is the slope tan(angle); ``zx``, ``zy`` scales (> 1 zooms out).
    All arguments are 1-D tensors (one value per image).

    >>> m = affine_matrices(*[np.zeros(1, "float32")] * 4, np.ones(1, "float32"),
    ...                     np.ones(1, "float32"), 5, 5)
    >>> keras.ops.convert_to_numpy(m).round(3).tolist()   # the identity
    [[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]]
    """
    ops = keras.ops
    cx = (ops.cast(width, "float32") - 1.0) / 2.0
    cy = (ops.cast(height, "float32") - 1.0) / 2.0
    c, s = ops.cos(theta), ops.sin(theta)
    # L = R . Sh . Z with R = [[c, -s], [s, c]], Sh = [[1, k], [0, 1]], Z = diag(zx, zy)
    a0, a1 = c * zx, (c * shear - s) * zy
    b0, b1 = s * zx, (s * shear + c) * zy
    # p_in = L (p_out - centre) + R t + centre
    a2 = cx - a0 * cx - a1 * cy + c * tx - s * ty
    b2 = cy - b0 * cx - b1 * cy + s * tx + c * ty
    zero = ops.zeros_like(a0)
    return ops.stack([a0, a1, a2, b0, b1, b2, zero, zero], axis=1)


@keras.saving.register_keras_serializable(package="seminar_utils")
class RandomAffine(keras.layers.Layer):
    """Rotation, shift, shear, zoom (and flips) drawn per image and applied as ONE resampling.

    What ImageDataGenerator does, and what RandomRotation + RandomTranslation + RandomShear
    + RandomZoom (+ RandomFlip) do in four (five) passes. ``rotation`` and ``shear`` in
    degrees (shear about the image centre, slope tan(shear)); shifts as fractions; ``zoom`` =
    (lo, hi) scale; a flip is a zoom by -1 about the centre, so it costs nothing extra.
    ``sampler``: ``"auto"`` resamples with :func:`sample_affine` compiled by XLA on the
    TensorFlow backend (about 4x less CPU than ``keras.ops.image.affine_transform``, which
    ``"keras"`` uses and which other backends always use).

    >>> layer = RandomAffine(rotation=40, width_shift=0.2, height_shift=0.2, zoom=(0.8, 1.2))
    >>> layer(np.zeros((2, 32, 32, 3), "float32"), training=True).shape
    TensorShape([2, 32, 32, 3])
    """

    def __init__(self, rotation: float = 0.0, width_shift: float = 0.0, height_shift: float = 0.0,
                 shear: float = 0.0, zoom: Sequence[float] = (1.0, 1.0), fill_mode: str = "nearest",
                 fill_value: float = 0.0, interpolation: str = "bilinear",
                 horizontal_flip: bool = False, vertical_flip: bool = False,
                 seed: int | None = None, sampler: str = "auto", **kwargs):
        super().__init__(**kwargs)
        if fill_mode not in FILL_MODES:
            raise ValueError(f"fill_mode={fill_mode!r}; expected one of {FILL_MODES}.")
        if sampler not in ("auto", "xla", "keras"):
            raise ValueError(f"sampler={sampler!r}; expected 'auto', 'xla' or 'keras'.")
        if sampler == "xla" and keras.backend.backend() != "tensorflow":
            raise ValueError("sampler='xla' needs the TensorFlow backend; use 'keras'.")
        self.sampler = sampler
        self.rotation, self.shear = float(rotation), float(shear)
        shear_factor(self.shear)
        self.width_shift, self.height_shift = float(width_shift), float(height_shift)
        self.zoom = _zoom_bounds(tuple(zoom))
        self.fill_mode, self.fill_value = fill_mode, float(fill_value)
        self.interpolation = interpolation
        self.horizontal_flip, self.vertical_flip = bool(horizontal_flip), bool(vertical_flip)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training:
            return images
        ops = keras.ops
        images = ops.cast(images, self.compute_dtype)
        batched = len(ops.shape(images)) == 4
        if not batched:
            images = ops.expand_dims(images, 0)
        shape = ops.shape(images)
        n, h, w = shape[0], shape[1], shape[2]

        def draw(lo, hi):
            return keras.random.uniform((n,), lo, hi, dtype="float32", seed=self.seed_generator)

        rad = math.radians(self.rotation)
        theta = draw(-rad, rad)
        tx = draw(-self.width_shift, self.width_shift) * ops.cast(w, "float32")
        ty = draw(-self.height_shift, self.height_shift) * ops.cast(h, "float32")
        k = shear_factor(self.shear)
        shear = draw(-k, k)
        zx, zy = draw(*self.zoom), draw(*self.zoom)
        if self.horizontal_flip:
            zx = zx * ops.where(draw(0.0, 1.0) < 0.5, -1.0, 1.0)
        if self.vertical_flip:
            zy = zy * ops.where(draw(0.0, 1.0) < 0.5, -1.0, 1.0)
        m = affine_matrices(theta, tx, ty, shear, zx, zy, h, w)
        if self._use_xla():
            out = _compiled_sampler(self.fill_mode, self.interpolation)(
                images, m, ops.convert_to_tensor(self.fill_value, "float32"))
        else:
            out = ops.image.affine_transform(images, m, interpolation=self.interpolation,
                                             fill_mode=self.fill_mode, fill_value=self.fill_value)
        return out if batched else out[0]

    def _use_xla(self) -> bool:
        if self.sampler == "auto":
            return keras.backend.backend() == "tensorflow"
        return self.sampler == "xla"

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rotation": self.rotation, "width_shift": self.width_shift,
                "height_shift": self.height_shift, "shear": self.shear, "zoom": self.zoom,
                "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                "interpolation": self.interpolation, "horizontal_flip": self.horizontal_flip,
                "vertical_flip": self.vertical_flip, "seed": self.seed, "sampler": self.sampler}


# --------------------------------------------------------------------------- builders

def _layers(settings: Mapping[str, Any], seed: int | None, combine: bool,
            fused: bool = False) -> dict[str, keras.layers.Layer]:
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
    zoom = _zoom_bounds(s["zoom_range"]) if s.get("zoom_range") else (1.0, 1.0)
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
            if not hasattr(L, "RandomShear"):  # pragma: no cover - Keras < 3.8
                raise RuntimeError(f"keras.layers.RandomShear needs Keras >= 3.8 (installed: "
                                   f"{keras.__version__}); upgrade Keras or use fused=True.")
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
    shift, shear, zoom and flips as one :class:`RandomAffine` resampling (faster, same transforms).

    >>> aug = build_augmentation(SOURCE_SETTINGS, seed=0)
    >>> [layer.name for layer in aug.layers][:3]
    ['rotation_range', 'shift', 'shear_range']
    """
    layers = list(_layers(settings, seed, combine=True, fused=fused).values())
    layers.append(ClipToRange(0.0, 255.0, name="clip_0_255"))
    return keras.Sequential(layers, name=name)


# --------------------------------------------------------------------------- figures

def _as_numpy(x) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float32)


def show_transforms(image: np.ndarray, settings: Mapping[str, Any] = SOURCE_SETTINGS, n: int = 4,
                    seed: int | None = 0, size: float = 1.7):
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
                         max_images: int = 8, size: float = 1.7, title: str | None = None):
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

def augment_dataset(ds, augmentation, num_parallel_calls: int | None = None,
                    deterministic: bool | None = None):
    """Apply ``augmentation(images, training=True)`` to every batch of a ``tf.data.Dataset``.

    ``ds`` yields ``images`` or ``(images, labels[, weights])`` batches, normally the output of
    :func:`seminar_utils.data.image_folder_dataset` or ``array_dataset`` (decode once, cache,
    shuffle, batch): the augmentation comes after the cache, so every epoch gets new draws.
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


# --------------------------------------------------------------------------- mixup

def _seed_pair(seed):
    import tensorflow as tf
    if isinstance(seed, (int, np.integer)):
        return tf.constant([int(seed), 0], dtype=tf.int64)
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    return tf.reshape(seed, [2])


def sample_beta(alpha: float, size, seed=None):
    """``size`` draws of lambda ~ Beta(alpha, alpha) as g1 / (g1 + g2), g1, g2 ~ Gamma(alpha).

    TensorFlow ops, so it runs inside ``tf.data``. ``seed``: None (stateful, like the source's
    ``tf.random.gamma``), an int, or a shape-[2] integer tensor (stateless: same seed, same
    draws). Mean 1/2, variance 1 / (4 (2 alpha + 1)).

    >>> lam = sample_beta(0.2, 5, seed=1)
    >>> bool(((lam >= 0) & (lam <= 1)).numpy().all())
    True
    """
    import tensorflow as tf
    if not float(alpha) > 0:
        raise ValueError(f"alpha must be > 0; got {alpha}.")
    shape = tf.reshape(tf.cast(size, tf.int32), [1])
    if seed is None:
        g1 = tf.random.gamma(shape, alpha)
        g2 = tf.random.gamma(shape, alpha)
    else:
        seeds = tf.random.experimental.stateless_split(_seed_pair(seed), 2)
        g1 = tf.random.stateless_gamma(shape, seeds[0], alpha)
        g2 = tf.random.stateless_gamma(shape, seeds[1], alpha)
    total = g1 + g2
    # for tiny alpha both Gamma draws can underflow to 0: call that pair an even mix
    return tf.where(total > 0, g1 / tf.where(total > 0, total, 1.0), 0.5)


def _mix(x1, y1, x2, y2, lam):
    import tensorflow as tf
    x1, x2 = tf.cast(x1, tf.float32), tf.cast(x2, tf.float32)
    y1, y2 = tf.cast(y1, tf.float32), tf.cast(y2, tf.float32)
    lx = tf.reshape(lam, tf.concat([tf.shape(lam), tf.ones([tf.rank(x1) - 1], tf.int32)], 0))
    ly = tf.reshape(lam, tf.concat([tf.shape(lam), tf.ones([tf.rank(y1) - 1], tf.int32)], 0))
    x = lx * x1 + (1.0 - lx) * x2
    # a convex combination stays within its two inputs; clip away float rounding
    x = tf.clip_by_value(x, tf.minimum(x1, x2), tf.maximum(x1, x2))
    return x, ly * y1 + (1.0 - ly) * y2


def _one_hot(labels, num_classes: int | None):
    import tensorflow as tf
    labels = tf.convert_to_tensor(labels)
    if labels.dtype.is_integer:
        if num_classes is None:
            raise ValueError("mixup needs one-hot (float) labels: pass num_classes to one-hot "
                             "the integer labels.")
        return tf.one_hot(tf.reshape(tf.cast(labels, tf.int32), [-1]), num_classes)
    return tf.cast(labels, tf.float32)


def mixup_batch(images, labels, alpha: float = 0.2, seed=None, num_classes: int | None = None,
                return_lambda: bool = False):
    """Mix a batch with a shuffled copy of itself: x = l x_i + (1 - l) x_j, same for labels.

    ``labels`` one-hot floats (or integers with ``num_classes``); l ~ Beta(alpha, alpha) per
    example (:func:`sample_beta`). Mixed labels still sum to 1; images stay in their range.

    >>> x, y = mixup_batch(np.ones((4, 8, 8, 3)), np.eye(2)[[0, 1, 0, 1]], seed=0)
    >>> np.allclose(y.numpy().sum(axis=1), 1)
    True
    """
    import tensorflow as tf
    images = tf.convert_to_tensor(images)
    labels = _one_hot(labels, num_classes)
    n = tf.shape(images)[0]
    if seed is None:
        perm = tf.random.shuffle(tf.range(n))
        lam = sample_beta(alpha, n)
    else:
        s_perm, s_lam = tf.unstack(tf.random.experimental.stateless_split(_seed_pair(seed), 2))
        perm = tf.argsort(tf.random.stateless_uniform(tf.reshape(n, [1]), s_perm))
        lam = sample_beta(alpha, n, s_lam)
    x, y = _mix(images, labels, tf.gather(images, perm), tf.gather(labels, perm), lam)
    return (x, y, lam) if return_lambda else (x, y)


def mixup_dataset(ds, alpha: float = 0.2, num_classes: int | None = None, seed: int | None = None,
                  partner=None, num_parallel_calls: int | None = None):
    """Mixup inside ``tf.data`` on ``(images, labels)`` batches.

    Without ``partner`` each batch is mixed with a shuffled copy of itself
    (:func:`mixup_batch`, what ``keras.layers.MixUp`` does). With ``partner`` (a second,
    differently shuffled copy of the data, batched the same way) batches are zipped and mixed
    pairwise, as the source notebook did. ``seed``: reproducible draws, new ones each epoch.

    >>> train_ds = mixup_dataset(train_ds, alpha=0.2, num_classes=10, seed=0)  # doctest: +SKIP
    """
    import tensorflow as tf
    calls = tf.data.AUTOTUNE if num_parallel_calls is None else num_parallel_calls
    parts = [ds] if partner is None else [ds, partner]
    if seed is not None:
        parts.append(tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2))
    zipped = tf.data.Dataset.zip(tuple(parts)) if len(parts) > 1 else ds

    def mix(*elem):
        s = elem[-1] if seed is not None else None
        if partner is None:
            (x, y) = elem[0] if seed is not None else elem
            return mixup_batch(x, y, alpha, seed=s, num_classes=num_classes)
        (x1, y1), (x2, y2) = elem[0], elem[1]
        y1, y2 = _one_hot(y1, num_classes), _one_hot(y2, num_classes)
        m = tf.minimum(tf.shape(x1)[0], tf.shape(x2)[0])
        lam = sample_beta(alpha, m, s)
        return _mix(x1[:m], y1[:m], x2[:m], y2[:m], lam)

    return zipped.map(mix, num_parallel_calls=calls).prefetch(tf.data.AUTOTUNE)


def keras_mixup(images, labels, alpha: float = 0.2, seed: int | None = None,
                num_classes: int | None = None):
    """The same with ``keras.layers.MixUp`` (Keras >= 3.8), which takes a dict of images and labels.

    ``keras.layers.MixUp(alpha)({"images": x, "labels": y_onehot}, training=True)`` returns a
    dict with the mixed ``"images"`` and ``"labels"``; it also pairs each example with a
    shuffled copy of the batch and draws its weight from Beta(alpha, alpha).

    >>> x, y = keras_mixup(np.ones((4, 8, 8, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]])
    >>> tuple(x.shape), tuple(y.shape)
    ((4, 8, 8, 3), (4, 2))
    """
    if not hasattr(keras.layers, "MixUp"):  # pragma: no cover - Keras < 3.8
        raise RuntimeError(f"keras.layers.MixUp needs Keras >= 3.8 (installed: {keras.__version__}); "
                           f"use mixup_batch instead.")
    labels = _one_hot(labels, num_classes)
    out = keras.layers.MixUp(alpha=alpha, seed=seed)({"images": images, "labels": labels},
                                                      training=True)
    return out["images"], out["labels"]
