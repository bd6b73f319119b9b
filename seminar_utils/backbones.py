"""The pretrained-backbone registry: every Keras Applications model the course uses.

Each :class:`BackboneSpec` knows the model's constructor, ITS OWN ``preprocess_input`` (the
function of its family module: ``keras.applications.resnet`` for ResNet50,
``keras.applications.resnet_v2`` for ResNet50V2, ...), its native and minimum input size,
the number of features it returns and its parameter count without the ImageNet classifier.

The one rule that the source project's benchmark most probably broke (EfficientNetB0/B1
stuck at 10 %, ResNet50 at 53 %): every backbone is fed **0-255 pixels** and does its own
preprocessing.

* ``caffe`` (ResNet50, VGG16, VGG19): RGB -> BGR and subtract the ImageNet channel means;
* ``tf`` (ResNet V2, Inception, Xception, MobileNet V1/V2): ``x / 127.5 - 1``, into [-1, 1];
* ``torch`` (DenseNet): ``x / 255`` then ImageNet mean / std;
* ``none`` (EfficientNet, MobileNetV3): ``preprocess_input`` is the identity because the
  model starts with its own ``Rescaling`` layer. Feeding these [0, 1] images breaks them
  silently: no error, but the network sees an almost black, near-constant picture.

:func:`build_transfer_model` puts the right preprocessing inside the model (a serializable
:class:`Preprocess` layer), so a model built here takes 0-255 images, saves to ``.keras`` and
reloads. :func:`set_trainable` freezes and unfreezes a backbone by layer name, index or
top blocks, keeping BatchNormalization frozen; :func:`trainable_summary` counts the result.

Minimum input sizes are Keras's own checks (``imagenet_utils.obtain_input_shape``, and the
copy of it in ``mobilenet_v3``): one pixel less and Keras raises ``ValueError: Input size
must be at least 32x32; Received: input_shape=(31, 31, 3)``. Every minimum in
:data:`BACKBONES` was verified by building each model with ``weights=None`` at the minimum
(it builds and runs) and at minimum - 1 (Keras raises that ValueError); the tests repeat it.
"""

from __future__ import annotations

import difflib
import inspect
import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import keras
import numpy as np

# ----------------------------------------------------------------------------- the registry

#: What each preprocessing mode does to 0-255 RGB input.
PREPROCESSING_MODES: dict[str, str] = {
    "caffe": "RGB -> BGR, then subtract the ImageNet channel means (no scaling): about [-124, 152]",
    "tf": "x / 127.5 - 1: [-1, 1]",
    "torch": "x / 255, then (x - ImageNet mean) / ImageNet std: about [-2.1, 2.6]",
    "none": "identity: the model rescales inside (Rescaling layer), so feed 0-255",
}


@dataclass(frozen=True)
class BlockRule:
    """How the blocks of one family are found from its layer names.

    ``style="prefix"``: a block starts at the first layer whose name matches ``pattern``
    (group 1 is the block id, e.g. ``conv5_block3``); layers that match no block (auto-named
    shortcut convolutions and adds, ``post_bn``, ``top_conv``, ...) belong to the block before
    them; layers before the first block are the stem and belong to no block.
    ``style="end"``: a matching layer CLOSES a block (Inception's ``mixed7`` concatenation);
    the block starts right after the previous closing layer, so the first block includes the
    stem and the layers after the last closing layer belong to the last block.

    >>> BlockRule(r"^(block\\d+)_", "prefix", "block5").style
    'prefix'
    """

    pattern: str
    style: str
    example: str
    label: str = "{}"

    def block_id(self, layer_name: str) -> str | None:
        m = re.match(self.pattern, layer_name)
        if not m:
            return None
        group = next(g for g in m.groups() if g is not None)
        return self.label.format(group)


