"""Tests of seminar_utils.explain: the methods must be right, not only run.

A tiny CNN is trained (a few seconds, seeded) on generated 32x32 images whose class is decided
by a small object at a random position: 0 = no object (grey noise only), 1 = a bright 5x5
square, 2 = a bright 5x5 cross. The empty class gives the network a default, so both object
classes need positive evidence at the object, and a correct Grad-CAM must peak there. The same
trained layers are then reused in nested, functional and never-called models, which must give
the same heatmaps.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from seminar_utils import explain  # noqa: E402
from seminar_utils._patterns import _start_image  # noqa: E402

SIZE, OBJ, PAD = 32, 5, 3


def make_images(n: int, seed: int):
    """Images (n, 32, 32, 1) in [0, 1], labels, and the object's box (r0, c0, r1, c1)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 0.4, (n, SIZE, SIZE, 1)).astype("float32")
    y = rng.integers(0, 3, n)
    boxes = np.zeros((n, 4), int)
    for i in range(n):
        r, c = rng.integers(0, SIZE - OBJ + 1, 2)
        if y[i] == 1:
            x[i, r:r + OBJ, c:c + OBJ] = 1.0
        elif y[i] == 2:
            x[i, r + OBJ // 2, c:c + OBJ] = 1.0
            x[i, r:r + OBJ, c + OBJ // 2] = 1.0
        boxes[i] = (r, c, r + OBJ, c + OBJ)
    return x, y, boxes


def peak(m: np.ndarray) -> tuple[int, int]:
    r, c = np.unravel_index(np.argmax(m), m.shape)
    return int(r), int(c)


def in_box(maps, boxes, pad: int = PAD) -> np.ndarray:
    """Whether each map's argmax lies inside the object's box padded by ``pad`` pixels."""
    hits = []
    for m, (r0, c0, r1, c1) in zip(maps, boxes):
        r, c = peak(m)
        hits.append(r0 - pad <= r < r1 + pad and c0 - pad <= c < c1 + pad)
    return np.array(hits)


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    x_train, y_train, _ = make_images(600, seed=1)
    x_test, y_test, boxes = make_images(100, seed=2)
    L = keras.layers
    stack = [L.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
             L.MaxPooling2D(name="pool1"),
             L.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
             L.MaxPooling2D(name="pool2"),
             L.Conv2D(32, 3, padding="same", activation="relu", name="conv3")]
    gap = L.GlobalAveragePooling2D(name="gap")
    dense = L.Dense(3, activation="softmax", name="dense")
    plain = keras.Sequential([keras.Input((SIZE, SIZE, 1)), *stack, gap, dense], name="plain")
    plain.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    plain.fit(x_train, y_train, epochs=10, batch_size=32, verbose=0)
    pred = plain.predict(x_test, verbose=0).argmax(-1)
    acc = float((pred == y_test).mean())
    print(f"\nheld-out accuracy of the tiny CNN: {acc:.2f}")
    assert acc >= 0.9, f"the tiny CNN did not learn the task (accuracy {acc:.2f})"
    obj = y_test > 0
    return dict(plain=plain, stack=stack, gap=gap, dense=dense, x=x_test[obj], y=y_test[obj],
                boxes=boxes[obj], pred=pred[obj], x_empty=x_test[~obj])


def variants(t) -> dict:
    """The trained layers in the other shapes of model the course builds."""
    stack, gap, dense = t["stack"], t["gap"], t["dense"]
    inp = lambda: keras.Input((SIZE, SIZE, 1))  # noqa: E731
    nested = keras.Sequential([keras.Sequential([inp(), *stack], name="base"), gap, dense],
                              name="nested")
    base_f = keras.Sequential([inp(), *stack], name="base_f")
    on_output = keras.Model(base_f.inputs, dense(gap(base_f.outputs[0])), name="on_output")
    i = inp()
    functional_nested = keras.Model(i, dense(gap(keras.Sequential([inp(), *stack], name="base_n")(i))),
                                    name="functional_nested")
    never_called = keras.Sequential([keras.Sequential(list(stack), name="base_u"), gap, dense],
                                    name="never_called")
    return {"nested Sequential": nested, "functional on base.output": on_output,
            "functional with nested base": functional_nested, "never-called Sequential": never_called}


# ---------------------------------------------------------------------------------- Grad-CAM

def test_grad_cam_peak_falls_on_the_object(trained):
    maps = explain.grad_cam(trained["plain"], trained["x"])
    assert maps.shape == (len(trained["x"]), SIZE, SIZE) and maps.dtype == np.float32
    assert maps.min() >= 0 and np.allclose(maps.max(axis=(1, 2)), 1.0)
    hits = in_box(maps, trained["boxes"])
    print(f"\nGrad-CAM peak inside the object's box (+{PAD} px), plain model: {hits.mean():.2f} "
          f"(square {hits[trained['y'] == 1].mean():.2f}, cross {hits[trained['y'] == 2].mean():.2f})")
    assert hits.mean() >= 0.8
    assert hits[trained["y"] == 1].mean() >= 0.7 and hits[trained["y"] == 2].mean() >= 0.7


def test_grad_cam_equals_the_textbook_computation(trained):
    """The last conv layer by hand: weights = mean gradient of the class logit, ReLU, resize."""
    x = tf.constant(trained["x"][:16])
    dense = trained["dense"]
    with tf.GradientTape() as tape:
        tape.watch(x)
        a = x
        for layer in trained["stack"]:
            a = layer(a)
        logits = tf.matmul(trained["gap"](a), dense.kernel) + dense.bias
        classes = tf.argmax(logits, axis=-1, output_type=tf.int32)
        score = tf.reduce_sum(tf.gather(logits, classes, axis=1, batch_dims=1))
    cam = textbook_cam(a, tape.gradient(score, a), (SIZE, SIZE))
    np.testing.assert_allclose(explain.grad_cam(trained["plain"], x.numpy()), cam, atol=1e-4)


def textbook_cam(a, grads, size) -> np.ndarray:
    """Grad-CAM from the feature maps and their gradients: channel weights = mean gradient."""
    w = tf.reduce_mean(grads, axis=(1, 2))
    cam = tf.reduce_sum(a * w[:, None, None, :], axis=-1)
    cam = tf.image.resize(tf.nn.relu(cam)[..., None], size)[..., 0].numpy()   # ReLU, then resize
    return cam / np.maximum(cam.max(axis=(1, 2), keepdims=True), 1e-12)


@pytest.fixture(scope="module")
def application_base():
    keras.utils.set_random_seed(4)
    return keras.applications.ResNet50V2(input_shape=(64, 64, 3), include_top=False, weights=None)


@pytest.mark.parametrize("shape", ["Sequential", "functional with a front layer"])
def test_grad_cam_inside_a_keras_application_base(application_base, shape):
    """A keras.applications base (functional, BatchNorm, residual Adds) nested in the model: the
    heatmap of an inner layer equals the keras.io construction on the base's own inputs and
    outputs, keras.Model(base.inputs, [layer.output, base.output]), with the head by hand. The
    head is a one-unit sigmoid Dense without bias: its logit is the pooled features times kernel."""
    base = application_base
    gap = keras.layers.GlobalAveragePooling2D()
    head = keras.layers.Dense(1, activation="sigmoid", use_bias=False, name="head")
    if shape == "Sequential":
        model = keras.Sequential([base, gap, head])
    else:
        inp = keras.Input((64, 64, 3))
        model = keras.Model(inp, head(gap(base(keras.layers.Rescaling(1.0)(inp), training=False))))
    inner = "conv4_block3_out"                               # the output of a residual block
    x = tf.constant(np.random.default_rng(5).uniform(-1, 1, (4, 64, 64, 3)).astype("float32"))
    sub = keras.Model(base.inputs, [base.get_layer(inner).output, base.output])
    with tf.GradientTape() as tape:
        a, features = sub(x, training=False)
        logit = tf.matmul(gap(features), head.kernel)[:, 0]
        score = tf.reduce_sum(tf.where(logit > 0, logit, -logit))   # the predicted class's logit
    cam = textbook_cam(a, tape.gradient(score, a), (64, 64))
    assert cam.std() > 0.05                                  # a map with structure, not a flat one
    np.testing.assert_allclose(explain.grad_cam(model, x.numpy(), layer_name=inner), cam, atol=1e-4)
    assert explain.conv_layer_names(model)[-1] == f"{base.name}/post_relu"
    assert explain.grad_cam(model, x.numpy()).shape == (4, 64, 64)        # default: post_relu


@pytest.mark.parametrize("kind", ["nested Sequential", "functional on base.output",
                                  "functional with nested base", "never-called Sequential"])
def test_grad_cam_on_nested_functional_and_never_called_models(trained, kind):
    model = variants(trained)[kind]
    if kind == "never-called Sequential":
        assert not model.built
    maps = explain.grad_cam(model, trained["x"])
    hits = in_box(maps, trained["boxes"])
    print(f"\nGrad-CAM localisation, {kind}: {hits.mean():.2f}")
    assert hits.mean() >= 0.8
    # the same trained layers: the same heatmaps as the plain model
    np.testing.assert_allclose(maps, explain.grad_cam(trained["plain"], trained["x"]), atol=1e-4)


def test_grad_cam_inner_layer_by_name_or_path(trained):
    nested = variants(trained)["nested Sequential"]
    x = trained["x"][:8]
    ref = explain.grad_cam(trained["plain"], x, layer_name="conv2")
    np.testing.assert_allclose(explain.grad_cam(nested, x, layer_name="conv2"), ref, atol=1e-4)
    np.testing.assert_allclose(explain.grad_cam(nested, x, layer_name="base/conv2"), ref, atol=1e-4)
    assert explain.conv_layer_names(nested) == [f"base/{n}" for n in
                                               ("conv1", "pool1", "conv2", "pool2", "conv3")]


def test_grad_cam_uses_logits_and_leaves_the_model_unchanged(trained):
    """Softmax in the Dense layer, in an Activation layer, in a Softmax layer, or none at all
    (a logits model): the score is the logit every time, so the maps are identical."""
    stack, gap, dense = trained["stack"], trained["gap"], trained["dense"]
    x = trained["x"][:16]
    ref = explain.grad_cam(trained["plain"], x)
    lin = keras.layers.Dense(3, name="dense_logits")
    logits_model = keras.Sequential([keras.Input((SIZE, SIZE, 1)), *stack, gap, lin])
    lin.set_weights(dense.get_weights())
    for head in ([], [keras.layers.Activation("softmax")], [keras.layers.Softmax()]):
        model = keras.Sequential([keras.Input((SIZE, SIZE, 1)), *stack, gap, lin, *head])
        np.testing.assert_allclose(explain.grad_cam(model, x), ref, atol=1e-4)
    p_before = trained["plain"].predict(x, verbose=0)
    assert dense.activation is keras.activations.softmax
    assert [layer.name for layer in trained["plain"].layers] == ["conv1", "pool1", "conv2", "pool2",
                                                                 "conv3", "gap", "dense"]
    np.testing.assert_allclose(trained["plain"].predict(x, verbose=0), p_before, atol=1e-6)
    del logits_model


def test_grad_cam_class_index(trained):
    x, y = trained["x"][:10], trained["y"][:10]
    model = trained["plain"]
    right = trained["pred"][:10] == y
    by_label = explain.grad_cam(model, x, class_index=list(y))
    np.testing.assert_allclose(by_label[right], explain.grad_cam(model, x)[right], atol=1e-5)
    one = explain.grad_cam(model, x, class_index=1)
    np.testing.assert_allclose(one[y == 1], by_label[y == 1], atol=1e-5)
    with pytest.raises(ValueError, match=r"class_index must be in \[0, 2\]"):
        explain.grad_cam(model, x, class_index=3)
    with pytest.raises(ValueError, match="entries for 10 images"):
        explain.grad_cam(model, x, class_index=[0, 1])


def test_grad_cam_binary_sigmoid_output(trained):
    """A one-unit sigmoid 'square vs empty' head (logit z1 - z0 of the trained model)."""
    stack, gap, dense = trained["stack"], trained["gap"], trained["dense"]
    head = keras.layers.Dense(1, activation="sigmoid", name="is_square")
    model = keras.Sequential([keras.Input((SIZE, SIZE, 1)), *stack, gap, head])
    w, b = dense.get_weights()
    head.set_weights([w[:, 1:2] - w[:, 0:1], b[1:2] - b[0:1]])
    squares = trained["y"] == 1
    x, boxes = trained["x"][squares], trained["boxes"][squares]
    assert (model.predict(x, verbose=0)[:, 0] > 0.5).mean() >= 0.9
    positive = explain.grad_cam(model, x)                       # None: predicted = positive
    hits = in_box(positive, boxes)
    print(f"\nGrad-CAM localisation, sigmoid head: {hits.mean():.2f}")
    assert hits.mean() >= 0.8
    np.testing.assert_allclose(explain.grad_cam(model, x, class_index=1), positive, atol=1e-5)
    negative = explain.grad_cam(model, x, class_index=0)        # the complement: -logit
    assert negative.shape == positive.shape and np.isfinite(negative).all()
    # Opposite signs of one raw map: the ReLU splits it cell by cell, so after upsampling they
    # overlap only where the bilinear resize blends a positive cell with a negative neighbour.
    overlap = np.minimum(positive, negative)
    print(f"overlap of the two class maps: max {overlap.max():.3f}, mean {overlap.mean():.4f}")
    assert overlap.max() <= 0.5 and overlap.mean() < 0.02
    empty = explain.grad_cam(model, trained["x_empty"][:8])     # predicted negative: class 0
    assert np.isfinite(empty).all() and empty.max() <= 1


def test_grad_cam_errors(trained):
    nested = variants(trained)["nested Sequential"]
    x = trained["x"][:2]
    with pytest.raises(ValueError, match="No layer named 'nope'") as err:
        explain.grad_cam(nested, x, layer_name="nope")
    for name in ("base/conv1", "base/conv2", "base/conv3"):
        assert name in str(err.value)
    flat = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(2, activation="softmax")])
    with pytest.raises(ValueError, match="no layer with a 4-D output"):
        explain.grad_cam(flat, np.zeros((2, 4, 4, 1)))
    with pytest.raises(ValueError, match="4-D feature map"):
        explain.grad_cam(nested, x, layer_name="gap")


