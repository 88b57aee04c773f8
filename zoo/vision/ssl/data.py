"""Offline images for self-supervision checks: the digits, upscaled to RGB, and label subsets."""

from __future__ import annotations

import numpy as np

from layers.validation import check_positive_int, check_unit_interval


def upscaled_digits(size: int = 32, seed: int = 0):
    """scikit-learn's digits resized (bilinear) to `size`x`size` and repeated over 3 channels.

    Args:
        size: side of the images. Defaults to `32`.
        seed: seed of the stratified 80/20 split (`zoo.datasets.load_digits`). Defaults to `0`.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: float32 images in [0, 1] of shape
        `(n, size, size, 3)` (1,437 and 360 of them) and int64 labels.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = upscaled_digits(32)
    ```
    """
    import tensorflow as tf

    from zoo.datasets import load_digits

    check_positive_int("size", size)
    digits = load_digits(dtype="float32", seed=seed)

    def up(x):
        return np.repeat(tf.image.resize(x, (size, size)).numpy().clip(0, 1), 3, axis=-1)

    return (up(digits.train.x), digits.train.y), (up(digits.test.x), digits.test.y)


def label_subset(labels: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """Sorted indices of a stratified `fraction` of `labels` (at least one per class).

    Args:
        labels: integer labels.
        fraction: the share of each class to keep, in (0, 1].
        seed: seed of the draw. Defaults to `0`.

    Example:

    ```python
    few = label_subset(y_train, 0.1)
    accuracy = linear_probe(encoder, (x_train[few], y_train[few]), (x_test, y_test))
    ```
    """
    check_unit_interval("fraction", fraction, include_low=False, include_high=True)
    labels = np.asarray(labels).reshape(-1)
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        where = np.flatnonzero(labels == label)
        chosen.extend(rng.choice(where, max(1, round(fraction * len(where))), replace=False))
    return np.sort(np.asarray(chosen))