BLOCK_RULES: dict[str, BlockRule] = {
    # ResNet50 conv5_block3_*, ResNet V2 conv5_block3_* (+ post_bn), DenseNet conv5_block16_*
    # (the transition layers pool4_* stay with the block before them).
    "resnet": BlockRule(r"^(conv\d+_block\d+)_", "prefix", "conv5_block3"),
    "densenet": BlockRule(r"^(conv\d+_block\d+)_", "prefix", "conv5_block16"),
    # VGG block5_conv1 ... block5_pool; Xception block14_sepconv1 ... (its strided shortcut
    # convolutions are auto-named and sit inside the block range in Keras 3's layer order).
    "vgg": BlockRule(r"^(block\d+)_", "prefix", "block5"),
    "xception": BlockRule(r"^(block\d+)_", "prefix", "block14"),
    # EfficientNet MBConv blocks block1a ... block7a (top_conv/top_bn go with the last one).
    "efficientnet": BlockRule(r"^(block\d+[a-z])_", "prefix", "block7a"),
    # MobileNet V1: conv_pad_N / conv_dw_N / conv_pw_N form block N.
    "mobilenet": BlockRule(r"^conv_(?:pad|dw|pw)_(\d+)", "prefix", "conv_*_13", label="conv_*_{}"),
    # MobileNetV2: expanded_conv_* (block 0) then block_1_* ... block_16_*.
    "mobilenet_v2": BlockRule(r"^(expanded_conv|block_\d+)_", "prefix", "block_16"),
    # MobileNetV3: expanded_conv_* (block 0) then expanded_conv_1_* ... expanded_conv_14_*.
    "mobilenet_v3": BlockRule(r"^(expanded_conv(?:_\d+)?)_", "prefix", "expanded_conv_14"),
    # InceptionV3: inception modules end in a concatenation mixed0 ... mixed10 (the inner
    # mixed9_0 / mixed9_1 do not count); branch layers are auto-named conv2d_N.
    "inception_v3": BlockRule(r"^(mixed\d+)$", "end", "mixed10"),
    # InceptionResNetV2: reduction modules mixed_5b / mixed_6a / mixed_7a and residual blocks
    # block35_N / block17_N / block8_N, each closed by its activation block*_N_ac (the last,
    # block8_10, has no activation: its 1x1 projection block8_10_conv closes it).
    "inception_resnet_v2": BlockRule(
        r"^(mixed_\d[a-z])$|^(block(?:35|17|8)_\d+)_ac$|^(block8_10)_conv$", "end", "block8_10"),
}


@dataclass(frozen=True)
class BackboneSpec:
    """One pretrained backbone: how to build it, preprocess for it, and what it returns.

    >>> spec = get_spec("ResNet50V2")
    >>> spec.native_size, spec.min_size, spec.features, spec.preprocessing
    (224, 32, 2048, 'tf')
    """

    name: str
    constructor: Callable[..., Any]
    preprocess_input: Callable[..., Any]
    family: str                     # the keras.applications module: "resnet", "resnet_v2", ...
    native_size: int                # the ImageNet training size (input of include_top=True)
    min_size: int                   # smallest height/width Keras accepts
    features: int                   # channels of the last feature map (= pooled feature size)
    params_no_top: int              # parameters with include_top=False (pooling adds none)
    preprocessing: str              # "caffe", "tf", "torch" or "none" (see PREPROCESSING_MODES)
    keras_name: str                 # regex matching Keras's default model name
    block_rule: str                 # key of BLOCK_RULES
    input_range: tuple[float, float] = (0.0, 255.0)   # what preprocess() / the model expects
    # Square sizes accepted with include_top=True and ImageNet weights: () = the native size
    # only (Keras's obtain_input_shape rule), None = any size (Keras loads the 224 weights).
    imagenet_top_sizes: tuple[int, ...] | None = ()

    @property
    def rescales_internally(self) -> bool:
        """True when the model contains its own Rescaling (EfficientNet, MobileNetV3)."""
        return self.preprocessing == "none"

    @property
    def native_shape(self) -> tuple[int, int, int]:
        """``(native_size, native_size, 3)``."""
        return (self.native_size, self.native_size, 3)

    def describe(self) -> str:
        """One line for a table: name, sizes, features, parameters, preprocessing mode.

        >>> get_spec("EfficientNetB1").describe()
        'EfficientNetB1: native 240, min 32, 1280 features, 6,575,239 params (no top), preprocessing none'
        """
        return (f"{self.name}: native {self.native_size}, min {self.min_size}, "
                f"{self.features} features, {self.params_no_top:,} params (no top), "
                f"preprocessing {self.preprocessing}")


_A = keras.applications