class Subclassed(keras.Model):
    """A subclassed classifier: its layers exist only inside call(), out of public API's reach."""

    def __init__(self):
        super().__init__(name="subclassed")
        self.conv = keras.layers.Conv2D(2, 3, name="inner_conv")
        self.pool = keras.layers.GlobalAveragePooling2D()
        self.out = keras.layers.Dense(2, activation="softmax")

    def call(self, inputs):
        return self.out(self.pool(self.conv(inputs)))


def test_unsupported_models_get_an_error_naming_what_is_supported():
    L = keras.layers
    x = np.random.default_rng(0).uniform(0, 1, (2, 8, 8, 1)).astype("float32")
    subclassed = Subclassed()
    subclassed(x)
    i1, i2 = keras.Input((8, 8, 1)), keras.Input((8, 8, 1))
    shared = L.Conv2D(2, 3, name="shared")
    both = L.Add()([shared(i1), shared(i2)])
    two_inputs = keras.Model([i1, i2], L.Dense(2)(L.GlobalAveragePooling2D()(both)))
    pooled = L.GlobalAveragePooling2D()(L.Conv2D(2, 3, name="c")(i1))
    two_outputs = keras.Model(i1, [L.Dense(2)(pooled), L.Dense(1)(pooled)])
    maps_out = keras.Model(i1, L.Conv2D(2, 3, name="segment")(i1))        # no (batch, classes) output
    wrapped = keras.Sequential([keras.Input((8, 8, 1)), Subclassed()])       # the conv is inside it
    cases = [(subclassed, None, "subclassed model"), (two_inputs, None, "several inputs"),
             (two_outputs, None, "several outputs"), (maps_out, None, r"output has shape \(None, 6, 6, 2\)"),
             (wrapped, "inner_conv", "subclassed model")]
    for model, layer_name, why in cases:
        with pytest.raises(ValueError, match=why) as err:
            explain.grad_cam(model, x, layer_name=layer_name)
        assert "Supported: a Sequential or functional Keras model" in str(err.value), model.name
    with pytest.raises(ValueError, match="subclassed model"):
        explain.occlusion_map(subclassed, x[0])
    with pytest.raises(ValueError, match="subclassed model"):
        explain.activation_model(wrapped, "inner_conv")
    # a subclassed model that holds no layer to look at is simply called: here the head
    head_only = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(2, 3, name="conv"), Subclassed()])
    assert explain.grad_cam(head_only, x).shape == (2, 8, 8)


