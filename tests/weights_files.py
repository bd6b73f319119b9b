"""Test helper: ImageNet-like weight files, in the exact layout of the files Keras publishes.

No ImageNet weights can be downloaded in this workplace, so the tests that exercise the
"weights are available" code path write files with the same layer names, weight names and
shapes as the published ``.h5`` files (the HDF5 layout of Keras 2's ``save_weights``: a
``layer_names`` attribute, one group per layer with a ``weight_names`` attribute), filled with
random values scaled like a trained network's (He-normal kernels, BatchNorm at identity), so
that the networks compute finite, varied outputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _values(name: str, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    if name.endswith(("moving_variance", "variance")):
        return rng.uniform(0.8, 1.2, shape).astype("float32")
    if name.endswith(("gamma",)):
        return rng.uniform(0.8, 1.2, shape).astype("float32")
    if len(shape) <= 1:                       # biases, beta, moving means, scalars
        return (0.01 * rng.standard_normal(shape)).astype("float32")
    fan_in = int(np.prod(shape[:-1]))
    return (rng.standard_normal(shape) * np.sqrt(2.0 / max(fan_in, 1))).astype("float32")


def write_like_published(model, path: str | Path, seed: int = 0) -> Path:
    """Write ``model``'s layout as a published Keras weight file with random values."""
    import h5py
    rng = np.random.default_rng(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([layer.name.encode() for layer in model.layers])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for layer in model.layers:
            g = f.create_group(layer.name)
            ws = layer.trainable_weights + layer.non_trainable_weights
            names = [f"{layer.name}/{w.name}:0".encode() for w in ws]
            g.attrs["weight_names"] = np.array(names, dtype="S")
            for n, w in zip(names, ws):
                g.create_dataset(n, data=_values(w.name, tuple(w.shape), rng))
    return path


def assert_same_weights(model, path: str | Path) -> None:
    """Every weight of ``model`` equals the file's (what loading it must give)."""
    import h5py
    import keras
    with h5py.File(path, "r") as f:
        for layer in model.layers:
            ws = layer.trainable_weights + layer.non_trainable_weights
            if not ws:
                continue
            for n, w in zip(f[layer.name].attrs["weight_names"], ws):
                np.testing.assert_array_equal(keras.ops.convert_to_numpy(w), f[layer.name][n][()])


def write_published_file(name: str, folder: str | Path, include_top: bool = False,
                         size: int | None = None, seed: int = 0) -> Path:
    """The file Keras would download for backbone ``name``, generated into ``folder``."""
    from seminar_utils import backbones, weights
    spec = backbones.get_spec(name)
    shape = (size, size, 3) if size else spec.native_shape
    model = spec.constructor(weights=None, include_top=include_top,
                             input_shape=shape if not include_top else spec.native_shape)
    return write_like_published(model, Path(folder) / weights.weights_file(spec.name, include_top, size),
                                seed)
