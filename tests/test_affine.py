"""Tests of seminar_utils.affine: the matrices, the XLA sampler against Keras's, RandomAffine."""

from __future__ import annotations

import math

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from seminar_utils import affine as F  # noqa: E402


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (6, 48, 48, 3)).astype("float32")
    x[:, :, :, 0] = np.linspace(0, 255, 48)[None, None, :]  # some structure, full 0-255 range
    return x


def _np(x) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


def test_shear_factor_is_tan_of_degrees():
    for deg in (0.2, 10, 20, 45):
        assert F.shear_factor(deg) == pytest.approx(math.tan(math.radians(deg)))
    assert F.shear_factor(0.2) * 150 < 0.6  # the source's 0.2 "degrees" moves 150 px by under a pixel
    with pytest.raises(ValueError, match="degrees"):
        F.shear_factor(60)


def test_zoom_bounds_reads_both_forms():
    assert F.zoom_bounds(0.2) == pytest.approx((0.8, 1.2))
    assert F.zoom_bounds([0.5, 1.0]) == (0.5, 1.0)
    for bad in (1.5, [1.2, 0.8], "0.2", [0.1, 0.2, 0.3]):
        with pytest.raises(ValueError, match="zoom_range"):
            F.zoom_bounds(bad)


def test_fused_affine_matrix_math():
    z = np.zeros(1, "float32")
    o = np.ones(1, "float32")
    k = math.tan(math.radians(20))
    # shear about the centre: output (cx, cy + d) samples input (cx + k d, cy + d)
    m = _np(F.affine_matrices(z, z, z, np.array([k], "float32"), o, o, 65, 65))[0]
    x, y = 32.0, 52.0
    assert m[0] * x + m[1] * y + m[2] == pytest.approx(32 + k * 20, abs=1e-4)
    assert m[3] * x + m[4] * y + m[5] == pytest.approx(52, abs=1e-4)
    # rotation by 90 degrees about the centre, zoom 2x about the centre, shift by (3, -4)
    m = _np(F.affine_matrices(np.array([np.pi / 2], "float32"), z, z, z, o, o, 65, 65))[0]
    assert (m[0] * 42 + m[1] * 32 + m[2], m[3] * 42 + m[4] * 32 + m[5]) == pytest.approx((32, 42), abs=1e-4)
    m = _np(F.affine_matrices(z, z, z, z, 2 * o, 2 * o, 65, 65))[0]
    assert (m[0] * 42 + m[2], m[4] * 22 + m[5]) == pytest.approx((52, 12), abs=1e-4)
    m = _np(F.affine_matrices(z, np.array([3.0], "float32"), np.array([-4.0], "float32"), z, o, o, 65, 65))[0]
    assert (m[2], m[5]) == pytest.approx((3, -4), abs=1e-5)


def _random_transforms(n: int, h: int, w: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    u = lambda lo, hi: rng.uniform(lo, hi, n).astype("float32")  # noqa: E731
    flip = np.sign(u(-1, 1)).astype("float32")
    return F.affine_matrices(u(-0.7, 0.7), u(-10, 10), u(-10, 10), u(-0.3, 0.3),
                             u(0.7, 1.3) * flip, u(0.7, 1.3), h, w)


@pytest.mark.parametrize("fill_mode", ["nearest", "reflect", "constant"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_sample_affine_matches_keras_affine_transform(images, fill_mode, interpolation):
    x = images[:, :40]  # not square: catches a swapped height / width
    m = _random_transforms(len(x), 40, 48)
    ref = _np(keras.ops.image.affine_transform(x, m, interpolation=interpolation,
                                               fill_mode=fill_mode, fill_value=7.0))
    np.testing.assert_allclose(F.sample_affine(x, m, fill_mode, 7.0, interpolation).numpy(), ref,
                               atol=1e-3)
    compiled = F._compiled_sampler(fill_mode, interpolation)(x, m, tf.constant(7.0)).numpy()
    np.testing.assert_allclose(compiled, ref, atol=1e-2)  # XLA fuses multiply-adds


def test_sample_affine_wrap_is_periodic():
    x = np.arange(5, dtype="float32").reshape(1, 1, 5, 1)
    shift = np.array([[1, 0, 7, 0, 1, 0, 0, 0]], "float32")  # output x samples input x + 7
    out = F.sample_affine(x, shift, "wrap", interpolation="nearest").numpy().ravel()
    assert out.tolist() == [2, 3, 4, 0, 1]


def test_fused_samplers_agree(images):
    xla = F.RandomAffine(40, 0.2, 0.2, 10, (0.8, 1.2), horizontal_flip=True, seed=4)
    ref = F.RandomAffine(40, 0.2, 0.2, 10, (0.8, 1.2), horizontal_flip=True, seed=4, sampler="keras")
    np.testing.assert_allclose(_np(xla(images, training=True)), _np(ref(images, training=True)),
                               atol=1e-2)


def test_fused_flips_are_exact_mirrors(images):
    layer = F.RandomAffine(horizontal_flip=True, vertical_flip=True, seed=0)
    x = np.concatenate([images] * 4)
    out = _np(layer(x, training=True))
    seen = set()
    for o, i in zip(out, x):
        kinds = {name for name, ref in [("same", i), ("h", i[:, ::-1]), ("v", i[::-1]),
                                        ("hv", i[::-1, ::-1])] if np.allclose(o, ref, atol=1e-3)}
        assert len(kinds) == 1, "each image is exactly one of the four flips"
        seen |= kinds
    assert seen == {"same", "h", "v", "hv"}
