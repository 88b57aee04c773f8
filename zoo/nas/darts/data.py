"""The data of a DARTS search: two halves of the training set, one per level of the problem."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from layers.validation import check_non_negative_int, check_positive_int


def split_halves(x, y, seed: int = 0):
    """`((x_train, y_train), (x_val, y_val))`: a seeded random half each (the paper's split of
    the training set: weights learn on one half, the architecture on the other)."""
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y) or len(x) < 2:
        raise ValueError(
            f"`x` and `y` must hold as many examples, at least 2. Received: {len(x)} images "
            f"and {len(y)} labels"
        )
    order = np.random.default_rng(seed).permutation(len(x))
    half = len(x) // 2
    first, second = order[:half], order[half : 2 * half]
    return (x[first], y[first]), (x[second], y[second])


def steps_per_epoch(num_examples: int, batch_size: int) -> int:
    """Full batches of one half per epoch."""
    return (num_examples // 2) // batch_size


def search_batches(
    x, y, batch_size: int = 64, seed: int = 0, epochs: int = 1, first_epoch: int = 0
) -> tf.data.Dataset:
    """Batches `((x_train, y_train), (x_val, y_val))` for `DartsSearchModel.fit`: the halves of
    `split_halves` zipped batch by batch (full batches only), for epochs `first_epoch` to
    `epochs - 1` in a row. Epoch `e`'s order is a stateless shuffle keyed by `(seed, e)`, so a
    resumed search sees the batches the uninterrupted one would have.

    Args:
        x: images, `(n, height, width, channels)`.
        y: integer labels, `(n,)`.
        batch_size: examples per batch of each half. Defaults to `64`.
        seed: seed of the split and the shuffles. Defaults to `0`.
        epochs: the epoch after the last one yielded. Defaults to `1`.
        first_epoch: the first epoch yielded. Defaults to `0`.

    Returns:
        A `tf.data.Dataset` of `(epochs - first_epoch) * steps_per_epoch(len(x), batch_size)`
        batches; pass `steps_per_epoch` to `fit` with more than one epoch.

    Example:

    ```python
    steps = steps_per_epoch(len(images), 32)
    data = search_batches(images, labels, batch_size=32, epochs=10)
    model.fit(data, epochs=10, steps_per_epoch=steps)
    ```
    """
    check_positive_int("batch_size", batch_size)
    check_positive_int("epochs", epochs)
    check_non_negative_int("first_epoch", first_epoch)
    if first_epoch >= epochs:
        raise ValueError(
            f"`first_epoch` must be less than `epochs` ({epochs}). Received: "
            f"first_epoch={first_epoch}"
        )
    (x_train, y_train), (x_val, y_val) = split_halves(x, y, seed)
    size = len(x_train)
    if size < batch_size:
        raise ValueError(
            f"Each half of the data ({size} examples) must fill one batch. "
            f"Received: batch_size={batch_size}"
        )
    steps = size // batch_size
    arrays = [
        tf.constant(a) for a in (x_train.astype("float32"), y_train, x_val.astype("float32"), y_val)
    ]

    def epoch_indices(epoch):
        orders = [
            tf.random.experimental.stateless_shuffle(
                tf.range(size), seed=tf.stack([tf.cast(seed + i, "int64"), epoch])
            )[: steps * batch_size]
            for i in range(2)
        ]
        return tf.data.Dataset.from_tensor_slices(tuple(orders)).batch(batch_size)

    def gather(train_index, val_index):
        return (
            (tf.gather(arrays[0], train_index), tf.gather(arrays[1], train_index)),
            (tf.gather(arrays[2], val_index), tf.gather(arrays[3], val_index)),
        )

    epochs_range = tf.data.Dataset.range(first_epoch, epochs)
    data = epochs_range.flat_map(epoch_indices).map(gather)
    return data.apply(tf.data.experimental.assert_cardinality((epochs - first_epoch) * steps))