BACKBONES: dict[str, BackboneSpec] = {
    s.name: s for s in [
        BackboneSpec("DenseNet121", _A.DenseNet121, _A.densenet.preprocess_input, "densenet",
                     224, 32, 1024, 7_037_504, "torch", r"densenet121", "densenet"),
        BackboneSpec("DenseNet169", _A.DenseNet169, _A.densenet.preprocess_input, "densenet",
                     224, 32, 1664, 12_642_880, "torch", r"densenet169", "densenet"),
        BackboneSpec("DenseNet201", _A.DenseNet201, _A.densenet.preprocess_input, "densenet",
                     224, 32, 1920, 18_321_984, "torch", r"densenet201", "densenet"),
        BackboneSpec("EfficientNetB0", _A.EfficientNetB0, _A.efficientnet.preprocess_input,
                     "efficientnet", 224, 32, 1280, 4_049_571, "none", r"efficientnetb0",
                     "efficientnet"),
        BackboneSpec("EfficientNetB1", _A.EfficientNetB1, _A.efficientnet.preprocess_input,
                     "efficientnet", 240, 32, 1280, 6_575_239, "none", r"efficientnetb1",
                     "efficientnet"),
        BackboneSpec("InceptionV3", _A.InceptionV3, _A.inception_v3.preprocess_input,
                     "inception_v3", 299, 75, 2048, 21_802_784, "tf", r"inception_v3",
                     "inception_v3"),
        BackboneSpec("MobileNetV2", _A.MobileNetV2, _A.mobilenet_v2.preprocess_input,
                     "mobilenet_v2", 224, 32, 1280, 2_257_984, "tf", r"mobilenetv2_[\d.]+_\d+",
                     "mobilenet_v2", imagenet_top_sizes=(96, 128, 160, 192, 224)),
        BackboneSpec("MobileNetV3Large", _A.MobileNetV3Large, _A.mobilenet_v3.preprocess_input,
                     "mobilenet_v3", 224, 32, 960, 2_996_352, "none", r"(?i)mobilenetv3large",
                     "mobilenet_v3", imagenet_top_sizes=None),
        BackboneSpec("ResNet152V2", _A.ResNet152V2, _A.resnet_v2.preprocess_input, "resnet_v2",
                     224, 32, 2048, 58_331_648, "tf", r"resnet152v2", "resnet"),
        BackboneSpec("ResNet50", _A.ResNet50, _A.resnet.preprocess_input, "resnet",
                     224, 32, 2048, 23_587_712, "caffe", r"resnet50", "resnet"),
        BackboneSpec("ResNet50V2", _A.ResNet50V2, _A.resnet_v2.preprocess_input, "resnet_v2",
                     224, 32, 2048, 23_564_800, "tf", r"resnet50v2", "resnet"),
        BackboneSpec("VGG16", _A.VGG16, _A.vgg16.preprocess_input, "vgg16",
                     224, 32, 512, 14_714_688, "caffe", r"vgg16", "vgg"),
        BackboneSpec("VGG19", _A.VGG19, _A.vgg19.preprocess_input, "vgg19",
                     224, 32, 512, 20_024_384, "caffe", r"vgg19", "vgg"),
        BackboneSpec("Xception", _A.Xception, _A.xception.preprocess_input, "xception",
                     299, 71, 2048, 20_861_480, "tf", r"xception", "xception"),
        BackboneSpec("MobileNet", _A.MobileNet, _A.mobilenet.preprocess_input, "mobilenet",
                     224, 32, 1024, 3_228_864, "tf", r"mobilenet_[\d.]+_\d+", "mobilenet",
                     imagenet_top_sizes=(128, 160, 192, 224)),
        BackboneSpec("InceptionResNetV2", _A.InceptionResNetV2,
                     _A.inception_resnet_v2.preprocess_input, "inception_resnet_v2",
                     299, 75, 1536, 54_336_736, "tf", r"inception_resnet_v2",
                     "inception_resnet_v2"),
    ]
}

#: The 14 backbones of the source project's benchmark table, in its order (notebook 07).
SOURCE_BENCHMARK: tuple[str, ...] = (
    "DenseNet121", "DenseNet169", "DenseNet201", "EfficientNetB0", "EfficientNetB1",
    "InceptionV3", "MobileNetV2", "MobileNetV3Large", "ResNet152V2", "ResNet50", "ResNet50V2",
    "VGG19", "VGG16", "Xception",
)


class UnknownBackboneError(KeyError):
    """A backbone name that is not in :data:`BACKBONES` (the message suggests close names)."""

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0]) if self.args else ""