def test_grad_cam_layer_the_score_does_not_depend_on():
    L = keras.layers
    model = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(2, 3, name="c1"),
                              L.Lambda(keras.ops.stop_gradient), L.Conv2D(2, 3, name="c2"),
                              L.GlobalAveragePooling2D(), L.Dense(2)])
    x = np.random.default_rng(0).uniform(0, 1, (2, 8, 8, 1)).astype("float32")
    with pytest.raises(ValueError, match="does not depend on"):
        explain.grad_cam(model, x, layer_name="c1")
    assert explain.grad_cam(model, x, layer_name="c2").shape == (2, 8, 8)


def test_grad_cam_all_zero_map_stays_zero_without_nan():
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    for v in model.weights:
        v.assign(np.zeros(v.shape, "float32"))
    maps = explain.grad_cam(model, np.ones((2, 8, 8, 1)))
    assert maps.shape == (2, 8, 8) and np.isfinite(maps).all() and maps.max() == 0



def test_grad_cam_default_layer_is_the_last_convolution_not_a_pooling_layer():
    """conv -> pool -> Flatten -> Dense: the default is the convolution (the pool only coarsens)."""
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((16, 16, 3)),
                              keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
                              keras.layers.MaxPooling2D(name="pool"), keras.layers.Flatten(),
                              keras.layers.Dense(1, activation="sigmoid")])
    x = np.random.default_rng(0).uniform(0, 1, (3, 16, 16, 3)).astype("float32")
    default = explain.grad_cam(model, x)
    np.testing.assert_array_equal(default, explain.grad_cam(model, x, layer_name="conv"))
    assert np.abs(default - explain.grad_cam(model, x, layer_name="pool")).max() > 0.05
    assert explain.conv_layer_names(model) == ["conv", "pool"]      # both remain choosable

