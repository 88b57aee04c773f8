"""Feeding `model.fit` from `tf.data` without a new iterator every epoch."""

from __future__ import annotations

import keras
import tensorflow as tf


def repeated(data: tf.data.Dataset, steps: int | None = None) -> tuple[tf.data.Dataset, dict]:
    """`data` as one endless pipeline and the `fit` arguments that make an epoch one pass.

    For callers that hand data to `fit` through another API (KerasTuner's `search`); see
    `fit_repeated`.

    Returns:
        `(data.repeat(), {"steps_per_epoch": steps})`, or `(data, {})` when the length of
        `data` is unknown (`steps` not given and TensorFlow cannot tell it).
    """
    if steps is None:
        steps = int(data.cardinality())
    if steps == tf.data.INFINITE_CARDINALITY:
        raise ValueError(
            "`data` must be finite: an epoch is one pass over it. Received: an infinite dataset"
        )
    if steps <= 0:  # unknown: Keras finds the end of each pass itself
        return data, {}
    return data.repeat(), {"steps_per_epoch": steps}


def fit_repeated(model: keras.Model, data: tf.data.Dataset, steps: int | None = None, **kwargs):
    """`model.fit(data, **kwargs)`, with `data` repeated and `steps_per_epoch` set.

    Given a finite dataset, Keras makes a new iterator at every epoch: the pipeline starts
    again (threads, buffers, the first batch's latency) and some epochs stall at the boundary
    (`benchmarks/bench_tfa.py`). Given one endless pipeline and the number of batches in a
    pass, it keeps one iterator for the whole run, and the next epoch's batches are prepared
    while the current one ends. An epoch is still one pass over `data` (reshuffled each pass
    when the dataset shuffles with `reshuffle_each_iteration`).

    Args:
        model: a compiled `keras.Model`.
        data: a finite `tf.data.Dataset` of batches.
        steps: batches in one pass of `data`. Defaults to `None`: its cardinality; when
            TensorFlow cannot tell it, `data` is passed to `fit` as it is.
        **kwargs: passed to `fit` (`epochs`, `validation_data`, `callbacks`, ...); with
            `steps_per_epoch` among them, `data` goes to `fit` as it is.

    Returns:
        The `History` of `fit`.

    Example:

    ```python
    fit_repeated(model, tf.data.Dataset.from_tensor_slices((x, y)).batch(32), epochs=10)
    ```
    """
    if "steps_per_epoch" in kwargs:  # the caller decides what an epoch is
        return model.fit(data, **kwargs)
    data, epoch = repeated(data, steps)
    return model.fit(data, **epoch, **kwargs)