def names(source_only: bool = False) -> list[str]:
    """The registered backbone names (or only the source benchmark's 14, in its order).

    >>> len(names()), len(names(source_only=True))
    (16, 14)
    """
    return list(SOURCE_BENCHMARK) if source_only else list(BACKBONES)


def get_spec(name: str | BackboneSpec) -> BackboneSpec:
    """The :class:`BackboneSpec` of ``name``, matched case-insensitively.

    An unknown name raises :class:`UnknownBackboneError` listing the closest matches and all
    valid names.

    >>> get_spec("resnet50v2").name
    'ResNet50V2'
    """
    if isinstance(name, BackboneSpec):
        return name
    key = str(name).strip().lower()
    for spec_name, spec in BACKBONES.items():
        if spec_name.lower() == key:
            return spec
    lower = {n.lower(): n for n in BACKBONES}
    close = [lower[m] for m in difflib.get_close_matches(key, list(lower), n=3, cutoff=0.6)]
    # A prefix ("resnet5", "efficientnet") is a strong hint even when difflib's ratio is low.
    close += [n for n in BACKBONES if n.lower().startswith(key) and key and n not in close]
    hint = f" Did you mean: {', '.join(close[:4])}?" if close else ""
    raise UnknownBackboneError(
        f"Unknown backbone {name!r}.{hint} Valid names: {', '.join(BACKBONES)}."
    )


# ----------------------------------------------------------------------------- building

def _size_of(input_shape: int | Sequence[int | None] | None, spec: BackboneSpec
             ) -> tuple[int | None, int | None, int]:
    if input_shape is None:
        return spec.native_shape
    if isinstance(input_shape, (int, np.integer)):
        return (int(input_shape), int(input_shape), 3)
    shape = tuple(None if d is None else int(d) for d in input_shape)
    if len(shape) != 3:
        raise ValueError(
            f"input_shape for {spec.name} must be (height, width, channels) or one int, "
            f"got {input_shape!r}."
        )
    return shape  # type: ignore[return-value]


def check_input_size(name: str, height: int | None, width: int | None = None) -> None:
    """Raise a clear ValueError when ``height x width`` is below the backbone's minimum.

    ``None`` (a variable size) is not checked.

    >>> check_input_size("InceptionV3", 75)
    >>> check_input_size("InceptionV3", 32)
    Traceback (most recent call last):
    ...
    ValueError: InceptionV3 needs inputs of at least 75x75 pixels; got 32x32. Resize the images (e.g. build_transfer_model(..., resize_to=75), or its native 299).
    """
    spec = get_spec(name)
    width = height if width is None else width
    too_small = [d for d in (height, width) if d is not None and d < spec.min_size]
    if too_small:
        raise ValueError(
            f"{spec.name} needs inputs of at least {spec.min_size}x{spec.min_size} pixels; "
            f"got {height}x{width}. Resize the images (e.g. build_transfer_model(..., "
            f"resize_to={spec.min_size}), or its native {spec.native_size})."
        )


def _weights_unavailable(spec: BackboneSpec, weights: str, err: Exception) -> Exception:
    from .data import AssetUnavailable
    return AssetUnavailable(
        f"The {weights!r} weights of {spec.name} could not be downloaded ({err}).\n"
        f"Keras caches them under $KERAS_HOME/models (default ~/.keras/models): put the file "
        f"named in the URL above there, or go online once. Without them use weights=None "
        f"(random initialisation): the code runs, but accuracies are not those of a "
        f"pretrained model."
    )