def test_grad_cam_applies_the_relu_before_upsampling():
    """ReLU(sum_k w_k A_k) on the feature map, then the bilinear resize (the formula's order).

    A 2x2 feature map of +1 and -1 cells: resized first, the -1 cells would pull their positive
    neighbours' borders down before the ReLU; ReLU first, they count as 0.
    """
    model = keras.Sequential([keras.Input((4, 4, 1)),
                              keras.layers.Conv2D(1, 2, strides=2, use_bias=False, name="c"),
                              keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(2, activation="softmax")])
    model.get_layer("c").kernel.assign(np.full((2, 2, 1, 1), 0.25, "float32"))    # block means
    dense = model.layers[-1]
    dense.kernel.assign(np.array([[1.0, -1.0]], "float32"))
    dense.bias.assign(np.zeros(2, "float32"))
    blocks = np.array([[1.0, -1.0], [-1.0, 1.0]], "float32")
    x = np.kron(blocks, np.ones((2, 2), "float32"))[None, :, :, None]                 # (1, 4, 4, 1)
    cam = explain.grad_cam(model, x, class_index=0)[0]
    a = tf.constant(blocks[None, :, :, None])           # the feature map; w = 1/4 for class 0
    relu_first = tf.image.resize(tf.nn.relu(0.25 * a), (4, 4))[0, :, :, 0].numpy()
    resize_first = tf.nn.relu(tf.image.resize(0.25 * a, (4, 4)))[0, :, :, 0].numpy()
    np.testing.assert_allclose(cam, relu_first / relu_first.max(), atol=1e-6)
    assert np.abs(cam - resize_first / resize_first.max()).max() > 0.1

