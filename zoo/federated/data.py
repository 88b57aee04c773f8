"""The data a `zoo federated` process trains or evaluates on: built-in digits or TFRecords."""

from __future__ import annotations

import numpy as np

from zoo.datasets import arrays_from_dataset, fit_to_input, load_digits
from zoo.federated.partition import partition


def load_arrays(
    input_shape,
    data: str | None = None,
    label: str = "label",
    features=None,
    split: str = "train",
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """`(x, y)` arrays shaped for a model's input: a digits split, or every record of `data`.

    Args:
        input_shape: the model's input shape (without the batch axis).
        data: TFRecord files (a pattern, directory or prefix for `tfrecords.read`); `None`
            uses scikit-learn's digits scaled to [0, 1]. Defaults to `None`.
        label: the label feature of the TFRecords. Defaults to `"label"`.
        features: the input feature (default: the only non-label one).
        split: `"train"` or `"test"` (digits only). Defaults to `"train"`.
        seed: the seed of the digits train/test split. Defaults to `0`.

    Returns:
        float32 inputs of shape `(n, *input_shape)` and the labels.

    Example:

    ```python
    x, y = load_arrays((64,))  # digits flattened for an MLP
    ```
    """
    if data is None:
        digits = load_digits(seed=seed, dtype="float32")
        part = digits.train if split == "train" else digits.test
        return fit_to_input(part.x, input_shape), part.y
    import tfrecords

    x, y = arrays_from_dataset(tfrecords.read(data, label=label, features=features), "data")
    return fit_to_input(x.astype("float32"), input_shape), y


def client_shard(
    input_shape,
    partition_id: int,
    num_partitions: int,
    alpha: float | None = None,
    seed: int = 0,
    **data_options,
) -> tuple[np.ndarray, np.ndarray]:
    """The training shard of client `partition_id` out of `num_partitions`.

    Every client computes the same split (same data, `alpha` and `seed`) and keeps its part.

    Args:
        input_shape: the model's input shape.
        partition_id: this client's shard, in `[0, num_partitions)`.
        num_partitions: how many clients share the data.
        alpha: `None` for IID, else the Dirichlet label-skew concentration.
        seed: seed of the split. Defaults to `0`.
        **data_options: `data`, `label`, `features` for `load_arrays`.

    Returns:
        `(x, y)` of this client.

    Example:

    ```python
    x, y = client_shard((64,), partition_id=0, num_partitions=3)
    ```
    """
    if not 0 <= partition_id < num_partitions:
        raise ValueError(
            f"`partition` must be in [0, {num_partitions}) for {num_partitions} partitions. "
            f"Received: partition={partition_id}"
        )
    x, y = load_arrays(input_shape, seed=seed, **data_options)
    return partition(x, y, num_partitions, alpha=alpha, seed=seed)[partition_id]
