"""The pretrained-backbone registry: every Keras Applications model the course uses.

Each :class:`BackboneSpec` knows its constructor, ITS OWN ``preprocess_input`` (caffe, tf,
torch, or none for EfficientNet/MobileNetV3, which rescale inside and must get 0-255), its
native and minimum input size (Keras's own checks, verified by the tests), its features and
parameters. The rule the source project's benchmark most probably broke: every backbone is fed
0-255 pixels and does its own preprocessing. :func:`build_transfer_model` is the one builder of
a transfer model: resize -> augment -> preprocess -> base -> head, the preprocessing inside the
model (a serializable :class:`Preprocess` layer), so it takes 0-255 images and saves to .keras.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import keras
import numpy as np

from .weights import download_failed, locate

__all__ = ["PREPROCESSING_MODES", "BackboneSpec", "BACKBONES", "SOURCE_BENCHMARK",
           "UnknownBackboneError", "names", "get_spec", "check_input_size", "build_backbone",
           "preprocess", "Preprocess", "build_transfer_model"]

# ----------------------------------------------------------------------------- the registry

#: What each preprocessing mode does to 0-255 RGB input.
PREPROCESSING_MODES: dict[str, str] = {
    "caffe": "RGB -> BGR, then subtract the ImageNet channel means (no scaling): about [-124, 152]",
    "tf": "x / 127.5 - 1: [-1, 1]",
    "torch": "x / 255, then (x - ImageNet mean) / ImageNet std: about [-2.1, 2.6]",
    "none": "identity: the model rescales inside (Rescaling layer), so feed 0-255",
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


def build_backbone(
    name: str,
    input_shape: int | Sequence[int | None] | None = None,
    weights: str | None = None,
    include_top: bool = False,
    pooling: str | None = None,
    model_name: str | None = None,
    download: bool = True,
    **kwargs: Any,
) -> keras.Model:
    """Build the Keras application ``name`` after checking the input size against its minimum.

    ``input_shape`` defaults to the native size (224, or 299 for Inception/Xception, 240 for
    EfficientNetB1); an int ``s`` means ``(s, s, 3)``. ``weights=None`` (the default here)
    builds random weights, which works offline; ``"imagenet"`` reads the file Keras publishes
    (:func:`weights_file`) from the offline mirror (``$SEMINAR_DATA_MIRROR/models/``) or the
    Keras cache, or downloads it once into ``$KERAS_HOME/models`` (never with
    ``SEMINAR_OFFLINE=1`` or ``download=False``); the asset report says which. With ``include_top=True`` and ImageNet weights the input must be
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
    source = note = ""
    if weights == "imagenet":
        weights, source, note = locate(spec.name, include_top,
                                       shape[0] if shape[0] == shape[1] else None, download)
    # Keras's default model name on purpose: EfficientNet names its weight FILE after the model
    # (a model called "backbone" would ask for backbone_notop.h5). Renamed afterwards.
    try:
        base = spec.constructor(include_top=include_top, weights=weights, input_shape=shape,
                                pooling=pooling, **kwargs)
    except Exception as err:  # Keras raises a bare Exception("URL fetch failure ...")
        if source == "download" and "fetch failure" in str(err):
            raise download_failed(spec.name, err) from err
        raise
    if model_name is not None:
        base.name = model_name
    base._seminar_backbone = spec.name  # lets set_trainable/blocks find the family
    if source:
        from .data import record_asset
        record_asset(f"{spec.name} ImageNet weights", source,
                     weights if source != "download" else "$KERAS_HOME/models", note=note)
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
    base: str | keras.Model,
    input_shape: Sequence[int | None],
    num_classes: int,
    *,
    preprocess: keras.layers.Layer | None = None,
    resize_to: int | Sequence[int] | None = None,
    augmentation: keras.layers.Layer | None = None,
    head: str = "gap",
    dense_units: int | None = 256,
    dropout: float = 0.5,
    weights: str | None = None,
    base_trainable: bool = False,
    binary: bool = False,
    keep_bn_frozen: bool = True,
    name: str | None = None,
) -> keras.Model:
    """A transfer-learning classifier: 0-255 images -> resize -> augment -> preprocess -> base -> head.

    ``base`` is a registry name (built here with ``weights``; its own ``preprocess_input`` as a
    :class:`Preprocess` layer) or a convolutional base you built (with its ``preprocess`` layer;
    none if it takes 0-255 pixels). The order is the one the course teaches: RESIZE first
    (``resize_to``, e.g. CIFAR-10's 32 px up to what the base accepts), so the augmentation acts
    on the very image the network sees, as when a pipeline resizes before the model; then
    AUGMENT (any layer; only active in training); then PREPROCESS on the resized, augmented
    0-255 image; then the base (layer ``"backbone"``) called with ``training=False``, frozen
    (``base_trainable=False``) or trainable with its BatchNorm frozen (``keep_bn_frozen``: in
    Keras 3 fit()'s ``training=True`` overrides that ``training=False``, keras-team/keras#20285,
    so a frozen BatchNorm is what keeps it in inference mode); then the head: ``"gap"`` or
    ``"flatten"``, ``Dense(dense_units, relu)``, ``Dropout(dropout)``, and ``Dense(num_classes,
    softmax)`` or, with ``binary=True``, ``Dense(1, sigmoid)``.

    >>> m = build_transfer_model("MobileNetV2", (32, 32, 3), num_classes=10)
    >>> m.output.shape, m.get_layer("backbone").trainable
    ((None, 10), False)
    """
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
    if resize_to is None:
        size = shape[:2]
    elif isinstance(resize_to, (int, np.integer)):
        size = (int(resize_to), int(resize_to))
    else:
        size = tuple(int(d) for d in resize_to)
    if isinstance(base, str):
        spec = get_spec(base)
        check_input_size(spec.name, *size)
        base = build_backbone(spec.name, input_shape=(*size, shape[2]), weights=weights,
                              include_top=False)
        preprocess = Preprocess(spec.name, name="preprocess")
        name = name or f"{spec.name.lower()}_transfer"
    base.name = "backbone"        # what set_trainable() and the notebooks look for

    inputs = keras.Input(shape=shape, name="image")
    x = inputs
    if resize_to is not None and tuple(size) != shape[:2]:
        x = keras.layers.Resizing(*size, name="resize")(x)
    if augmentation is not None:
        x = augmentation(x)
    if preprocess is not None:
        x = preprocess(x)
    if base_trainable:
        from .freezing import set_trainable
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
    return keras.Model(inputs, outputs, name=name or "transfer_model")
