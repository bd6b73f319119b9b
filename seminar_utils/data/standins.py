"""Generated stand-ins: learnable images of the real asset's shape and classes, for offline runs.

Each class is a distinct glyph (digits) or coloured shape at a random place, so a model can
learn them and the notebook's code runs end to end; the accuracies mean nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Sequence

import numpy as np

from .core import cache_dir

__all__ = ["KINDS", "arrays", "image_folder"]

#: The kinds of generated image: glyph digits (grey) and coloured shapes.
KINDS = ("digits", "shapes")

_GLYPHS = ["111101101101111", "010110010010111", "111001111100111", "111001111001111",
           "101101111001001", "111100111001111", "111100111101111", "111001001001001",
           "111101111101111", "111101111001111"]  # 3x5 seven-segment-like digits 0-9


def _digit(k: int, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A thick-stroke glyph of digit ``k`` near the centre (as MNIST digits are), with noise."""
    from PIL import Image
    h, w = size
    g = np.array([int(c) for c in _GLYPHS[k % 10]], dtype=np.uint8).reshape(5, 3) * 255
    scale = rng.uniform(0.65, 0.8)
    gh, gw = max(5, int(h * scale)), max(3, int(w * scale * 0.6))
    glyph = np.asarray(Image.fromarray(g).resize((gw, gh), Image.NEAREST))
    img = np.zeros((h, w), dtype=np.float32)
    cy, cx = (h - gh) // 2, (w - gw) // 2
    y0 = int(np.clip(cy + rng.integers(-3, 4), 0, h - gh))
    x0 = int(np.clip(cx + rng.integers(-3, 4), 0, w - gw))
    img[y0:y0 + gh, x0:x0 + gw] = glyph
    img += rng.normal(0, 8, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _shape(k: int, size: tuple[int, int], rng: np.random.Generator, color: bool) -> np.ndarray:
    """One of five shapes (by ``k``) in a colour of its own, on a random background, with noise."""
    from PIL import Image, ImageDraw
    h, w = size
    hue = np.array([(k * 97) % 255, (k * 57 + 80) % 255, (k * 31 + 160) % 255], dtype=np.float32)
    bg = rng.uniform(40, 200, 3)
    im = Image.new("RGB", (w, h), tuple(int(v) for v in bg))
    d = ImageDraw.Draw(im)
    r = rng.uniform(0.2, 0.35) * min(h, w)
    cy, cx = rng.uniform(r, h - r), rng.uniform(r, w - r)
    fill = tuple(int(v) for v in hue)
    shape = k % 5
    box = [cx - r, cy - r, cx + r, cy + r]
    if shape == 0:
        d.ellipse(box, fill=fill)
    elif shape == 1:
        d.rectangle(box, fill=fill)
    elif shape == 2:
        d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)
    elif shape == 3:
        d.rectangle([cx - r, cy - r / 3, cx + r, cy + r / 3], fill=fill)
        d.rectangle([cx - r / 3, cy - r, cx + r / 3, cy + r], fill=fill)
    else:
        d.ellipse(box, outline=fill, width=max(2, int(r / 3)))
    arr = np.asarray(im, dtype=np.float32) + rng.normal(0, 10, (h, w, 3))
    arr = np.clip(arr, 0, 255).astype(np.uint8)
    return arr if color else arr.mean(axis=-1).astype(np.uint8)


def _draw(k: int, size: tuple[int, int], rng: np.random.Generator, kind: str,
          color: bool) -> np.ndarray:
    if kind not in KINDS:
        raise ValueError(f"Unknown stand-in kind {kind!r}; use one of {', '.join(KINDS)}.")
    return _digit(k, size, rng) if kind == "digits" else _shape(k, size, rng, color)


def arrays(n_train: int, n_test: int, shape: tuple[int, ...], n_classes: int, seed: int,
           kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Generated (x_train, y_train, x_test, y_test): uint8 images of ``shape``, balanced labels.

    >>> x, y, xt, yt = arrays(20, 10, (28, 28), 10, seed=0, kind="digits")
    >>> x.shape, x.dtype.name, sorted(set(y.tolist())) == list(range(10))
    ((20, 28, 28), 'uint8', True)
    """
    rng = np.random.default_rng(10_000 + seed)
    color = len(shape) == 3
    out = []
    for n in (n_train, n_test):
        y = np.arange(n) % n_classes
        rng.shuffle(y)
        x = np.stack([_draw(int(k), shape[:2], rng, kind, color) for k in y]) \
            if n else np.zeros((0,) + tuple(shape), np.uint8)
        out += [x, y.astype(np.uint8)]
    return out[0], out[1], out[2], out[3]


def image_folder(name: str, class_names: Sequence[str], seed: int = 0,
                 per_split: Sequence[tuple[str, int]] = (("train", 100), ("validation", 50))) -> Path:
    """A folder ``<split>/<class>/*.jpg`` of generated JPEGs (140-200 px), written once and reused.

    It lives under ``<cache_dir>/standins/<name>``; a ``.complete`` file marks it finished.

    >>> root = image_folder("tiny", ["cats", "dogs"], per_split=[("train", 2)])
    >>> sorted(p.name for p in (root / "train" / "cats").iterdir())
    ['cat.0.jpg', 'cat.1.jpg']
    """
    from PIL import Image
    root = cache_dir() / "standins" / name
    done = root / ".complete"
    if done.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    rng = np.random.default_rng(seed + 20_000)
    for split, n in per_split:
        for k, c in enumerate(class_names):
            folder = root / split / c
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                size = (int(rng.integers(140, 200)), int(rng.integers(140, 200)))
                arr = _draw(k, size, rng, "shapes", True)
                Image.fromarray(arr).save(folder / f"{c[:-1]}.{i}.jpg", quality=90)
    done.touch()
    return root
