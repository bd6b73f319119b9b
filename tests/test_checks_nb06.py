"""Notebook 06's exercise checks: the reference answers pass, typical mistakes fail with their hint.

A tiny model with known behaviour stands in for the cats-vs-dogs convnet: ``conv2`` has a "red"
and a "blue" channel, and the one sigmoid unit is P(dog) = sigmoid(mean blue - mean red). So the
"cat" evidence is red, the "dog" evidence blue, and on a red|blue pair each class's Grad-CAM lies
on its own half, with no training.
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from seminar_utils import explain  # noqa: E402
from seminar_utils.checks import ExerciseFailed, nb06  # noqa: E402

SIZE = 16


@pytest.fixture(scope="module")
def model():
    L = keras.layers
    m = keras.Sequential([keras.Input((SIZE, SIZE, 3)), L.Rescaling(1 / 255, name="rescale"),
                          L.Conv2D(3, 1, activation="relu", name="conv1"),
                          L.Conv2D(2, 3, padding="same", activation="relu", name="conv2"),
                          L.GlobalAveragePooling2D(name="gap"),
                          L.Dense(1, activation="sigmoid", name="output")], name="red_vs_blue")
    identity = np.eye(3, dtype="float32")[None, None]
    m.get_layer("conv1").set_weights([identity, np.zeros(3, "float32")])
    pick = np.zeros((3, 3, 3, 2), "float32")                       # a 3x3 mean of ...
    pick[:, :, 0, 0] = pick[:, :, 2, 1] = 1 / 9                   # ... red (channel 0), blue (1)
    m.get_layer("conv2").set_weights([pick, np.zeros(2, "float32")])
    logit = np.array([[-8.0], [8.0]], "float32")                   # 8 * (mean blue - mean red)
    m.get_layer("output").set_weights([logit, np.zeros(1, "float32")])
    return m


def photo(red: float, blue: float, seed: int) -> np.ndarray:
    """A 0-255 photo: red and blue levels with a little noise (and a bright blob to vary maps)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 30, (SIZE, SIZE, 3)).astype("float32")
    x[..., 0] += red
    x[..., 2] += blue
    r, c = rng.integers(2, SIZE - 6, 2)
    x[r:r + 4, c:c + 4] += 40
    return np.clip(x, 0, 255)


def grad_cam_for_class(model, images, conv_name, class_index):
    """The notebook's reference answer of exercise 1 (by hand, with a GradientTape)."""
    x = tf.constant(images, dtype="float32")
    with tf.GradientTape() as tape:
        tape.watch(x)
        h = x
        for layer in model.layers:
            h = layer(h, training=False)
            if layer.name == conv_name:
                feature_maps = h
        p = h[:, 0]
        score = p if class_index == 1 else 1.0 - p
    grads = tape.gradient(score, feature_maps)
    weights = tf.reduce_mean(grads, axis=(1, 2))
    cam = tf.nn.relu(tf.reduce_sum(feature_maps * weights[:, None, None, :], axis=-1))
    cam = tf.image.resize(cam[..., None], images.shape[1:3])[..., 0]
    return (cam / (tf.reduce_max(cam, axis=(1, 2), keepdims=True) + 1e-12)).numpy()