# ---------------------------------------------------------------------------------- overlay

def test_overlay_range_shape_and_blend():
    gray = np.full((32, 32, 1), 255, np.uint8)
    heat = np.zeros((8, 8), np.float32)
    heat[0, 0] = 1.0
    out = explain.overlay(gray, heat)
    assert out.shape == (32, 32, 3) and out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 1
    rgb = np.random.default_rng(0).uniform(0, 1, (16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(explain.overlay(rgb, np.ones((16, 16)), alpha=0.0), rgb, atol=1e-6)
    import matplotlib
    full = explain.overlay(rgb, np.ones((16, 16)), alpha=1.0, cmap="jet")
    np.testing.assert_allclose(full[0, 0], matplotlib.colormaps["jet"](1.0)[:3], atol=1e-6)
    np.testing.assert_allclose(explain.overlay(rgb * 255, np.zeros((16, 16)), alpha=0.0), rgb, atol=1e-5)
    with pytest.raises(ValueError):
        explain.overlay(rgb, np.ones((16, 16)), alpha=2)


# ------------------------------------------------------------------------------- activations

def test_activation_model_reaches_inside_nested_bases(trained):
    x = trained["x"][:4]
    expected1 = trained["stack"][0](x).numpy()
    a = x
    for layer in trained["stack"]:
        a = layer(a)
    expected3 = a.numpy()
    for kind, model in variants(trained).items():
        if kind == "never-called Sequential":
            with pytest.raises(ValueError, match="input_shape"):
                explain.activation_model(model, ["conv1"])
            act = explain.activation_model(model, ["conv1", "conv3"], input_shape=(SIZE, SIZE, 1))
        else:
            act = explain.activation_model(model, ["conv1", "conv3"])
        out1, out3 = act.predict(x, verbose=0)
        np.testing.assert_allclose(out1, expected1, atol=1e-5, err_msg=kind)
        np.testing.assert_allclose(out3, expected3, atol=1e-5, err_msg=kind)
    single = explain.activation_model(trained["plain"], "conv2")
    assert single.predict(x, verbose=0).shape == (4, 16, 16, 32)
    with pytest.raises(ValueError, match="No layer named 'nope'"):
        explain.activation_model(trained["plain"], "nope")


def test_activation_model_at_another_size_through_a_fixed_size_nested_block(trained):
    """Notebook 02's model starts with an augmentation Sequential that has its own Input: the
    activation model (and so the filter patterns) must still work at another image size."""
    stack = trained["stack"]
    front = keras.Sequential([keras.Input((SIZE, SIZE, 1)), keras.layers.RandomFlip("horizontal"),
                              keras.layers.Rescaling(1.0)], name="augmentation")
    model = keras.Sequential([keras.Input((SIZE, SIZE, 1)), front, *stack, trained["gap"],
                              trained["dense"]], name="with_augmentation")
    inp = keras.Input((SIZE, SIZE, 1))
    functional = keras.Model(inp, trained["dense"](trained["gap"](
        keras.Sequential(list(stack), name="base")(front(inp)))), name="functional_front")
    x = np.random.default_rng(3).uniform(0, 1, (2, 48, 40, 1)).astype(np.float32)
    expected = stack[2](stack[1](stack[0](x))).numpy()
    for m in (model, functional):
        act = explain.activation_model(m, "conv2", input_shape=(48, 40, 1))
        np.testing.assert_allclose(act.predict(x, verbose=0), expected, atol=1e-5, err_msg=m.name)
        assert explain.filter_pattern(m, "conv2", 0, size=(40, 40), steps=2).shape == (30, 30, 1)
    # at the model's own size the block is still called whole (no change in behaviour)
    own = explain.activation_model(model, "conv2").predict(trained["x"][:2], verbose=0)
    np.testing.assert_allclose(own, stack[2](stack[1](stack[0](trained["x"][:2]))).numpy(), atol=1e-5)


def test_activation_model_stops_before_a_fixed_size_head(trained):
    """VGG16 with its classifier: Flatten -> Dense only fits the model's own size, so at another
    size the activation model must end at the named layer, also in a functional graph."""
    stack = trained["stack"]
    i = keras.Input((SIZE, SIZE, 1))
    a = i
    for layer in stack:
        a = layer(a)
    flat = keras.Model(i, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(a)),
                       name="with_flatten")
    nested = keras.Sequential([keras.Input((SIZE, SIZE, 1)), flat], name="nested_flatten")
    x = np.random.default_rng(4).uniform(0, 1, (2, 40, 48, 1)).astype(np.float32)
    expected = stack[2](stack[1](stack[0](x))).numpy()
    for m in (flat, nested):
        act = explain.activation_model(m, ["conv1", "conv2"], input_shape=(40, 48, 1))
        np.testing.assert_allclose(act.predict(x, verbose=0)[1], expected, atol=1e-5, err_msg=m.name)
        assert explain.responsive_filters(m, "conv2", 2, size=(40, 48)) == \
            explain.responsive_filters(trained["plain"], "conv2", 2, size=(40, 48))
    assert explain.grad_cam(flat, trained["x"][:2], layer_name="conv2").shape == (2, SIZE, SIZE)


def test_plot_activations_marks_every_empty_channel():
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 1, (1, 6, 6, 10)).astype(np.float32)
    a[..., [2, 7]] = 0.0
    fig = explain.plot_activations(a, "demo", ncols=4)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["empty", "empty"]
    mosaic = ax.images[0].get_array()
    gap = 1
    tile = lambda k: mosaic[(k // 4) * (6 + gap):(k // 4) * (6 + gap) + 6,  # noqa: E731
                            (k % 4) * (6 + gap):(k % 4) * (6 + gap) + 6]
    assert np.ptp(tile(2)) == 0 and 0.3 < tile(2).mean() < 0.7     # flat grey, not black
    assert np.ptp(tile(0)) > 0.5                                     # a real channel spans its range
    assert mosaic.shape[0] == 3 * 6 + 2 * gap                        # ceil(10 / 4) rows, every channel
    assert "2 empty" in ax.get_title()


def test_plot_activations_of_a_real_layer(trained):
    act = explain.activation_model(trained["plain"], "conv1")(trained["x"][:1]).numpy()
    zero = int((act.reshape(-1, act.shape[-1]) == 0).all(axis=0).sum())
    fig = explain.plot_activations(act, "conv1")
    assert sum(t.get_text() == "empty" for t in fig.axes[0].texts) == zero
    assert f"{act.shape[-1]} channels" in fig.axes[0].get_title()


# ---------------------------------------------------------------------------- filter patterns

def edge_model(vertical: bool = True, channels: int = 1):
    model = keras.Sequential([keras.Input((SIZE, SIZE, channels)),
                              keras.layers.Conv2D(1, 3, activation="relu", name="edge")])
    k = np.zeros((3, 3, channels, 1), np.float32)
    k[:, 0], k[:, 2] = -1.0, 1.0                   # [[-1, 0, 1]] * 3: a vertical-edge detector
    if not vertical:
        k = np.transpose(k, (1, 0, 2, 3))          # the horizontal-edge detector
    model.get_layer("edge").set_weights([k, np.zeros(1, np.float32)])
    return model


def stripe_stats(img: np.ndarray) -> tuple[float, float]:
    f = img.astype(np.float64).mean(axis=-1)
    return float(np.abs(np.diff(f, axis=1)).mean()), float(np.abs(np.diff(f, axis=0)).mean())


@pytest.mark.parametrize("channels", [1, 3])
def test_vertical_edge_filter_gives_vertical_stripes(channels):
    img, losses = explain.filter_pattern(edge_model(True, channels), "edge", 0, return_losses=True)
    assert img.dtype == np.uint8 and img.shape == (SIZE - 8, SIZE - 8, channels)
    gx, gy = stripe_stats(img)
    f = img.astype(np.float64).mean(axis=-1)
    print(f"\nvertical-edge pattern ({channels} ch): mean |d/dx| {gx:.1f} vs |d/dy| {gy:.1f}; "
          f"variance of column means {f.mean(0).var():.0f} vs row means {f.mean(1).var():.1f}")
    assert gx > 2.5 * gy
    assert f.mean(0).var() > 20 * f.mean(1).var()
    assert losses[-1] > 10 * max(losses[0], 1e-3)
    # control: the transposed kernel gives horizontal stripes
    gx_h, gy_h = stripe_stats(explain.filter_pattern(edge_model(False, channels), "edge", 0))
    assert gy_h > 2.5 * gx_h


def test_gradient_ascent_raises_the_filter_activation(trained):
    model = trained["plain"]
    act = explain.activation_model(model, "conv2").predict(trained["x"], verbose=0)
    k = int(act.mean(axis=(0, 1, 2)).argmax())            # a filter that is alive on the data
    img, losses = explain.filter_pattern(model, "conv2", k, return_losses=True)
    print(f"\nconv2[{k}] mean activation: {losses[0]:.3f} -> {losses[-1]:.3f}")
    assert len(losses) == 31 and img.shape == (24, 24, 1)   # 32 - 2 * (32 // 8)
    assert losses[-1] > 2 * losses[0] + 0.5
    assert np.mean(np.diff(losses) > 0) >= 0.8             # it climbs step after step
    again = explain.filter_pattern(model, "conv2", k)
    np.testing.assert_array_equal(img, again)             # seeded: reproducible
    with pytest.raises(ValueError, match=r"filter_index must be in \[0, 31\]"):
        explain.filter_pattern(model, "conv2", 32)
    with pytest.raises(ValueError, match="conv3"):
        explain.filter_pattern(model, "nope", 0)


def test_responsive_filters_are_the_ones_gradient_ascent_can_move(trained):
    model = trained["plain"]
    chosen = explain.responsive_filters(model, "conv3", 4)
    assert chosen == sorted(chosen) and len(set(chosen)) == 4
    start = _start_image((SIZE, SIZE, 1), 0, (0.4, 0.6))
    strength = explain.activation_model(model, "conv3").predict(start, verbose=0).mean(axis=(0, 1, 2))
    assert min(strength[chosen]) >= np.sort(strength)[-4] - 1e-7   # the four strongest
    for k in chosen:
        _, losses = explain.filter_pattern(model, "conv3", k, steps=5, return_losses=True)
        assert losses[-1] > losses[0]
    everyone = explain.responsive_filters(model, "conv1", 100)             # capped at the layer
    strength1 = explain.activation_model(model, "conv1").predict(start, verbose=0).mean(axis=(0, 1, 2))
    assert everyone == [k for k in range(16) if strength1[k] > 0]           # only filters that respond
    dead = edge_model()
    dead.get_layer("edge").set_weights([-np.ones((3, 3, 1, 1), np.float32), np.zeros(1, np.float32)])
    assert explain.responsive_filters(dead, "edge", 1) == []
    with pytest.raises(ValueError, match="at least 1"):
        explain.responsive_filters(model, "conv1", 0)


def test_filter_grid_and_nested_layer(trained):
    nested = variants(trained)["nested Sequential"]
    act = explain.activation_model(nested, "conv1").predict(trained["x"], verbose=0)
    alive = [int(k) for k in np.argsort(-act.mean(axis=(0, 1, 2)))[:3]]
    fig = explain.filter_grid(nested, "conv1", alive, steps=5, ncols=2)
    assert len(fig.axes) == 3
    assert [ax.get_title().split(":")[0] for ax in fig.axes[:3]] == [str(k) for k in alive]
    a = explain.filter_pattern(nested, "conv1", alive[0], steps=5)
    b = explain.filter_pattern(trained["plain"], "conv1", alive[0], steps=5)
    np.testing.assert_array_equal(a, b)


# -------------------------------------------------------------------------------- occlusion

def test_occlusion_map_finds_the_object_and_agrees_with_grad_cam(trained):
    x, boxes = trained["x"][:40], trained["boxes"][:40]
    model = trained["plain"]
    occ = np.stack([explain.occlusion_map(model, img, patch=8, stride=2) for img in x])
    assert occ.shape == (40, SIZE, SIZE) and occ.min() >= 0 and occ.max() <= 1
    cam = explain.grad_cam(model, x)
    hits = in_box(occ, boxes)
    dist = np.array([np.hypot(*np.subtract(peak(a), peak(b))) for a, b in zip(occ, cam)])
    close = dist <= 6
    print(f"\nocclusion peak inside the box: {hits.mean():.2f}; occlusion and Grad-CAM peaks "
          f"within 6 px: {close.mean():.2f} (median distance {np.median(dist):.1f} px)")
    assert hits.mean() >= 0.8
    assert close.mean() >= 0.7


def test_occlusion_map_defaults_and_errors(trained):
    model, img = trained["plain"], trained["x"][0]
    m = explain.occlusion_map(model, img)
    assert m.shape == (SIZE, SIZE) and m.dtype == np.float32 and 0 <= m.min() and m.max() <= 1
    assert np.isfinite(explain.occlusion_map(model, (img * 255).astype(np.uint8), fill=127.5)).all()
    with pytest.raises(ValueError, match="one image"):
        explain.occlusion_map(model, trained["x"][:2])
    with pytest.raises(ValueError, match="class_index"):
        explain.occlusion_map(model, img, class_index=5)


def test_dead_filter_warns():
    model = edge_model()
    model.get_layer("edge").set_weights([-np.ones((3, 3, 1, 1), np.float32), np.zeros(1, np.float32)])
    with pytest.warns(RuntimeWarning, match="dead"):
        img, losses = explain.filter_pattern(model, "edge", 0, steps=3, return_losses=True)
    assert losses == [0.0] * 4 and img.shape == (24, 24, 1)
