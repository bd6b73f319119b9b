"""Trade-off plots of the benchmark: accuracy against a cost, with the Pareto front.

>>> rows = [{"model": "a", "t": 1, "acc": 0.5}, {"model": "b", "t": 2, "acc": 0.4}]
>>> pareto_front(rows, "t", "acc")
['a']
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

__all__ = ["pareto_front", "plot_tradeoff"]


def pareto_front(rows: Sequence[Mapping[str, Any]], cost: str, value: str = "test_accuracy"
                 ) -> list[str]:
    """The models no other model beats on both ``cost`` (lower is better) and ``value``
    (higher is better), in order of increasing cost.

    >>> rows = [{"model": "a", "t": 1, "acc": 0.5}, {"model": "b", "t": 2, "acc": 0.4},
    ...         {"model": "c", "t": 3, "acc": 0.9}]
    >>> pareto_front(rows, "t", "acc")
    ['a', 'c']
    """
    pts = [(float(r[cost]), -float(r[value]), r["model"]) for r in rows
           if r.get(cost) is not None and r.get(value) is not None
           and not math.isnan(float(r[cost])) and not math.isnan(float(r[value]))]
    front, best = [], -math.inf
    for _, neg_v, name in sorted(pts):
        if -neg_v > best:
            front.append(name)
            best = -neg_v
    return front


def _short_number(v: float, _pos: Any = None) -> str:
    """Tick labels such as 20, 500, 3k, 20M."""
    for unit, div in (("M", 1e6), ("k", 1e3)):
        if v >= div:
            return f"{v / div:g}{unit}"
    return f"{v:g}"


def _place_labels(ax: Any, pts: Sequence[tuple[float, float, str]], bold: set[str]) -> None:
    """Write each point's name beside it, trying a few positions so that no two names overlap."""
    from matplotlib.transforms import Bbox
    renderer = ax.figure.canvas.get_renderer()
    taken: list[Any] = []
    for x, y, _ in pts:                     # keep the markers themselves free too
        px, py = ax.transData.transform((x, y))
        taken.append(Bbox([[px - 4, py - 4], [px + 4, py + 4]]))
    candidates = [((5, 3), "left", "bottom"), ((5, -3), "left", "top"),
                  ((-5, 3), "right", "bottom"), ((-5, -3), "right", "top"),
                  ((5, 12), "left", "bottom"), ((5, -12), "left", "top"),
                  ((-5, 12), "right", "bottom"), ((-5, -12), "right", "top")]
    for x, y, name in sorted(pts, key=lambda p: (p[2] not in bold, p[0])):
        text = None
        for (dx, dy), ha, va in candidates:
            if text is not None:
                text.remove()
            text = ax.annotate(name, (x, y), textcoords="offset points", xytext=(dx, dy),
                               ha=ha, va=va, fontsize=7.5,
                               fontweight="bold" if name in bold else "normal")
            box = text.get_window_extent(renderer).expanded(1.02, 1.1)
            if not any(box.overlaps(t) for t in taken):
                break
        taken.append(text.get_window_extent(renderer))


def plot_tradeoff(rows: Sequence[Mapping[str, Any]], cost: str, value: str = "test_accuracy",
                  ax: Any = None, logx: bool = False, xlabel: str | None = None,
                  ylabel: str | None = None, title: str | None = None) -> Any:
    """Scatter ``value`` against ``cost`` for every model, the Pareto front drawn as a step
    line and its models in bold. Returns the matplotlib Axes.

    >>> ax = plot_tradeoff([{"model": "a", "t": 1, "acc": 0.5}], "t", "acc")
    >>> ax.get_xlabel()
    't'
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.8))
    front = pareto_front(rows, cost, value)
    by = {r["model"]: r for r in rows}
    pts = [(float(r[cost]), float(r[value]), r["model"]) for r in rows]
    for x, y, name in pts:
        on = name in front
        ax.scatter(x, y, s=60 if on else 35, color="tab:red" if on else "tab:blue", zorder=3,
                   edgecolor="black" if on else "none")
    if front:
        ax.step([float(by[m][cost]) for m in front], [float(by[m][value]) for m in front],
                where="post", color="tab:red", alpha=0.6, lw=1.5,
                label="Pareto front (nothing is both cheaper and better)")
        ax.legend(loc="best", fontsize=8)
    if logx:
        from matplotlib.ticker import FuncFormatter, LogLocator
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(_short_number))
        ax.xaxis.set_minor_formatter(FuncFormatter(_short_number))
    ax.margins(x=0.15, y=0.15)
    _place_labels(ax, pts, set(front))
    ax.set_xlabel(xlabel or cost)
    ax.set_ylabel(ylabel or value)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return ax