def build_backbone(
    name: str,
    input_shape: int | Sequence[int | None] | None = None,
    weights: str | None = None,
    include_top: bool = False,
    pooling: str | None = None,
    model_name: str | None = None,
    **kwargs: Any,
) -> keras.Model:
    """Build the Keras application ``name`` after checking the input size against its minimum.

    ``input_shape`` defaults to the native size (224, or 299 for Inception/Xception, 240 for
    EfficientNetB1); an int ``s`` means ``(s, s, 3)``. ``weights=None`` (the default here)
    builds random weights, which works offline; ``"imagenet"`` downloads once into
    ``$KERAS_HOME/models``. With ``include_top=True`` and ImageNet weights the input must be
    the native size (MobileNet V1/V2 also take their smaller ImageNet sizes, MobileNetV3 any).
    ``model_name`` renames the Keras model (Keras's default is e.g. ``"resnet50v2"``); other
    keyword arguments go to the Keras constructor (``classes``, ``classifier_activation``, ...).

    >>> base = build_backbone("MobileNetV2", 32, pooling="avg")
    >>> base.output.shape
    (None, 1280)
    """
    spec = get_spec(name)
    shape = _size_of(input_shape, spec)
    check_input_size(spec.name, shape[0], shape[1])
    sizes = spec.imagenet_top_sizes or (spec.native_size,)
    if (include_top and weights == "imagenet" and spec.imagenet_top_sizes is not None
            and tuple(shape) not in {(s, s, 3) for s in sizes}):
        takes = (f"only its native input {spec.native_shape}" if len(sizes) == 1 else
                 f"square 3-channel inputs of {', '.join(map(str, sizes))} pixels "
                 f"(native {spec.native_size})")
        raise ValueError(
            f"{spec.name} with include_top=True and ImageNet weights takes {takes}; got "
            f"{tuple(shape)}. Use input_shape=None (the native size), resize the images to "
            f"{spec.native_size}x{spec.native_size}, or use include_top=False with your own head."
        )
    if model_name is not None and "name" in inspect.signature(spec.constructor).parameters:
        kwargs["name"] = model_name
    try:
        base = spec.constructor(include_top=include_top, weights=weights, input_shape=shape,
                                pooling=pooling, **kwargs)
    except Exception as err:  # Keras raises a bare Exception("URL fetch failure ...")
        if isinstance(weights, str) and "fetch failure" in str(err):
            raise _weights_unavailable(spec, weights, err) from err
        raise
    if model_name is not None and base.name != model_name:  # Keras without a `name` argument
        base.name = model_name
    base._seminar_backbone = spec.name  # lets set_trainable/blocks find the family
    return base


# ----------------------------------------------------------------------------- preprocessing

def preprocess(name: str, images: Any) -> Any:
    """Turn 0-255 RGB pixels into what backbone ``name`` expects, with its own function.

    Exactly the family's ``preprocess_input`` (``keras.applications.<family>``), but never
    modifying the caller's array: NumPy input is copied first (Keras's function works in
    place on float arrays). Integer input (uint8 images) becomes ``float32`` first. Tensors
    come back as tensors. For EfficientNet and MobileNetV3 this is the identity: those models
    rescale inside and must get 0-255.

    >>> x = np.full((1, 2, 2, 3), 255.0, dtype="float32")
    >>> float(preprocess("ResNet50V2", x).max()), float(x.max())
    (1.0, 255.0)
    """
    spec = get_spec(name)
    if isinstance(images, np.ndarray) or np.isscalar(images) or isinstance(images, (list, tuple)):
        x = np.array(images, copy=True)
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(keras.config.floatx())
        return spec.preprocess_input(x)
    x = images
    if not keras.backend.is_float_dtype(keras.backend.standardize_dtype(x.dtype)):
        x = keras.ops.cast(x, keras.config.floatx())
    return spec.preprocess_input(x)


@keras.saving.register_keras_serializable(package="seminar_utils")
class Preprocess(keras.layers.Layer):
    """A layer that applies backbone ``backbone``'s own ``preprocess_input`` (0-255 in).

    Registered as serializable, so a model containing it saves to ``.keras`` and reloads
    (after ``import seminar_utils.backbones``), unlike a ``Lambda`` layer.

    >>> layer = Preprocess("ResNet50V2")
    >>> float(keras.ops.max(layer(np.full((1, 2, 2, 3), 255.0, dtype="float32"))))
    1.0
    """

    def __init__(self, backbone: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.backbone = get_spec(backbone).name

    def call(self, inputs: Any) -> Any:
        x = keras.ops.cast(inputs, self.compute_dtype)
        return get_spec(self.backbone).preprocess_input(x)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "backbone": self.backbone}


