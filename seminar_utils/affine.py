"""The fused affine sampler: rotation, shift, shear, zoom and flips as ONE resampling.

ImageDataGenerator composed its transforms into one matrix per image; Keras 3's random layers
resample once per transform (four or five passes). :class:`RandomAffine` draws the same
transforms, builds the matrices (:func:`affine_matrices`) and resamples once with
:func:`sample_affine`, compiled by XLA on the TensorFlow backend: about a tenth of the CPU
time of the layer chain (measured in perf/README.md). ``augment.build_augmentation(...,
fused=True)`` uses it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

import keras
import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["FILL_MODES", "shear_factor", "zoom_bounds", "sample_affine", "affine_matrices",
           "RandomAffine"]

FILL_MODES = ("nearest", "reflect", "constant", "wrap")


def shear_factor(degrees: float) -> float:
    """The shear slope for ImageDataGenerator's ``shear_range`` in degrees: tan(angle).

    ``keras.layers.RandomShear`` and :class:`RandomAffine` take this slope as their factor.
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


def zoom_bounds(zoom: Any) -> tuple[float, float]:
    """ImageDataGenerator's ``zoom_range`` as a (lo, hi) scale: a float z means [1 - z, 1 + z].

    >>> zoom_bounds(0.2), zoom_bounds([0.5, 1.0])
    ((0.8, 1.2), (0.5, 1.0))
    """
    if isinstance(zoom, (int, float)):
        lo, hi = 1 - float(zoom), 1 + float(zoom)
    elif isinstance(zoom, (tuple, list)) and len(zoom) == 2:
        lo, hi = float(zoom[0]), float(zoom[1])
    else:
        raise ValueError(f"zoom_range={zoom!r}: expected a float or [lo, hi].")
    if not 0 < lo <= hi:
        raise ValueError(f"zoom_range={zoom!r} gives scales [{lo}, {hi}]; need 0 < lo <= hi.")
    return lo, hi


def sample_affine(images: tf.Tensor | np.ndarray, transforms: tf.Tensor | np.ndarray,
                  fill_mode: str = "nearest", fill_value: float = 0.0,
                  interpolation: str = "bilinear") -> tf.Tensor:
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


def affine_matrices(theta: tf.Tensor | np.ndarray, tx: tf.Tensor | np.ndarray,
                    ty: tf.Tensor | np.ndarray, shear: tf.Tensor | np.ndarray,
                    zx: tf.Tensor | np.ndarray, zy: tf.Tensor | np.ndarray,
                    height: int | tf.Tensor, width: int | tf.Tensor) -> Any:
    """Per-image 8-parameter transforms (``keras.ops.image.affine_transform``) about the centre.

    Composes, like ImageDataGenerator: rotation(theta) . shift(tx, ty) . shear . zoom(zx, zy),
    mapping OUTPUT pixel (x, y) to the INPUT pixel it samples. ``theta`` in radians; ``tx``,
    ``ty`` in pixels; ``shear`` is the slope tan(angle); ``zx``, ``zy`` scales (> 1 zooms out),
    each a 1-D tensor (one value per image). Returns (N, 8), a backend tensor.

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
        self.zoom = zoom_bounds(tuple(zoom))
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

