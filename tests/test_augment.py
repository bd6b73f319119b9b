"""Tests of seminar_utils.augment: the ImageDataGenerator mapping, its layers, figures, tf.data."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from seminar_utils import augment as A  # noqa: E402

# every setting that makes a layer, exaggerated so that each one visibly acts
ALL_SETTINGS = {
    "rotation_range": 30, "width_shift_range": 0.2, "height_shift_range": 0.2, "shear_range": 20,
    "zoom_range": 0.2, "horizontal_flip": True, "vertical_flip": True,
    "brightness_range": [0.5, 1.5], "brightness": 0.2, "contrast": 0.5, "noise": 20.0,
    "fill_mode": "reflect",
}


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (6, 48, 48, 3)).astype("float32")
    x[:, :, :, 0] = np.linspace(0, 255, 48)[None, None, :]  # some structure, full 0-255 range
    return x


def _np(x) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


def _batches(x: np.ndarray, y: np.ndarray, batch_size: int):
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)


# --------------------------------------------------------------------------- builder

@pytest.mark.parametrize("fused", [False, True])
def test_source_settings_keep_shape_and_range(images, fused):
    aug = A.build_augmentation(A.SOURCE_SETTINGS, seed=0, fused=fused)
    out = _np(aug(images, training=True))
    assert out.shape == images.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 255.0
    assert not np.allclose(out, images)  # it did transform
    fresh = A.build_augmentation(A.SOURCE_SETTINGS, seed=0, fused=fused)
    assert _np(fresh(images[0], training=True)).shape == images[0].shape  # one unbatched image


def test_source_settings_layers():
    assert A.SOURCE_SETTINGS == dict(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2,
                                     shear_range=0.2, zoom_range=0.2, horizontal_flip=True,
                                     fill_mode="nearest")
    aug = A.build_augmentation(A.SOURCE_SETTINGS)
    names = [layer.name for layer in aug.layers]
    assert names == ["rotation_range", "shift", "shear_range", "zoom_range", "horizontal_flip",
                     "clip_0_255"]
    rot = aug.get_layer("rotation_range")
    assert isinstance(rot, keras.layers.RandomRotation)
    assert rot.get_config()["factor"] == pytest.approx((-40 / 360, 40 / 360))
    assert rot.fill_mode == "nearest"
    zoom = aug.get_layer("zoom_range").get_config()
    assert zoom["height_factor"] == pytest.approx((-0.2, 0.2))
    assert zoom["width_factor"] == pytest.approx((-0.2, 0.2))  # independent x/y, as ImageDataGenerator
    shift = aug.get_layer("shift").get_config()
    assert shift["height_factor"] == pytest.approx(0.2)  # RandomTranslation: float f -> [-f, f]
    assert shift["width_factor"] == pytest.approx(0.2)
    fused = A.build_augmentation(A.SOURCE_SETTINGS, fused=True)
    assert [layer.name for layer in fused.layers] == ["affine", "clip_0_255"]
    assert fused.get_layer("affine").horizontal_flip and not fused.get_layer("affine").vertical_flip


@pytest.mark.parametrize("key", list(A.transform_layers(ALL_SETTINGS)))
def test_each_single_transform_keeps_shape_and_range(images, key):
    layer = A.transform_layers(ALL_SETTINGS, seed=1)[key]
    assert layer.name == key
    out = _np(layer(images, training=True))
    assert out.shape == images.shape
    assert out.min() >= -1e-3 and out.max() <= 255.0 + 1e-3
    assert not np.allclose(out, images), f"{key} did nothing"
    # inference: every random layer is the identity
    np.testing.assert_array_equal(_np(layer(images, training=False)), images)


def test_all_transforms_in_one_pipeline_stay_in_range(images):
    aug = A.build_augmentation(ALL_SETTINGS, seed=2)
    out = _np(aug(images, training=True))
    assert out.shape == images.shape and 0 <= out.min() and out.max() <= 255
    np.testing.assert_array_equal(_np(aug(images, training=False)), images)


def test_brightness_range_is_multiplicative():
    layer = A.RandomBrightnessScale(0.8, 1.0, seed=0)
    x = np.full((200, 4, 4, 3), 100.0, "float32")
    x[:, 0, 0, :] = 200.0
    out = _np(layer(x, training=True))
    ratio = out[:, 0, 0, 0] / out[:, 1, 1, 0]
    np.testing.assert_allclose(ratio, 2.0, rtol=1e-5)  # a factor, not an offset
    factors = out[:, 1, 1, 0] / 100.0
    assert 0.8 <= factors.min() < 0.82 and 0.98 < factors.max() <= 1.0


def test_seeded_builds_are_reproducible(images):
    a = _np(A.build_augmentation(ALL_SETTINGS, seed=7)(images, training=True))
    b = _np(A.build_augmentation(ALL_SETTINGS, seed=7)(images, training=True))
    c = _np(A.build_augmentation(ALL_SETTINGS, seed=8)(images, training=True))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    f1 = _np(A.build_augmentation(A.SOURCE_SETTINGS, seed=3, fused=True)(images, training=True))
    f2 = _np(A.build_augmentation(A.SOURCE_SETTINGS, seed=3, fused=True)(images, training=True))
    np.testing.assert_array_equal(f1, f2)


def test_unknown_setting_is_a_clear_error():
    given = {"rotation_range": 10, "fill_mode": "reflect"}
    checked = A.check_settings(given)
    assert checked == given and checked is not given  # valid settings: a plain copy
    with pytest.raises(ValueError) as e:
        A.build_augmentation({"rotaton_range": 40})
    msg = str(e.value)
    assert "Unknown augmentation setting 'rotaton_range'" in msg
    assert "Did you mean 'rotation_range'" in msg
    for key in A.SETTINGS_HELP:
        assert key in msg
    with pytest.raises(ValueError, match="featurewise_center.*Normalization"):
        A.build_augmentation({"featurewise_center": True})
    with pytest.raises(ValueError, match="fill_mode"):
        A.build_augmentation({"rotation_range": 10, "fill_mode": "mirror"})
    with pytest.raises(ValueError, match="fraction"):
        A.build_augmentation({"width_shift_range": 30})
    with pytest.raises(ValueError, match="degrees"):
        A.build_augmentation({"shear_range": 60})


def test_rescale_is_accepted_and_ignored():
    with pytest.warns(UserWarning, match="rescal"):
        aug = A.build_augmentation({"rescale": 1 / 255, "horizontal_flip": True})
    assert [layer.name for layer in aug.layers] == ["horizontal_flip", "clip_0_255"]


def test_describe_settings_maps_source_to_layers():
    rows = dict(A.describe_settings(A.SOURCE_SETTINGS))
    assert rows["rotation_range=40"].startswith("RandomRotation(")
    assert "x_factor=(-0.0035, 0.0035)" in rows["shear_range=0.2"]


def test_layer_ranges_compare_a_hand_written_pipeline_with_the_builder():
    L = keras.layers
    k = math.tan(math.radians(0.2))
    hand = keras.Sequential([
        L.RandomFlip("horizontal"),                          # order and names do not matter
        L.RandomRotation(40 / 360, fill_mode="nearest"),
        L.RandomTranslation(0.2, 0.0, fill_mode="nearest"),  # one layer per axis is merged
        L.RandomTranslation(0.0, 0.2, fill_mode="nearest"),
        L.RandomShear(x_factor=k, y_factor=0.0, fill_mode="nearest"),
        L.RandomZoom((-0.2, 0.2), (-0.2, 0.2), fill_mode="nearest"),
    ])
    built = A.layer_ranges(A.build_augmentation(A.SOURCE_SETTINGS, seed=0))
    assert A.layer_ranges(hand) == built
    assert built["RandomTranslation"] == {"height_factor": (-0.2, 0.2), "width_factor": (-0.2, 0.2),
                                          "fill_mode": "nearest"}
    assert "ClipToRange" not in built  # only the random layers
    # a keep-aspect zoom (width_factor None) or another fill mode is a visible difference
    other = A.layer_ranges(keras.Sequential([L.RandomZoom(0.2), L.RandomRotation(40 / 360)]))
    assert other["RandomZoom"] == {"height_factor": (-0.2, 0.2), "fill_mode": "reflect"}
    assert other["RandomRotation"] != built["RandomRotation"]
    # two different ranges for one type are both kept, so they cannot pass for either
    both = A.layer_ranges(keras.Sequential([L.RandomRotation(0.1), L.RandomRotation(0.2)]))
    assert both["RandomRotation"]["factor"] == ((-0.1, 0.1), (-0.2, 0.2))
    fused = A.layer_ranges(A.build_augmentation(A.SOURCE_SETTINGS, fused=True))
    assert fused == {"RandomAffine": {"rotation": 40.0, "width_shift": 0.2, "height_shift": 0.2,
                                      "shear": 0.2, "zoom": (0.8, 1.2), "fill_mode": "nearest"}}


# --------------------------------------------------------------------------- shear: degrees -> factor

def test_shear_range_is_degrees_and_becomes_a_random_shear_slope():
    layer = A.transform_layers({"shear_range": 0.2})["shear_range"]
    assert isinstance(layer, keras.layers.RandomShear)
    k = math.tan(math.radians(0.2))
    assert layer.x_factor == pytest.approx((-k, k)) and layer.y_factor == pytest.approx((0, 0))
    assert k * 150 < 0.6  # the source's 0.2 "degrees" moves a 150 px image by under a pixel


def _line_columns(img: np.ndarray, rows) -> np.ndarray:
    w = img[rows, :, 0]
    return (w * np.arange(img.shape[1])).sum(axis=1) / w.sum(axis=1)


def test_random_shear_moves_points_by_tan_angle():
    deg, n, size = 20.0, 128, 64
    k = math.tan(math.radians(deg))
    x = np.zeros((n, size, size, 1), "float32")
    x[:, :, 32, :] = 255.0  # a vertical line
    layer = A.transform_layers({"shear_range": deg, "fill_mode": "constant"}, seed=0)["shear_range"]
    out = _np(layer(x, training=True))
    slopes = np.array([np.diff(_line_columns(o, [0, size - 1]))[0] / (size - 1) for o in out])
    # each image is sheared by a slope drawn in [-tan(20), tan(20)]: the line stays straight
    # and its top-to-bottom displacement reaches, but never exceeds, tan(20 deg) * height
    assert np.abs(slopes).max() <= k + 0.01
    assert np.abs(slopes).max() >= 0.95 * k
    mid = np.array([_line_columns(o, [size // 2])[0] for o in out])
    top = np.array([_line_columns(o, [0])[0] for o in out])
    np.testing.assert_allclose(mid - top, slopes * (size // 2), atol=0.05)


def test_custom_layers_serialise():
    aug = A.build_augmentation({**ALL_SETTINGS, "shear_range": 5}, seed=0, fused=True)
    clone = keras.Sequential.from_config(aug.get_config())
    assert [type(layer).__name__ for layer in clone.layers] == [type(layer).__name__ for layer in aug.layers]
    assert clone.get_layer("affine").get_config()["zoom"] == (0.8, 1.2)


def test_saved_models_keep_the_registered_layer_names(tmp_path, images):
    """A .keras file names custom layers "seminar_utils>Class": moving a class keeps them loadable."""
    aug = A.build_augmentation({**ALL_SETTINGS, "shear_range": 5}, seed=0, fused=True)
    model = keras.Sequential([keras.Input(images.shape[1:]), aug, keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    names = {keras.saving.get_registered_name(type(layer)) for layer in aug.layers}
    assert {"seminar_utils>RandomAffine", "seminar_utils>RandomBrightnessScale",
            "seminar_utils>RandomGaussianNoise", "seminar_utils>ClipToRange"} <= names
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(_np(loaded(images)), _np(model(images)), atol=1e-4)
    assert [type(layer) for layer in loaded.layers[0].layers] == [type(layer) for layer in aug.layers]


# --------------------------------------------------------------------------- figures

def test_show_transforms_and_batch(images):
    import matplotlib.pyplot as plt
    fig = A.show_transforms(images[0], A.SOURCE_SETTINGS, n=3)
    assert len(fig.axes) == 6 * 4
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert labels[0] == "rotation_range=40" and "horizontal_flip=True" in labels
    plt.close(fig)
    fig = A.show_augmented_batch(images[:4], A.build_augmentation(seed=0), draws=2)
    assert len(fig.axes) == 4 * 3
    plt.close(fig)
    with pytest.raises(ValueError, match="one image"):
        A.show_transforms(images, A.SOURCE_SETTINGS)


# --------------------------------------------------------------------------- tf.data

def test_augment_dataset_changes_train_only(images):
    x = np.concatenate([images] * 2)
    y = np.arange(len(x)) % 2
    train = _batches(x, y, batch_size=4)
    val = _batches(x, y, batch_size=4)
    aug_train = A.augment_dataset(train, A.build_augmentation(A.SOURCE_SETTINGS, seed=0))
    for (xa, ya), (xr, yr) in zip(aug_train, train):
        assert xa.shape == xr.shape and xa.dtype == tf.float32
        np.testing.assert_array_equal(ya.numpy(), yr.numpy())  # labels untouched
        assert not np.allclose(xa.numpy(), xr.numpy())
        assert 0 <= xa.numpy().min() and xa.numpy().max() <= 255
    first = [b[0].numpy() for b in aug_train]
    second = [b[0].numpy() for b in aug_train]
    assert not np.allclose(first[0], second[0])  # new draws every epoch
    # the validation pipeline yields exactly the raw images, every time
    for _ in range(2):
        got = np.concatenate([b[0].numpy() for b in val])
        np.testing.assert_array_equal(got, x)


def test_augment_dataset_fused_with_a_short_last_batch(images):
    ds = _batches(np.concatenate([images] * 2), np.zeros(12), batch_size=5)
    aug = A.build_augmentation(A.SOURCE_SETTINGS, seed=0, fused=True)
    shapes = [tuple(b[0].shape) for b in A.augment_dataset(ds, aug)]
    assert shapes == [(5, 48, 48, 3), (5, 48, 48, 3), (2, 48, 48, 3)]


def test_augment_dataset_images_only(images):
    ds = tf.data.Dataset.from_tensor_slices(images).batch(3)
    out = list(A.augment_dataset(ds, A.build_augmentation({"horizontal_flip": True}, seed=0)))
    assert [tuple(b.shape) for b in out] == [(3, 48, 48, 3), (3, 48, 48, 3)]
