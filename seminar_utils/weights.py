"""ImageNet weight files: the names Keras publishes, and where the course finds them.

``keras.applications.X(weights="imagenet")`` downloads a published ``.h5`` file into
``$KERAS_HOME/models``. The course looks first in an offline mirror laid out the same way
(``$SEMINAR_DATA_MIRROR/models/<file>``: copy a ``~/.keras/models`` folder there for a room
without internet), then in Keras's cache, and downloads only when allowed (never with
``SEMINAR_OFFLINE=1``). :func:`locate` says which, so the asset report can.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

__all__ = ["WEIGHT_FILES", "weights_file", "locate"]

#: The ImageNet weight files Keras publishes (storage.googleapis.com/keras-applications and
#: /tensorflow/keras-applications) as (with the classifier, without it). ``{rows}``: MobileNet
#: V1/V2 have one file per input size.
WEIGHT_FILES: dict[str, tuple[str, str]] = {
    **{n: (f"{n.lower()}_weights_tf_dim_ordering_tf_kernels.h5",
           f"{n.lower()}_weights_tf_dim_ordering_tf_kernels_notop.h5")
       for n in ("DenseNet121", "DenseNet169", "DenseNet201", "ResNet152V2", "ResNet50",
                 "ResNet50V2", "VGG16", "VGG19", "Xception")},
    "InceptionV3": ("inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
                    "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    "InceptionResNetV2": ("inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
                          "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    "EfficientNetB0": ("efficientnetb0.h5", "efficientnetb0_notop.h5"),
    "EfficientNetB1": ("efficientnetb1.h5", "efficientnetb1_notop.h5"),
    "MobileNetV3Large": ("weights_mobilenet_v3_large_224_1.0_float.h5",
                         "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5"),
    "MobileNet": ("mobilenet_1_0_{rows}_tf.h5", "mobilenet_1_0_{rows}_tf_no_top.h5"),
    "MobileNetV2": ("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}.h5",
                    "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5"),
}

_PUBLISHED_MD5: dict[str, str] = {
    "densenet121_weights_tf_dim_ordering_tf_kernels.h5": "9d60b8095a5708f2dcce2bca79d332c7",
    "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5": "30ee3e1110167f948a6b9946edeeb738",
    "densenet169_weights_tf_dim_ordering_tf_kernels.h5": "d699b8f76981ab1b30698df4c175e90b",
    "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5": "b8c4d4c20dd625c148057b9ff1c1176b",
    "densenet201_weights_tf_dim_ordering_tf_kernels.h5": "1ceb130c1ea1b78c3bf6114dbdfd8807",
    "densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5": "c13680b51ded0fb44dff2d8f86ac8bb1",
    "efficientnetb0.h5": "902e53a9f72be733fc0bcb005b3ebbac",
    "efficientnetb0_notop.h5": "50bc09e76180e00e4465e1a485ddc09d",
    "efficientnetb1.h5": "1d254153d4ab51201f1646940f018540",
    "efficientnetb1_notop.h5": "74c4e6b3e1f6a1eea24c589628592432",
    "inception_v3_weights_tf_dim_ordering_tf_kernels.h5": "9a0d58056eeedaa3f26cb7ebd46da564",
    "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5": "bcbd6486424b2319ff4ef7d526e38f63",
    "weights_mobilenet_v3_large_224_1.0_float.h5": "59e551e166be033d707958cf9e29a6a7",
    "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5": "07fb09a5933dd0c8eaafa16978110389",
    "resnet152v2_weights_tf_dim_ordering_tf_kernels.h5": "a49b44d1979771252814e80f8ec446f9",
    "resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5": "ed17cf2e0169df9d443503ef94b23b33",
    "resnet50_weights_tf_dim_ordering_tf_kernels.h5": "2cb95161c43110f7111970584f804107",
    "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5": "4d473c1dd8becc155b73f8504c6f6626",
    "resnet50v2_weights_tf_dim_ordering_tf_kernels.h5": "3ef43a0b657b3be2300d5770ece849e0",
    "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5": "fac2f116257151a9d068a22e544a4917",
    "vgg16_weights_tf_dim_ordering_tf_kernels.h5": "64373286793e3c8b2b4e3219cbf3544b",
    "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5": "6d6bbae143d832006294945121d1f1fc",
    "vgg19_weights_tf_dim_ordering_tf_kernels.h5": "cbe5617147190e668d6c5d5026f83318",
    "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5": "253f8cb515780f3b799900260a226db6",
    "xception_weights_tf_dim_ordering_tf_kernels.h5": "0a58e3b7378bc2990ea3b43d5981f1f6",
    "xception_weights_tf_dim_ordering_tf_kernels_notop.h5": "b0042744bf5b25fce3cb969f33bebb97",
    "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5": "e693bd0210a403b3192acc6073ad2e96",
    "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5":
        "d19885ff4a710c122648d3b5c3b684e4",
}

_ROWS = {"MobileNet": (128, 160, 192, 224), "MobileNetV2": (96, 128, 160, 192, 224)}


def weights_file(name: str, include_top: bool = False, size: int | None = None) -> str:
    """The name of the ImageNet weight file Keras publishes for backbone ``name``.

    MobileNet V1/V2 have one file per input size; Keras loads the 224 file for other sizes.
    An offline mirror holds these files under ``$SEMINAR_DATA_MIRROR/models/`` (the layout of
    Keras's own cache, ``$KERAS_HOME/models/``).

    >>> weights_file("EfficientNetB0"), weights_file("MobileNetV2", size=96)
    ('efficientnetb0_notop.h5', 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5')
    """
    from .backbones import get_spec
    spec = get_spec(name)
    pattern = WEIGHT_FILES[spec.name][0 if include_top else 1]
    rows = size if size in _ROWS.get(spec.name, ()) else 224
    return pattern.format(rows=rows)


def _keras_home() -> Path:
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


def locate(name: str, include_top: bool = False, size: int | None = None,
           download: bool = True) -> tuple[str, str, str]:
    """Where backbone ``name``'s ImageNet weights come from: ``(weights argument, source, note)``.

    ``source`` is ``"mirror"`` or ``"cache"`` (the argument is then the file's path),
    or ``"download"`` (the argument is ``"imagenet"``: Keras downloads and checks the file).
    With ``SEMINAR_OFFLINE=1`` (or ``download=False``) and no file,
    :class:`~seminar_utils.data.AssetUnavailable` is raised at once: no connection is attempted
    (a network that hangs would stall a notebook).

    >>> locate("VGG16")[1] in ("mirror", "cache", "download")      # doctest: +SKIP
    True
    """
    from .backbones import get_spec
    from .data import AssetUnavailable, mirror_dir, online_allowed
    spec = get_spec(name)
    fname = weights_file(spec.name, include_top, size)
    mirror = mirror_dir()
    if mirror is not None and (mirror / "models" / fname).is_file():
        path = mirror / "models" / fname
        note = ""
        published = _PUBLISHED_MD5.get(fname)
        if published and _md5(path) != published:
            note = "md5 differs from the file Keras publishes"
            warnings.warn(f"{path}: {note} ({published}); it loads, but these may not be the "
                          f"ImageNet weights.", UserWarning, stacklevel=3)
        return str(path), "mirror", note
    cached = _keras_home() / "models" / fname
    if not (download and online_allowed()):
        if cached.is_file():
            return str(cached), "cache", ""
        why = "SEMINAR_OFFLINE=1 forbids the download" if download else "no download was asked for"
        raise AssetUnavailable(
            f"The ImageNet weights of {spec.name} ({fname}) are not in the offline mirror "
            f"($SEMINAR_DATA_MIRROR/models/) or the Keras cache ($KERAS_HOME/models/), and "
            f"{why}. Copy the file there from a machine that has it (Keras downloads it to "
            f"~/.keras/models/), or use weights=None (random weights: the code runs, the "
            f"accuracies are not those of a pretrained model).")
    return "imagenet", "cache" if cached.is_file() else "download", ""


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def download_failed(name: str, err: Exception) -> Exception:
    """The error to raise when Keras could not download ``name``'s ImageNet weights.

    >>> str(download_failed("VGG16", OSError("no network"))).startswith("The ImageNet weights")
    True
    """
    from .data import AssetUnavailable
    return AssetUnavailable(
        f"The ImageNet weights of {name} could not be downloaded ({err}).\n"
        f"Put the file named in the URL above into $SEMINAR_DATA_MIRROR/models/ or "
        f"$KERAS_HOME/models/ (default ~/.keras/models), or go online once. Without them use "
        f"weights=None (random initialisation): the code runs, but the accuracies are not "
        f"those of a pretrained model."
    )