def build_transfer_model(
    name: str,
    input_shape: Sequence[int | None],
    num_classes: int,
    resize_to: int | Sequence[int] | None = None,
    augmentation: keras.layers.Layer | None = None,
    head: str = "gap",
    dense_units: int | None = 256,
    dropout: float = 0.5,
    weights: str | None = None,
    base_trainable: bool = False,
    binary: bool = False,
    keep_bn_frozen: bool = True,
) -> keras.Model:
    """A transfer-learning classifier: 0-255 images -> [resize] -> [augment] -> preprocess ->
    backbone -> head.

    * ``resize_to`` (int or (h, w)): a ``Resizing`` layer, e.g. CIFAR-10's 32 px up to a size
      the backbone accepts (75 for InceptionV3, its native 299 for the real thing).
    * ``augmentation``: a Keras layer or Sequential, applied to the resized 0-255 image
      (so brightness/contrast layers need ``value_range=(0, 255)``, their default).
    * the backbone's own preprocessing, as a :class:`Preprocess` layer inside the model;
    * the backbone (``model.get_layer("backbone")``), frozen (``base_trainable=False``,
      feature extraction) or trainable with its BatchNormalization layers kept frozen
      (``base_trainable=True``, as ``set_trainable(model, "all", keep_bn_frozen=...)``);
      it is called with ``training=False``. Keras 3 pitfall: inside ``fit()`` the outer
      ``training=True`` OVERRIDES that ``training=False`` (keras-team/keras#20285), so what keeps
      BatchNorm in inference mode during fine-tuning is ``BatchNormalization.trainable=False``
      (``keep_bn_frozen=True``), not the call argument;
    * the head: ``"gap"`` (GlobalAveragePooling2D) or ``"flatten"``; then
      ``Dense(dense_units, relu)`` unless ``dense_units`` is None/0; ``Dropout(dropout)`` when
      ``dropout > 0``; then ``Dense(num_classes, softmax)``. With ``binary=True`` (needs
      ``num_classes=2``) the output is ``Dense(1, sigmoid)`` for binary cross-entropy.

    The source project's head (AveragePooling2D(7) + Flatten + Dense(256) + Dropout(0.5) +
    Dense(10)) is ``head="gap"`` at 224 px: same weights, same output.

    >>> m = build_transfer_model("MobileNetV2", (32, 32, 3), num_classes=10)
    >>> m.output.shape, m.get_layer("backbone").trainable
    ((None, 10), False)
    """
    spec = get_spec(name)
    shape = tuple(None if d is None else int(d) for d in input_shape)
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels); got {input_shape!r}.")
    if head not in ("gap", "flatten"):
        raise ValueError(f"head must be 'gap' or 'flatten'; got {head!r}.")
    if binary and num_classes != 2:
        raise ValueError(f"binary=True gives one sigmoid output for 2 classes; "
                         f"got num_classes={num_classes}.")
    if not binary and num_classes < 2:
        raise ValueError(f"num_classes must be >= 2 (use num_classes=2, binary=True for one "
                         f"sigmoid output); got {num_classes}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout}.")

    inputs = keras.Input(shape=shape, name="image")
    x = inputs
    if resize_to is not None:
        if isinstance(resize_to, (int, np.integer)):
            h, w = resize_to, resize_to
        else:
            h, w = tuple(resize_to)
        check_input_size(spec.name, int(h), int(w))
        x = keras.layers.Resizing(int(h), int(w), name="resize")(x)
        size = (int(h), int(w))
    else:
        check_input_size(spec.name, shape[0], shape[1])
        size = (shape[0], shape[1])
    if augmentation is not None:
        x = augmentation(x)
    x = Preprocess(spec.name, name="preprocess")(x)
    base = build_backbone(spec.name, input_shape=(size[0], size[1], shape[2]), weights=weights,
                          include_top=False, model_name="backbone")
    if base_trainable:
        set_trainable(base, "all", keep_bn_frozen=keep_bn_frozen)
    else:
        base.trainable = False
    x = base(x, training=False)
    if head == "gap":
        x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    else:
        x = keras.layers.Flatten(name="flatten")(x)
    if dense_units:
        x = keras.layers.Dense(int(dense_units), activation="relu", name="head_dense")(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    if binary:
        outputs = keras.layers.Dense(1, activation="sigmoid", name="predictions")(x)
    else:
        outputs = keras.layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"{spec.name.lower()}_transfer")


# ----------------------------------------------------------------------------- freezing

def _base_of(model_or_base: keras.Model) -> keras.Model:
    """The backbone inside a transfer model (layer "backbone"), or the model itself."""
    try:
        inner = model_or_base.get_layer("backbone")
    except (ValueError, AttributeError):
        return model_or_base
    return inner if hasattr(inner, "layers") else model_or_base