def make_pair(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    middle = slice(SIZE // 4, SIZE // 4 + SIZE // 2)
    return np.concatenate([left[:, middle], right[:, middle]], axis=1).astype("float32")


@pytest.fixture(scope="module")
def pair():
    return make_pair(photo(150, 0, 1), photo(0, 150, 2))           # a "cat" left, a "dog" right


def cams(model, pair):
    return [grad_cam_for_class(model, pair[None], "conv2", c)[0] for c in (0, 1)]


# ------------------------------------------------------------------------------ exercise 1

def test_exercise_1_reference_passes(model, pair, capsys):
    cam_cat, cam_dog = cams(model, pair)
    nb06.exercise_1(model, pair, cam_cat, cam_dog, profile="quick")
    assert "Exercise 1: 6 of 6 checks passed" in capsys.readouterr().out
    # A batch of one and explain.grad_cam (the helper) are accepted too; smoke skips the halves.
    nb06.exercise_1(model, pair[None], explain.grad_cam(model, pair, class_index=0), cam_dog[None],
                    profile="smoke")
    assert "Exercise 1: 4 of 4 checks passed" in capsys.readouterr().out


def test_exercise_1_swapped_classes_fail_with_their_hint(model, pair):
    cam_cat, cam_dog = cams(model, pair)
    with pytest.raises(ExerciseFailed) as e:
        nb06.exercise_1(model, pair, cam_dog, cam_cat, profile="quick")
    msg = str(e.value)
    assert "4 of 6 checks passed" in msg
    assert "cam_cat is Grad-CAM of class 0 (cat)" in msg and "this is the map of class 'dog'" in msg
    assert "that of cat is 1 - p" in msg


def test_exercise_1_scaled_pixels_and_wrong_size_fail(model, pair):
    with pytest.raises(ExerciseFailed, match="without dividing by 255"):
        scaled = pair / 255.0
        nb06.exercise_1(model, scaled, *cams(model, scaled), profile="smoke")
    with pytest.raises(ExerciseFailed, match=r"(?s)0 of 1 checks.*expected shape \(16, 16, 3\)"):
        wide = np.concatenate([pair, pair], axis=1)
        nb06.exercise_1(model, wide, *cams(model, pair), profile="smoke")


def test_exercise_1_animals_on_the_wrong_sides_fail_outside_smoke(model, capsys):
    swapped = make_pair(photo(0, 150, 2), photo(150, 0, 1))         # the dog left, the cat right
    cam_cat, cam_dog = cams(model, swapped)
    with pytest.raises(ExerciseFailed) as e:
        nb06.exercise_1(model, swapped, cam_cat, cam_dog, profile="quick")
    assert "the cat map peaks on the cat's (left) half" in str(e.value)
    assert "is the cat on the left?" in str(e.value)
    nb06.exercise_1(model, swapped, cam_cat, cam_dog, profile="smoke")
    assert "Exercise 1: 4 of 4 checks passed" in capsys.readouterr().out


# ------------------------------------------------------------------------------ exercise 2

@pytest.fixture(scope="module")
def validation():
    """Photos with their labels: some are wrong, photo 3 most confidently (a strong 'cat')."""
    levels = [(150, 0), (0, 150), (90, 60), (200, 0), (40, 70), (60, 90)]
    x = np.stack([photo(r, b, 10 + i) for i, (r, b) in enumerate(levels)])
    y = np.array([0, 1, 1, 1, 1, 0])            # photos 2, 3 and 5 disagree with their colours
    return x, y


def reference_2(model, x, y):
    p = model.predict(x, verbose=0)[:, 0]
    pred = (p > 0.5).astype(int)
    confidence = np.where(pred == 1, p, 1 - p)
    wrong = np.flatnonzero(pred != y)
    k = int(wrong[np.argmax(confidence[wrong])])
    cam_pred = explain.grad_cam(model, x[k], class_index=int(pred[k]))[0]
    cam_true = explain.grad_cam(model, x[k], class_index=int(y[k]))[0]
    return k, cam_pred, cam_true


def test_exercise_2_reference_passes(model, validation, capsys):
    x, y = validation
    k, cam_pred, cam_true = reference_2(model, x, y)
    assert k == 3
    nb06.exercise_2(model, x, y, k, cam_pred, cam_true)
    assert "Exercise 2: 3 of 3 checks passed" in capsys.readouterr().out


def test_exercise_2_typical_mistakes_fail_with_their_hints(model, validation):
    x, y = validation
    k, cam_pred, cam_true = reference_2(model, x, y)
    with pytest.raises(ExerciseFailed) as e:                 # the surest photo, not a mistake
        nb06.exercise_2(model, x, y, 0, cam_pred, cam_true)
    assert "k is the most confidently wrong photo" in str(e.value)
    assert "pred_val != y_val" in str(e.value)
    with pytest.raises(ExerciseFailed) as e:                        # the two maps swapped
        nb06.exercise_2(model, x, y, k, cam_true, cam_pred)
    assert "cam_pred: the predicted class (cat)" in str(e.value)
    assert "this is the map of class 'dog'" in str(e.value)
    with pytest.raises(ExerciseFailed, match="is not an index of x_val"):
        nb06.exercise_2(model, x, y, "three", cam_pred, cam_true)


# ------------------------------------------------------------------------------ exercise 3

def reference_3(model, photos):
    layer_maps = {n: explain.grad_cam(model, photos, layer_name=n) for n in ("conv1", "conv2")}
    areas = {name: float(np.mean([(m >= 0.5 * m.max()).mean() for m in maps]))
             for name, maps in layer_maps.items()}
    return layer_maps, areas, min(areas, key=areas.get)


def test_exercise_3_reference_passes(model, validation, capsys):
    photos = validation[0][:4]
    layer_maps, areas, sharpest = reference_3(model, photos)
    assert areas == pytest.approx({n: nb06.half_peak_area(m) for n, m in layer_maps.items()})
    nb06.exercise_3(model, photos, layer_maps, areas, sharpest)
    assert "Exercise 3: 5 of 5 checks passed" in capsys.readouterr().out


def test_exercise_3_typical_mistakes_fail_with_their_hints(model, validation):
    photos = validation[0][:4]
    layer_maps, areas, sharpest = reference_3(model, photos)
    with pytest.raises(ExerciseFailed, match="layer_maps has one entry per convolution"):
        nb06.exercise_3(model, photos, {"conv2": layer_maps["conv2"]}, areas, sharpest)
    with pytest.raises(ExerciseFailed, match=r"layer_maps\['conv1'\].*\n.*the map of layer 'conv2'"):
        nb06.exercise_3(model, photos, {"conv1": layer_maps["conv2"], "conv2": layer_maps["conv2"]},
                        areas, sharpest)
    with pytest.raises(ExerciseFailed, match=r"(?s)areas: the share.*\(m >= 0.5 \* m.max\(\)\)"):
        nb06.exercise_3(model, photos, layer_maps, {n: 1 - a for n, a in areas.items()}, sharpest)
    other = next(n for n in areas if areas[n] > areas[sharpest] + 0.01)
    with pytest.raises(ExerciseFailed, match="sharpest is the layer with the smallest area"):
        nb06.exercise_3(model, photos, layer_maps, areas, other)


def test_half_peak_area():
    assert nb06.half_peak_area(np.array([[1.0, 0.6], [0.2, 0.0]])) == 0.5
    assert nb06.half_peak_area(np.zeros((2, 3, 3))) == 1.0        # an empty map: no concentration
