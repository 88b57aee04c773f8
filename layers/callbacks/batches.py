"""Splitting callback data (arrays, tuples of arrays, `tf.data.Dataset`) into batches."""

from __future__ import annotations

from collections.abc import Iterator

import keras
import numpy as np
import tensorflow as tf


def check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(
            f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}"
        )
    return batch_size


def _slices(structure, batch_size: int) -> Iterator:
    count = int(np.shape(keras.tree.flatten(structure)[0])[0])
    for start in range(0, count, batch_size):
        yield keras.tree.map_structure(lambda a, s=start: a[s : s + batch_size], structure)


def iterate_inputs(data, batch_size: int = 32) -> Iterator:
    """Yields input batches from an array (or structure), an `(x, ...)` tuple or a dataset."""
    if isinstance(data, tf.data.Dataset):
        for element in data:
            yield element[0] if isinstance(element, tuple) else element
        return
    yield from _slices(data[0] if isinstance(data, tuple) else data, batch_size)


def iterate_batches(data, batch_size: int = 32) -> Iterator[tuple]:
    """Yields `(x, y)` batches from an `(x, y)` tuple of arrays or a dataset of `(x, y)` pairs."""
    if isinstance(data, tf.data.Dataset):
        for element in data:
            if not isinstance(element, tuple) or len(element) < 2:
                raise ValueError(
                    "`data` must yield `(x, y)` batches. Received: an element of type "
                    f"{type(element).__name__}"
                )
            yield element[0], element[1]
        return
    if not isinstance(data, tuple | list) or len(data) < 2:
        raise ValueError(
            f"`data` must be an `(x, y)` tuple or a tf.data.Dataset. Received: data={data!r:.80}"
        )
    yield from _slices((data[0], data[1]), batch_size)