def _spec_of(model_or_base: keras.Model, backbone: str | None = None) -> BackboneSpec:
    """Which registry entry a model is: the name given, our tag, a Preprocess layer, Keras's name."""
    if backbone is not None:
        return get_spec(backbone)
    base = _base_of(model_or_base)
    tag = getattr(base, "_seminar_backbone", None)
    if tag:
        return get_spec(tag)
    for layer in getattr(model_or_base, "layers", []):
        if isinstance(layer, Preprocess):
            return get_spec(layer.backbone)
    for spec in BACKBONES.values():
        if re.fullmatch(spec.keras_name, base.name):
            return spec
    raise ValueError(
        f"Cannot tell which backbone model {base.name!r} is; pass backbone=<name> "
        f"(one of {', '.join(BACKBONES)}), or use from_layer= / from_index=."
    )


def blocks(model_or_base: keras.Model, backbone: str | None = None) -> list[tuple[str, int]]:
    """The blocks of a backbone as ``(block_id, index of its first layer)``, bottom to top.

    How blocks are found per family is :data:`BLOCK_RULES`: ResNet/DenseNet ``conv5_block3``,
    VGG/Xception ``block5``, EfficientNet ``block7a``, MobileNet ``conv_*_13``, MobileNetV2
    ``block_16``, MobileNetV3 ``expanded_conv_14``, InceptionV3 ``mixed10``,
    InceptionResNetV2 ``block8_10``. The family comes from ``backbone`` or is detected.

    >>> base = build_backbone("VGG16", 32)
    >>> blocks(base)[-2:]
    [('block4', 11), ('block5', 15)]
    """
    base = _base_of(model_or_base)
    spec = _spec_of(model_or_base, backbone)
    rule = BLOCK_RULES[spec.block_rule]
    found: list[tuple[str, int]] = []
    seen: set[str] = set()
    if rule.style == "prefix":
        for i, layer in enumerate(base.layers):
            bid = rule.block_id(layer.name)
            if bid is not None and bid not in seen:
                seen.add(bid)
                found.append((bid, i))
    else:
        start = 1 if base.layers and isinstance(base.layers[0], keras.layers.InputLayer) else 0
        for i, layer in enumerate(base.layers):
            bid = rule.block_id(layer.name)
            if bid is not None and bid not in seen:
                seen.add(bid)
                found.append((bid, start))
                start = i + 1
    if not found:
        raise ValueError(
            f"No {spec.name} blocks (like {rule.example!r}) found in model {base.name!r}; "
            f"is it really {spec.name}? Use from_layer= or from_index= instead."
        )
    return found


def _layer_index(base: keras.Model, layer_name: str) -> int:
    layer_names = [layer.name for layer in base.layers]
    if layer_name in layer_names:
        return layer_names.index(layer_name)
    close = difflib.get_close_matches(layer_name, layer_names, n=5, cutoff=0.5)
    hint = f" Closest: {', '.join(close)}." if close else ""
    sample = layer_names[1:4] + ["..."] + layer_names[-3:]
    raise ValueError(
        f"Model {base.name!r} has no layer {layer_name!r}.{hint} It has {len(layer_names)} "
        f"layers ({', '.join(sample)}); list them with [l.name for l in base.layers]."
    )


