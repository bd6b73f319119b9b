"""Pretrained convolutional bases for notebooks 04 and 05, with a real offline stand-in.

Transfer learning needs a base trained on MORE data than the task at hand. The course asks
Keras for ImageNet weights (``keras.applications.X(weights="imagenet")``, through
:func:`seminar_utils.backbones.build_backbone`); where they cannot be had, :func:`load_base`
follows the asset policy of the course:

=========  ====================================================================================
profile    base
=========  ====================================================================================
full, gpu  the named backbone with ImageNet weights; if they cannot be had, it stops with
           :class:`seminar_utils.data.AssetUnavailable` saying which file is missing and where
           to put it.
quick      ImageNet weights when they can be had; otherwise a REAL pretrained stand-in: a
           compact CNN that this course trains on CIFAR-10 (20,000 photos in 10 classes, cats
           and dogs among them) once, in about a minute on 2 CPU cores, and caches as a
           ``.keras`` artifact (:func:`cifar10_base`). Features learned on 20,000 images still
           beat a small network trained from scratch on 2,000, so the lesson stays measurable.
smoke      ImageNet weights only from a local file (offline mirror or Keras cache: never a
           download), else random weights (``weights=None``): CI checks that the code runs.
=========  ====================================================================================

Whatever happened is printed in a banner and added to the asset report
(:func:`seminar_utils.data.asset_report`), and the returned :class:`PretrainedBase` says it
(``base.weights`` is ``"imagenet"``, ``"cifar10"`` or ``"random"``).

Every base takes **0-255 pixels** through :meth:`PretrainedBase.preprocess_layer`: the
backbone's own ``preprocess_input`` for Keras Applications (a
:class:`seminar_utils.backbones.Preprocess` layer), nothing for the stand-in (it starts with
its own ``Rescaling(1/255)``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import keras
import numpy as np

from . import backbones as bb
from . import data
from .freezing import blocks
from .profiles import resolve_profile

STANDIN_NAME = "cifar10_cnn"
STANDIN_ARTIFACT = "cifar10_cnn_base.keras"

#: The recipe used when the caller gives none (notebooks 04 and 05 share this base). Measured
#: on 2 CPU cores: 20,000 images x 3 epochs (~85 CPU-s) reach ~0.68 CIFAR-10 test accuracy and
#: lift cats vs dogs from ~0.70 (a convnet from scratch) to ~0.75-0.76 (a head on its features);
#: all 50,000 x 2 epochs (~140 CPU-s) reach ~0.70 and ~0.77.
DEFAULT_RECIPE: dict[str, Any] = {
    "train_samples": 20_000,        # a stratified 2/5 of CIFAR-10's 50,000 training images
    "test_samples": 2_000,          # to report the base's accuracy
    "epochs": 3,
    "batch_size": 128,
    "learning_rate": 2e-3,          # Adam, cosine decay to 5 % over the whole run
    "widths": (32, 64, 128, 256),   # one Conv-BN-ReLU per block, 2x2 max pooling between blocks
    "seed": 0,
}

#: First layer of the top block of each base, where notebook 05 starts unfreezing.
TOP_BLOCK_START: dict[str, str] = {
    "ResNet50V2": "conv5_block1_preact_bn",   # the source project's choice
    "ResNet50": "conv5_block1_1_conv",        # = layers[143:]
    "VGG16": "block5_conv1",
    "VGG19": "block5_conv1",
    STANDIN_NAME: "block4_conv",
}

#: Layers whose outputs notebook 04 compares ("which layers are general"), bottom to top.
PROBE_LAYERS: dict[str, tuple[str, ...]] = {
    "VGG16": ("block3_pool", "block4_pool", "block5_pool"),
    "VGG19": ("block3_pool", "block4_pool", "block5_pool"),
    "ResNet50": ("conv3_block4_out", "conv4_block6_out", "conv5_block3_out"),
    "ResNet50V2": ("conv3_block4_out", "conv4_block6_out", "post_relu"),
    STANDIN_NAME: ("block2_relu", "block3_relu", "block4_relu"),
}


@dataclass
class PretrainedBase:
    """A frozen convolutional base and what it is.

    * ``model``: the Keras model (frozen: ``model.trainable`` is False);
    * ``name``: the backbone (``"VGG16"``, ``"ResNet50V2"``) or ``"cifar10_cnn"`` (the stand-in);
    * ``weights``: ``"imagenet"``, ``"cifar10"`` (the stand-in) or ``"random"``;
    * ``input_size``: the square size the base is meant to be fed (the stand-in was trained on
      32x32 images; a classifier resizes its inputs to this size inside the model);
    * ``note``: one line for tables and plot titles.

    >>> base = load_base("VGG16", 32, "smoke", announce=False)
    >>> base.weights, base.real, base.model.trainable, base.model.output.shape
    ('random', False, False, (None, 1, 1, 512))
    """

    model: keras.Model
    name: str
    weights: str
    input_size: int
    note: str
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def real(self) -> bool:
        """True when the weights were learned on real data (ImageNet or CIFAR-10)."""
        return self.weights in ("imagenet", "cifar10")

    @property
    def is_standin(self) -> bool:
        return self.name == STANDIN_NAME

    @property
    def top_block_start(self) -> str:
        """Name of the first layer of the top block (where fine-tuning starts unfreezing)."""
        if self.name in TOP_BLOCK_START:
            return TOP_BLOCK_START[self.name]
        return self.model.layers[blocks(self.model, self.name)[-1][1]].name

    @property
    def probe_layers(self) -> tuple[str, ...]:
        """Outputs of an early, a middle and the last block (for linear probes)."""
        return PROBE_LAYERS[self.name]

    def preprocess_layer(self, name: str = "preprocess") -> keras.layers.Layer:
        """The layer that turns 0-255 pixels into what the base expects.

        >>> load_base("ResNet50V2", 32, "smoke", announce=False).preprocess_layer().backbone
        'ResNet50V2'
        """
        if self.is_standin:
            return keras.layers.Identity(name=name)  # the stand-in rescales inside
        return bb.Preprocess(self.name, name=name)

    def feature_extractor(self, layer: str | Sequence[str] | None = None,
                          pooling: str | None = "avg", input_size: int | None = None) -> keras.Model:
        """0-255 images -> [resize] -> preprocess -> base up to ``layer`` -> [global pooling].

        ``layer=None`` is the base's output; a list of layer names gives a model with one output
        per layer (one pass over the images for all of them). ``input_size`` is the size of the
        images you will feed (resized to :attr:`input_size` inside when different).

        >>> base = load_base("VGG16", 32, "smoke", announce=False)
        >>> base.feature_extractor("block4_pool").output.shape
        (None, 512)
        >>> [o.shape for o in base.feature_extractor(["block3_pool", "block5_pool"]).outputs]
        [(None, 256), (None, 512)]
        """
        size = input_size or self.input_size
        inputs = keras.Input((size, size, 3), name="image")
        x = inputs
        if size != self.input_size:
            x = keras.layers.Resizing(self.input_size, self.input_size, name="resize")(x)
        x = self.preprocess_layer()(x)
        names = [layer] if layer is None or isinstance(layer, str) else list(layer)
        if names == [None]:
            trunk = self.model
        else:
            trunk = keras.Model(self.model.inputs,
                                [self.model.get_layer(n).output for n in names],
                                name=f"{self.model.name}_to_{'_'.join(names)}")
        maps = trunk(x, training=False)
        maps = [maps] if len(names) == 1 and not isinstance(maps, (list, tuple)) else list(maps)
        outs = []
        for n, m in zip(names, maps):
            tag = n or "top"
            if pooling == "avg":
                m = keras.layers.GlobalAveragePooling2D(name=f"gap_{tag}")(m)
            elif pooling == "max":
                m = keras.layers.GlobalMaxPooling2D(name=f"gmp_{tag}")(m)
            elif pooling is not None:
                raise ValueError(f"pooling must be 'avg', 'max' or None; got {pooling!r}.")
            outs.append(m)
        label = "_".join(n or "top" for n in names)
        return keras.Model(inputs, outs[0] if isinstance(layer, str) or layer is None else outs,
                           name=f"features_{label}")

    def classifier(self, input_size: int, **head: Any) -> keras.Model:
        """A cats-vs-dogs classifier on this base: :func:`~seminar_utils.backbones.build_transfer_model`
        with one sigmoid output, this base's preprocessing, and a resize to :attr:`input_size`.

        ``head`` passes ``augmentation``, ``dense_units``, ``dropout``, ``head``, ``name`` on.

        >>> m = load_base("VGG16", 32, "smoke", announce=False).classifier(32)
        >>> m.output.shape, m.get_layer("backbone").trainable
        ((None, 1), False)
        """
        return bb.build_transfer_model(self.model, (input_size, input_size, 3), 2, binary=True,
                                       preprocess=self.preprocess_layer(),
                                       resize_to=self.input_size, **head)

    def random_twin(self) -> "PretrainedBase":
        """The same architecture with random weights (a control for what pretraining adds).

        >>> load_base("VGG16", 32, "smoke", announce=False).random_twin().weights
        'random'
        """
        if self.is_standin:
            widths = self.info.get("recipe", {}).get("widths", DEFAULT_RECIPE["widths"])
            model = standin_architecture(widths, name=f"{STANDIN_NAME}_random")
        else:
            model = bb.build_backbone(self.name, self.input_size, weights=None,
                                      model_name=f"{self.model.name}_random")
        model.trainable = False
        return PretrainedBase(model, self.name, "random", self.input_size,
                              f"{self.name} with random weights", dict(self.info))

    def describe(self) -> str:
        """One line: what the base is.

        >>> load_base("VGG16", 32, "smoke", announce=False).describe()
        'VGG16 with random weights (weights=None), input 32x32, 14,714,688 parameters'
        """
        return f"{self.note}, input {self.input_size}x{self.input_size}, " \
               f"{self.model.count_params():,} parameters"


# ----------------------------------------------------------------------------- the stand-in

def standin_architecture(widths: Sequence[int] = DEFAULT_RECIPE["widths"],
                         name: str = STANDIN_NAME) -> keras.Model:
    """The stand-in's convolutional base: 0-255 input of any size -> Rescaling(1/255) ->
    blocks ``block{i}_conv`` (3x3, no bias) -> ``block{i}_bn`` -> ``block{i}_relu``, with
    ``block{i}_pool`` (2x2 max pooling) after every block but the last. No classifier.

    At 32x32 the output is 4x4x256 with the default widths.

    >>> m = standin_architecture()
    >>> m.count_params(), [l.name for l in m.layers][-3:]
    (389856, ['block4_conv', 'block4_bn', 'block4_relu'])
    """
    layers = keras.layers
    inputs = keras.Input((None, None, 3), name="image")
    x = layers.Rescaling(1 / 255, name="rescale")(inputs)
    for b, w in enumerate(widths, start=1):
        x = layers.Conv2D(int(w), 3, padding="same", use_bias=False, name=f"block{b}_conv")(x)
        # momentum 0.9: the moving statistics must catch up within a few hundred steps (with
        # Keras's 0.99, 3 epochs on 10,000 images left test accuracy at 0.23 for 0.63 in training)
        x = layers.BatchNormalization(momentum=0.9, name=f"block{b}_bn")(x)
        x = layers.Activation("relu", name=f"block{b}_relu")(x)
        if b < len(widths):
            x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
    return keras.Model(inputs, x, name=name)


def _recipe_for(recipe: Mapping[str, Any] | None) -> dict[str, Any]:
    out = dict(DEFAULT_RECIPE)
    recipe = recipe or {}
    unknown = set(recipe) - set(DEFAULT_RECIPE)
    if unknown:
        raise ValueError(f"Unknown stand-in recipe keys {sorted(unknown)}; "
                         f"valid: {', '.join(DEFAULT_RECIPE)}.")
    out.update(recipe)
    out["widths"] = [int(w) for w in out["widths"]]
    return out


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def cifar10_base(profile: str | None = None, recipe: Mapping[str, Any] | None = None,
                 force: bool = False, verbose: int = 2) -> tuple[keras.Model, dict[str, Any]]:
    """Train the stand-in base on CIFAR-10 once, cache it, and return it frozen with its record.

    The cache is ``seminar_utils.data.artifact_path("cifar10_cnn_base.keras", profile)``
    plus a ``.json`` record (recipe, CIFAR-10 test accuracy, training time, data source). A
    cached base is reused when its recipe matches; ``force=True`` retrains. ``recipe`` overrides
    single keys of :data:`DEFAULT_RECIPE` (what notebooks 04 and 05 use).

    Training: the base + GlobalAveragePooling2D + Dense(10, softmax), Adam with cosine decay,
    random horizontal flips, on ``data.load_cifar10`` (the real CIFAR-10 from the mirror or
    the download; a generated stand-in only when neither exists, which the record says).
    About 28 CPU-seconds per epoch over 20,000 images: the default 3 epochs take about a
    minute on 2 cores and reach ~68 % test accuracy.

    >>> base, record = cifar10_base("quick")                 # doctest: +SKIP
    >>> record["test_accuracy"] > 0.6, base.trainable        # doctest: +SKIP
    (True, False)
    """
    from .data import artifact_path
    profile = resolve_profile(profile)
    rec = _recipe_for(recipe)
    path = artifact_path(STANDIN_ARTIFACT, profile)
    side = _sidecar(path)
    if path.exists() and side.exists() and not force:
        try:
            record = json.loads(side.read_text())
            if record.get("recipe") == rec:
                base = keras.models.load_model(path, compile=False)
                base.trainable = False
                record["cached"] = True
                return base, record
        except Exception as err:  # a broken cache is rebuilt, not fatal
            print(f"Cached stand-in base unusable ({type(err).__name__}: {err}); retraining.")
    import tensorflow as tf
    cifar = data.load_cifar10(profile, train_samples=rec["train_samples"],
                              test_samples=rec["test_samples"], seed=rec["seed"])
    keras.utils.set_random_seed(rec["seed"])
    base = standin_architecture(rec["widths"])
    clf = keras.Sequential([keras.Input((32, 32, 3)), base,
                            keras.layers.GlobalAveragePooling2D(name="gap"),
                            keras.layers.Dense(10, activation="softmax", name="predictions")],
                           name="cifar10_cnn_classifier")
    n = len(cifar.y_train)
    steps = rec["epochs"] * int(np.ceil(n / rec["batch_size"]))
    schedule = keras.optimizers.schedules.CosineDecay(rec["learning_rate"], max(steps, 1),
                                                      alpha=0.05)
    clf.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule),
                loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    def flip(x, y):
        return tf.image.random_flip_left_right(tf.cast(x, tf.float32), seed=rec["seed"]), y

    ds = (tf.data.Dataset.from_tensor_slices((cifar.x_train, cifar.y_train.astype("int32")))
          .shuffle(min(n, 50_000), seed=rec["seed"]).batch(rec["batch_size"])
          .map(flip, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))
    t0 = time.perf_counter()
    history = clf.fit(ds, epochs=rec["epochs"], verbose=verbose, shuffle=False)  # ds shuffles
    seconds = time.perf_counter() - t0
    test_loss, test_acc = clf.evaluate(cifar.x_test.astype("float32"), cifar.y_test, verbose=0,
                                       batch_size=256)
    record = {
        "recipe": rec, "test_accuracy": float(test_acc), "test_loss": float(test_loss),
        "train_accuracy": float(history.history["accuracy"][-1]),
        "train_seconds": round(seconds, 1), "cifar10_source": cifar.source,
        "train_images": int(n), "keras": keras.__version__, "cached": False,
    }
    base.trainable = False
    base.save(path)
    side.write_text(json.dumps(record, indent=1))
    return base, record


# ----------------------------------------------------------------------------- the policy

def load_base(name: str, input_size: int, profile: str | None = None, *,
              recipe: Mapping[str, Any] | None = None, standin_input_size: int = 32,
              announce: bool = True) -> PretrainedBase:
    """The frozen convolutional base of backbone ``name`` for this profile (see the module doc).

    ImageNet weights first, always: full and gpu need them (the error propagates); quick falls
    back to the CIFAR-10 stand-in (:func:`cifar10_base`, trained with ``recipe``); smoke never
    downloads (ImageNet weights only from a local file, else random weights). ``input_size`` is
    the square input of the Keras backbone; the stand-in, fully convolutional, is fed
    ``standin_input_size`` (trained at 32x32, its last block sees more of a photo at 64x64).

    >>> base = load_base("ResNet50V2", 32, "smoke", announce=False)   # offline, no local file
    >>> base.name, base.weights, base.top_block_start
    ('ResNet50V2', 'random', 'conv5_block1_preact_bn')
    """
    profile = resolve_profile(profile)
    spec = bb.get_spec(name)
    try:
        model = bb.build_backbone(spec.name, input_size, weights="imagenet", include_top=False,
                                  download=profile != "smoke")
    except data.AssetUnavailable as err:
        if profile in ("full", "gpu"):
            raise
        reason = str(err).splitlines()[0]
        if profile == "smoke":
            return _random_base(spec, input_size, announce)
        return _standin_base(spec, profile, recipe, standin_input_size, reason, announce)
    model.trainable = False
    note = f"{spec.name} with ImageNet weights"
    if announce:
        print(f"{note}: {model.count_params():,} parameters, input {input_size}x{input_size}.")
    return PretrainedBase(model, spec.name, "imagenet", int(input_size), note)


def _random_base(spec: bb.BackboneSpec, input_size: int, announce: bool) -> PretrainedBase:
    model = bb.build_backbone(spec.name, input_size, weights=None, include_top=False)
    model.trainable = False
    data.record_asset(f"{spec.name} ImageNet weights", "stand-in", "weights=None",
                      note="smoke profile: random weights")
    if announce:
        data.banner(f"SMOKE PROFILE: {spec.name} has RANDOM weights (weights=None).\n"
                    f"The code runs as it would with ImageNet weights; the accuracies mean "
                    f"nothing.")
    return PretrainedBase(model, spec.name, "random", int(input_size),
                          f"{spec.name} with random weights (weights=None)")


def _standin_base(spec: bb.BackboneSpec, profile: str, recipe: Mapping[str, Any] | None,
                  input_size: int, reason: str, announce: bool) -> PretrainedBase:
    model, record = cifar10_base(profile, recipe=recipe)
    acc = record["test_accuracy"]
    src = "real CIFAR-10" if record["cifar10_source"] != "stand-in" else \
        "GENERATED stand-in CIFAR-10 (no mirror, no network)"
    data.record_asset(f"{spec.name} ImageNet weights", "stand-in", str(Path(data.cache_dir())),
                      note=f"not available; a CNN trained on {src} ({record['train_images']:,} "
                           f"images, test accuracy {acc:.3f}) stands in")
    if announce:
        how = ("loaded from the cache" if record.get("cached") else
               f"trained now in {record['train_seconds']:.0f} s and cached")
        data.banner(
            f"STAND-IN BASE: {spec.name}'s ImageNet weights could not be had.\n"
            f"Why: {reason[:160]}\n"
            f"Instead, the 'pretrained' base is a compact CNN ({model.count_params():,} "
            f"parameters) trained on {src}: {record['train_images']:,} images, test accuracy "
            f"{acc:.3f} ({how}). CIFAR-10 has cat and dog classes, so its features transfer "
            f"to cats vs dogs; the figures are NOT those of {spec.name} on ImageNet.\n"
            f"To use the real thing: go online once, or put the weight file in "
            f"$SEMINAR_DATA_MIRROR/models or $KERAS_HOME/models.")
    return PretrainedBase(model, STANDIN_NAME, "cifar10", int(input_size),
                          f"CIFAR-10 stand-in for {spec.name} (test accuracy {acc:.3f})", record)
