"""Shared helpers for the tfrecords tests: collect a dataset into NumPy, ordered by an id."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def collect(dataset: tf.data.Dataset, key: str = "id") -> dict:
    """All batches of a dict dataset as per-feature lists of NumPy values, sorted by `key`."""
    columns: dict[str, list] = {}
    for batch in dataset:
        for name, value in batch.items():
            if isinstance(value, tf.RaggedTensor):
                rows = [row.numpy() for row in value]
            else:
                rows = list(value.numpy())
            columns.setdefault(name, []).extend(rows)
    order = np.argsort(np.asarray(columns[key]), kind="stable")
    return {name: [rows[i] for i in order] for name, rows in columns.items()}


def ragged_column(rows, dtype) -> np.ndarray:
    column = np.empty(len(rows), dtype=object)
    column[:] = [np.asarray(r, dtype=dtype) for r in rows]
    return column