def set_trainable(
    model_or_base: keras.Model,
    mode: str | None = None,
    *,
    from_layer: str | None = None,
    from_index: int | None = None,
    top_blocks: int | None = None,
    keep_bn_frozen: bool = True,
    backbone: str | None = None,
) -> int:
    """Freeze or unfreeze a backbone (the model itself, or the "backbone" layer of a transfer
    model; the head is left as it is). Give exactly one of:

    * ``mode="none"``: everything frozen (feature extraction); ``mode="all"``: all trainable;
    * ``from_layer="conv5_block1_preact_bn"``: that layer and every layer after it trainable,
      everything before it frozen;
    * ``from_index=143``: the same by position in ``base.layers`` (as ``base.layers[143:]``;
      negative counts from the end);
    * ``top_blocks=N``: the top N blocks (and the layers after them) trainable; see
      :func:`blocks` for what a block is in each family.

    ``keep_bn_frozen=True`` (default) leaves every BatchNormalization layer frozen even in the
    trainable range, the usual fine-tuning advice: small batches would otherwise wreck the
    ImageNet statistics. In Keras 3 a frozen BatchNormalization layer also runs in inference
    mode (moving mean/variance), and this is what protects them inside ``fit()``: calling the
    backbone with ``training=False`` does not, because ``fit()``'s ``training=True`` overrides
    it (keras-team/keras#20285). ``keep_bn_frozen=False`` is what ``base.trainable = True``
    does: BatchNorm gamma/beta train and the moving statistics follow each batch.

    Returns the index of the first trainable layer (``len(layers)`` when none). Compile the
    model again afterwards: a change is seen only by a new ``compile()``.

    >>> m = build_transfer_model("ResNet50V2", (64, 64, 3), num_classes=10)
    >>> set_trainable(m, from_layer="conv5_block1_preact_bn", keep_bn_frozen=False)
    154
    >>> len(m.trainable_weights)
    38
    """
    choices = (("mode", mode), ("from_layer", from_layer), ("from_index", from_index),
               ("top_blocks", top_blocks))
    given = [k for k, v in choices if v is not None]
    if len(given) != 1:
        raise ValueError(
            "Give exactly one of mode='all'|'none', from_layer=, from_index=, top_blocks=; "
            f"got {', '.join(given) or 'none of them'}."
        )
    base = _base_of(model_or_base)
    n = len(base.layers)
    if mode is not None:
        if mode not in ("all", "none"):
            raise ValueError(f"mode must be 'all' or 'none'; got {mode!r}.")
        start = 0 if mode == "all" else n
    elif from_layer is not None:
        start = _layer_index(base, from_layer)
    elif from_index is not None:
        if not -n <= int(from_index) <= n:
            raise ValueError(f"from_index must be in [{-n}, {n}] for {base.name!r} ({n} layers); "
                             f"got {from_index}.")
        start = int(from_index) % n if int(from_index) != n else n
    else:
        found = blocks(model_or_base, backbone)
        k = int(top_blocks)  # type: ignore[arg-type]
        if not 0 <= k <= len(found):
            raise ValueError(
                f"top_blocks must be in [0, {len(found)}]: {base.name!r} has {len(found)} blocks "
                f"({found[0][0]} ... {found[-1][0]}); got {top_blocks}."
            )
        start = found[-k][1] if k else n
    if start >= n:
        base.trainable = False
        return n
    base.trainable = True  # in Keras 3 this also sets every inner layer; now undo below start
    for i, layer in enumerate(base.layers):
        bn = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = i >= start and not (keep_bn_frozen and bn)
    return start


def freeze(model_or_base: keras.Model) -> None:
    """Freeze the whole backbone (feature extraction); the head of a transfer model stays trainable.

    >>> m = build_transfer_model("MobileNetV2", (32, 32, 3), num_classes=10, base_trainable=True)
    >>> freeze(m); len(m.trainable_weights)
    4
    """
    set_trainable(model_or_base, "none")


def trainable_summary(model: keras.Model, show: bool = True) -> dict[str, int]:
    """Count trainable and non-trainable weight tensors and parameters; print a small table.

    ``trainable_tensors`` is the number fine-tuning tutorials quote as
    ``len(model.trainable_weights)``; BatchNorm moving means/variances are always non-trainable.

    >>> import keras
    >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> trainable_summary(m, show=False)
    {'trainable_tensors': 2, 'trainable_params': 8, 'non_trainable_tensors': 0, 'non_trainable_params': 0}
    """
    def size(w: Any) -> int:
        return int(np.prod(w.shape)) if len(w.shape) else 1

    t, nt = model.trainable_weights, model.non_trainable_weights
    out = {
        "trainable_tensors": len(t),
        "trainable_params": sum(size(w) for w in t),
        "non_trainable_tensors": len(nt),
        "non_trainable_params": sum(size(w) for w in nt),
    }
    if show:
        rows = [("", "weight tensors", "parameters"),
                ("trainable", f"{out['trainable_tensors']:,}", f"{out['trainable_params']:,}"),
                ("non-trainable", f"{out['non_trainable_tensors']:,}",
                 f"{out['non_trainable_params']:,}"),
                ("total", f"{out['trainable_tensors'] + out['non_trainable_tensors']:,}",
                 f"{out['trainable_params'] + out['non_trainable_params']:,}")]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        print(f"{model.name}:")
        for r in rows:
            print(f"  {r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}")
    return out
