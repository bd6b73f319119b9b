"""Figures the notebooks share: training curves, labelled image grids, confusion matrices."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np


def _history_dict(h: Any) -> Mapping[str, Sequence[float]]:
    return h.history if hasattr(h, "history") else h


def plot_history(histories: Any, metrics: Sequence[str] = ("loss", "accuracy"), title: str | None = None):
    """Train (solid) vs validation (dashed) curves, one panel per metric.

    ``histories`` is a Keras ``History``, a dict like ``history.history``, or a mapping
    ``{label: history}`` to draw several runs on the same axes.

    >>> fig = plot_history({"loss": [1, .5], "val_loss": [1, .7],
    ...                     "accuracy": [.5, .8], "val_accuracy": [.5, .7]})
    >>> len(fig.axes)
    2
    """
    import matplotlib.pyplot as plt
    if hasattr(histories, "history") or (isinstance(histories, Mapping) and
                                         any(k in histories for k in metrics)):
        runs = {"": histories}
    else:
        runs = dict(histories)
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 3.8), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, metric in zip(axes[0], metrics):
        for i, (label, h) in enumerate(runs.items()):
            h = _history_dict(h)
            c = colors[i % len(colors)]
            prefix = f"{label} " if label else ""
            if metric in h:
                ep = np.arange(1, len(h[metric]) + 1)
                ax.plot(ep, h[metric], "-o", color=c, ms=3, label=f"{prefix}train")
            if f"val_{metric}" in h:
                ep = np.arange(1, len(h[f"val_{metric}"]) + 1)
                ax.plot(ep, h[f"val_{metric}"], "--s", color=c, ms=3, label=f"{prefix}validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def image_grid(images: Sequence[np.ndarray], labels: Sequence[Any] | None = None,
               class_names: Sequence[str] | None = None, predictions: Sequence[Any] | None = None,
               ncols: int = 8, size: float = 1.6, cmap: str = "gray", title: str | None = None):
    """A grid of images with titles; with ``predictions``, wrong ones are titled in red.

    Images may be uint8 0-255 or floats in [0, 1] or [0, 255]; grayscale or RGB.

    >>> fig = image_grid(np.zeros((4, 8, 8)), labels=[0, 1, 2, 3], ncols=2)
    >>> len(fig.axes)
    4
    """
    import matplotlib.pyplot as plt
    images = list(images)
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3 * bool(title)),
                             squeeze=False)

    def name(v):
        v = v.item() if hasattr(v, "item") else v
        return class_names[int(v)] if class_names is not None and not isinstance(v, str) else str(v)

    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            fig.delaxes(ax)
            continue
        img = np.asarray(images[i], dtype=np.float32)
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        if img.max() > 1.0:
            img = img / 255.0
        ax.imshow(np.clip(img, 0, 1), cmap=cmap if img.ndim == 2 else None, vmin=0, vmax=1)
        if labels is not None:
            text, color = name(labels[i]), "black"
            if predictions is not None:
                ok = name(predictions[i]) == text
                text = f"{text}\npred: {name(predictions[i])}"
                color = "green" if ok else "red"
            ax.set_title(text, fontsize=8, color=color)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int | None = None) -> np.ndarray:
    """Counts ``m[i, j]`` of true class i predicted as j.

    >>> confusion_matrix([0, 1, 1], [0, 1, 0]).tolist()
    [[1, 0], [1, 1]]
    """
    y_true = np.asarray(y_true).astype(int).reshape(-1)
    y_pred = np.asarray(y_pred).astype(int).reshape(-1)
    n = n_classes or int(max(y_true.max(initial=0), y_pred.max(initial=0)) + 1)
    m = np.zeros((n, n), dtype=int)
    np.add.at(m, (y_true, y_pred), 1)
    return m


def plot_confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int],
                          class_names: Sequence[str], normalize: bool = True, title: str | None = None):
    """A labelled confusion-matrix heat map (rows: true class, columns: predicted).

    >>> fig = plot_confusion_matrix([0, 1, 1], [0, 1, 0], ["a", "b"])
    >>> fig.axes[0].get_xlabel()
    'predicted'
    """
    import matplotlib.pyplot as plt
    m = confusion_matrix(y_true, y_pred, len(class_names))
    shown = m / np.maximum(m.sum(axis=1, keepdims=True), 1) if normalize else m
    k = len(class_names)
    fig, ax = plt.subplots(figsize=(0.55 * k + 2.5, 0.55 * k + 2))
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.set_xticks(range(k), class_names, rotation=45, ha="right")
    ax.set_yticks(range(k), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(k):
        for j in range(k):
            txt = f"{shown[i, j]:.2f}" if normalize else str(m[i, j])
            ax.text(j, i, txt, ha="center", va="center", fontsize=7,
                    color="white" if shown[i, j] > (0.5 if normalize else shown.max() / 2) else "black")
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_title(title or ("confusion matrix (row-normalised)" if normalize else "confusion matrix"))
    fig.tight_layout()
    return fig


def bars_with_spread(values: Mapping[str, float], spread: Mapping[str, Mapping[str, Any]] | None = None,
                     xlabel: str = "", title: str | None = None, ax: Any = None):
    """This run's values as dots; where a seed-to-seed spread was measured, its range beside them.

    ``spread`` maps a name of ``values`` to a measured spread (``seminar_utils.results.spread``:
    ``mean``, ``std``, ``values``): drawn as the mean ± one standard deviation (error bar) and
    each seed's value (ticks), so a difference smaller than the spread reads as noise. The axis
    is zoomed to the values (a bar from zero would hide the differences that matter).

    >>> ax = bars_with_spread({"a": 0.5, "b": 0.6}, {"b": {"mean": 0.58, "std": 0.02,
    ...                                                   "values": [0.56, 0.58, 0.6]}})
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['a', 'b']
    """
    import matplotlib.pyplot as plt
    spread = spread or {}
    names = list(values)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.5 * len(names) + 1.6))
    first_spread = True
    for i, n in enumerate(names):
        s = spread.get(n)
        if s:
            seeds = list(s.get("values", []))
            ax.errorbar(s["mean"], i + 0.18, xerr=s.get("std", 0.0), fmt="o", color="black",
                        ms=4, capsize=4, label="mean ± std of the seeds" if first_spread else None)
            ax.plot(seeds, [i + 0.18] * len(seeds), "|", color="tab:red", ms=10, mew=2,
                    label=f"each seed ({len(seeds)})" if first_spread else None)
            first_spread = False
        ax.plot(values[n], i - 0.12, "D", color="tab:blue", ms=7,
                label="this run" if i == 0 else None)
        ax.annotate(f"{values[n]:.3f}", (values[n], i - 0.12), textcoords="offset points",
                    xytext=(7, -3), fontsize=8, color="tab:blue")
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.margins(x=0.15)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.25 if xlabel else -0.12),
              ncols=3, frameon=False)
    ax.figure.tight_layout()
    return ax
