"""Freezing and unfreezing a pretrained backbone: by layer name, index or top blocks.

:func:`set_trainable` is the one tool: everything frozen (feature extraction), the top N
blocks, or everything from a named layer on, with BatchNormalization kept frozen by default
(the usual fine-tuning advice, and in Keras 3 what keeps BatchNorm in inference mode inside
``fit()``). :func:`blocks` says what a block is in each family (:data:`BLOCK_RULES`);
:func:`trainable_summary` counts what trains.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from .backbones import BACKBONES, BackboneSpec, Preprocess, get_spec
from .table import Table

__all__ = ["BlockRule", "BLOCK_RULES", "blocks", "set_trainable", "trainable_summary"]


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
        print(Table([{"what": kind, "tensors": out[f"{key}_tensors"], "params": out[f"{key}_params"]}
                     for kind, key in (("trainable", "trainable"),
                                       ("non-trainable", "non_trainable"))]
                    + [{"what": "total",
                        "tensors": out["trainable_tensors"] + out["non_trainable_tensors"],
                        "params": out["trainable_params"] + out["non_trainable_params"]}],
                    [("what", ""), ("tensors", "weight tensors"), ("params", "parameters")],
                    title=f"{model.name}:"))
    return out
