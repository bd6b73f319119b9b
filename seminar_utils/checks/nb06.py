"""Checks of notebook 06's exercises: Grad-CAM for a chosen class, on a mistake, from every layer.

Each check recomputes the maps with :func:`seminar_utils.explain.grad_cam` (the notebook showed
it equals the by-hand version) and compares them with the learner's, so a wrong class, a missing
ReLU or a map of the wrong layer fails with a hint. Where a result depends on how well the model
is trained (each animal's map on its own half of the photo), the check is skipped in ``smoke``,
whose model trained for one epoch.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from . import Check, close, equal, exercise, has_shape, is_true, verify

__all__ = ["exercise_1", "exercise_2", "exercise_3", "half_peak_area"]

_CLASSES = ("cat", "dog")          # class 0 and class 1 of the one sigmoid unit, P(dog)
_TOLERANCE = 1e-3                  # maps are in [0, 1]; float32 gradients agree far better


def _array(x: Any, ndim: int) -> np.ndarray:
    """``x`` as a float32 array; a leading batch axis of one is dropped to reach ``ndim``."""
    import keras
    a = np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float32)
    while a.ndim > ndim and a.shape[0] == 1:
        a = a[0]
    return a


def _input_size(model: Any) -> tuple[int, int]:
    return tuple(int(s) for s in model.input_shape[1:3])


def _convs(model: Any) -> list[str]:
    """The model's Conv2D layers by name (the notebook's ``conv_names``)."""
    import keras
    return [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def _grad_cam(model: Any, x: np.ndarray, class_index: int, layer: str | None) -> np.ndarray:
    from .. import explain
    return explain.grad_cam(model, x, class_index=class_index, layer_name=layer)[0]


def _map_check(what: str, found: np.ndarray, expected: np.ndarray, others: Mapping[str, np.ndarray],
               hint: str) -> Check:
    """``found`` equals ``expected`` (max |difference|); if it is an ``others`` map, say which."""
    if found.shape != expected.shape:
        return has_shape(what, found, expected.shape, hint)
    diff = float(np.abs(found - expected).max())
    if diff > _TOLERANCE:
        for name, other in others.items():
            if other.shape == found.shape and float(np.abs(found - other).max()) <= _TOLERANCE:
                hint = f"this is the map of {name}. {hint}"
                break
    return close(f"{what} (max difference from explain.grad_cam)", diff, 0.0, _TOLERANCE, hint)


@exercise
def exercise_1(model: Any, pair: Any, cam_cat: Any, cam_dog: Any,
               profile: str | None = None) -> None:
    """Exercise 1: Grad-CAM of "cat" and of "dog" on one photo with a cat (left) and a dog (right).

    ``pair`` is one (H, W, 3) image of the model's input size in 0-255; ``cam_cat`` and
    ``cam_dog`` are (H, W) maps for class 0 and class 1, from the last Conv2D layer. Outside
    ``smoke`` (``profile``, default :func:`~seminar_utils.profiles.resolve_profile`) each map must
    peak on its animal's half.

    >>> exercise_1(model, pair, cam_cat, cam_dog)        # doctest: +SKIP
    Exercise 1: 6 of 6 checks passed
    """
    from ..profiles import resolve_profile
    h, w = _input_size(model)
    x = _array(pair, 3)
    checks = [has_shape("pair: one photo of the model's input size", x, (h, w, 3),
                        f"the model takes {h}x{w} photos: put the middle halves (columns "
                        f"{w // 4} to {w // 4 + w // 2 - 1}) of a cat and a dog photo of x_val "
                        f"side by side with np.concatenate(..., axis=1)")]
    if not checks[0].ok:
        verify("Exercise 1", checks)
        return
    checks.append(is_true("pair holds 0-255 pixels", x.min() >= 0 and 1.5 < x.max() <= 255,
                          f"found values from {x.min():.3g} to {x.max():.3g}",
                          "the model rescales inside: take the pixels of x_val as they are, "
                          "without dividing by 255"))
    last = (_convs(model) or [None])[-1]
    expected = {c: _grad_cam(model, x, i, last) for i, c in enumerate(_CLASSES)}
    found = {"cat": _array(cam_cat, 2), "dog": _array(cam_dog, 2)}
    how = (f"the score of dog is p = P(dog), that of cat is 1 - p; weights = the mean gradient of "
           f"the score over each feature map of {last}; ReLU of the weighted sum, then resize to "
           f"the photo and divide by the maximum")
    for c, other in (("cat", "dog"), ("dog", "cat")):
        checks.append(_map_check(f"cam_{c} is Grad-CAM of class {_CLASSES.index(c)} ({c})",
                                 found[c], expected[c], {f"class '{other}'": expected[other]}, how))
    if resolve_profile(profile) != "smoke":
        halves = (("cat", "left", range(0, w // 2)), ("dog", "right", range(w // 2, w)))
        for c, side, half in halves:
            m = expected[c]
            col = int(np.unravel_index(np.argmax(m), m.shape)[1])
            checks.append(is_true(
                f"the {c} map peaks on the {c}'s ({side}) half", m.max() > 0 and col in half,
                "an empty map" if m.max() == 0 else f"its peak is in column {col} of {w}",
                f"is the {c} on the {side}? If it is, the model found its evidence for '{c}' "
                f"elsewhere: try the next-surest {c} photo"))
    verify("Exercise 1", checks)


@exercise
def exercise_2(model: Any, x_val: Any, y_val: Any, k: int, cam_pred: Any, cam_true: Any) -> None:
    """Exercise 2: ``k`` is the most confidently misclassified photo of ``x_val``; its two maps.

    ``cam_pred`` is Grad-CAM of the predicted class of ``x_val[k]``, ``cam_true`` of its true
    class, both (H, W) and from the last Conv2D layer.

    >>> exercise_2(model, x_val, y_val, k, cam_pred, cam_true)   # doctest: +SKIP
    Exercise 2: 3 of 3 checks passed
    """
    x = _array(x_val, 4)
    y = np.asarray(y_val).astype(int).reshape(-1)
    p = model.predict(x, batch_size=64, verbose=0)[:, 0]
    pred = (p > 0.5).astype(int)
    confidence = np.where(pred == 1, p, 1 - p)
    wrong = np.flatnonzero(pred != y)
    try:
        k = int(k)
        ok_index = 0 <= k < len(y)
    except (TypeError, ValueError):
        ok_index = False
    if not wrong.size:
        best, what = float(confidence.min()), "the least confident photo (none is wrong)"
        ok = ok_index and confidence[k] <= best + 1e-5
    else:
        best, what = float(confidence[wrong].max()), "the most confidently wrong photo"
        ok = ok_index and pred[k] != y[k] and confidence[k] >= best - 1e-5
    found = (f"photo {k}: true {_CLASSES[y[k]]}, predicted {_CLASSES[pred[k]]} with confidence "
             f"{confidence[k]:.3f}; the answer's confidence is {best:.3f}" if ok_index
             else f"k = {k!r} is not an index of x_val")
    checks = [is_true(f"k is {what}", ok, found,
                      "the mistakes are the photos where pred_val != y_val; among them take the "
                      "one whose confidence max(p, 1 - p) is highest (np.argmax over that subset, "
                      "then map back to an index of x_val)")]
    if not ok_index:
        verify("Exercise 2", checks)
        return
    last = (_convs(model) or [None])[-1]
    maps = {c: _grad_cam(model, x[k], c, last) for c in (0, 1)}
    hint = (f"explain.grad_cam(model, image, class_index=c, layer_name='{last}') explains class c: "
            f"the predicted class is int(p > 0.5), the true one y_val[k]")
    for what, cam, c in (("cam_pred: the predicted class", cam_pred, int(pred[k])),
                         ("cam_true: the true class", cam_true, int(y[k]))):
        checks.append(_map_check(f"{what} ({_CLASSES[c]})", _array(cam, 2), maps[c],
                                 {f"class '{_CLASSES[1 - c]}'": maps[1 - c]}, hint))
    verify("Exercise 2", checks)


def half_peak_area(maps: Any) -> float:
    """Mean share of a map's pixels at or above half its peak: smaller = more concentrated.

    >>> half_peak_area(np.array([[[1.0, 0.6], [0.2, 0.0]]]))
    0.5
    """
    m = np.asarray(maps, dtype=np.float32)
    m = m.reshape((-1,) + m.shape[-2:])
    return float(np.mean([(x >= 0.5 * x.max()).mean() if x.max() > 0 else 1.0 for x in m]))


@exercise
def exercise_3(model: Any, photos: Any, layer_maps: Mapping[str, Any], areas: Mapping[str, float],
               sharpest: str) -> None:
    """Exercise 3: Grad-CAM from every convolution, each map's area, and the sharpest layer.

    ``layer_maps[name]`` holds (N, H, W) maps of ``photos`` from the Conv2D layer ``name``,
    ``areas[name]`` their :func:`half_peak_area`, ``sharpest`` the layer with the smallest area.

    >>> exercise_3(model, photos, layer_maps, areas, sharpest)   # doctest: +SKIP
    Exercise 3: 7 of 7 checks passed
    """
    from .. import explain
    x = _array(photos, 4)
    convs = _convs(model)
    keys = list(layer_maps) if isinstance(layer_maps, Mapping) else []
    checks = [equal("layer_maps has one entry per convolution", sorted(keys), sorted(convs),
                    "loop over conv_names (the Conv2D layers of the model) and store "
                    "explain.grad_cam(model, photos, layer_name=name) under each name")]
    reference = {n: explain.grad_cam(model, x, layer_name=n) for n in convs if n in keys}
    for name, maps in reference.items():
        others = {f"layer '{o}'": reference[o] for o in reference if o != name}
        checks.append(_map_check(f"layer_maps['{name}']", _array(layer_maps[name], 3), maps, others,
                                 f"Grad-CAM of the predicted class, with layer_name='{name}'"))
    expected_areas = {n: half_peak_area(m) for n, m in reference.items()}
    given = dict(areas) if isinstance(areas, Mapping) else {}

    def agrees(n: str, a: float) -> bool:
        v = given.get(n)
        return isinstance(v, (int, float, np.floating)) and abs(float(v) - a) <= 0.01

    bad = {n: (given.get(n), round(a, 3)) for n, a in expected_areas.items() if not agrees(n, a)}
    checks.append(is_true("areas: the share of each map at or above half its peak", not bad,
                          f"(found, expected) per layer: {bad}",
                          "for each map: (m >= 0.5 * m.max()).mean(), then the mean over the "
                          "photos (half_peak_area in seminar_utils.checks.nb06 does this)"))
    if expected_areas:
        low = min(expected_areas.values())
        ok = sharpest in expected_areas and expected_areas[sharpest] <= low + 0.01
        rounded = {n: round(a, 3) for n, a in expected_areas.items()}
        checks.append(is_true("sharpest is the layer with the smallest area", ok,
                              f"found {sharpest!r}; areas {rounded}", "min(areas, key=areas.get)"))
    verify("Exercise 3", checks)
