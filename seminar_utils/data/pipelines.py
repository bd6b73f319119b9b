"""tf.data input pipelines: decode (or slice) once, cache, shuffle, batch, then augment per batch.

``map_fn`` (an augmentation, say) runs on batches after the cache, so it is drawn anew every
epoch while decoding happens once.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["image_folder_dataset"]


def _finish(ds: Any, n: int, batch_size: int, shuffle: bool, seed: int,
            map_fn: Callable[..., Any] | None, cache: bool | str) -> Any:
    """cache -> shuffle -> batch -> map_fn -> prefetch, the tail shared by both pipelines."""
    import tensorflow as tf
    if cache:
        ds = ds.cache(cache if isinstance(cache, str) else "")
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if map_fn is not None:
        ds = ds.map(map_fn, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def image_folder_dataset(paths: Sequence[str], labels: np.ndarray, image_size: tuple[int, int],
                         batch_size: int, shuffle: bool = False, seed: int = 0,
                         map_fn: Callable[..., Any] | None = None, cache: bool | str = True):
    """Decode-once image pipeline: read -> decode -> resize -> float32 0-255 -> cache -> batches.

    ``cache=True`` caches decoded images in memory, a string caches them to that file.

    >>> ds = image_folder_dataset(paths, labels, (150, 150), 32, shuffle=True)  # doctest: +SKIP
    """
    import tensorflow as tf

    def load(path, label):
        img = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        img = tf.image.resize(img, image_size)
        return tf.cast(img, tf.float32), label

    ds = tf.data.Dataset.from_tensor_slices((list(paths), np.asarray(labels)))
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    return _finish(ds, len(paths), batch_size, shuffle, seed, map_fn, cache)
