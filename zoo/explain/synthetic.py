"""A synthetic image task whose label depends on one known region, to check explanations."""

from __future__ import annotations

import keras
import numpy as np


def quadrant_images(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """16x16 images whose label is decided by the top-right quadrant only.

    Each image is noise (standard deviation 0.05) plus a 5-pixel bar, horizontal or vertical at
    a random place, in each 8x8 quadrant; label-1 images also hold a 3x3 square of ones somewhere
    in the top-right quadrant (rows 0-7, columns 8-15), the label's only evidence. A saliency
    method should put most of a trained classifier's class-1 map there.

    Args:
        count: number of images.
        rng: the NumPy generator that draws them.

    Returns:
        `(images, labels)`: float32 `(count, 16, 16, 1)` and int64 `(count,)`.

    Example:

    ```python
    x, y = quadrant_images(800, np.random.default_rng(0))
    ```
    """
    images = rng.normal(0.0, 0.05, size=(count, 16, 16, 1)).astype("float32")
    labels = rng.integers(0, 2, size=count)
    for image, label in zip(images, labels, strict=True):
        for top, left in ((0, 0), (0, 8), (8, 0), (8, 8)):
            across, along = rng.integers(0, 8), rng.integers(0, 4)
            if rng.integers(0, 2):
                image[top + along : top + along + 5, left + across] += 1.0
            else:
                image[top + across, left + along : left + along + 5] += 1.0
        if label:
            row, column = rng.integers(0, 6, size=2)
            image[row : row + 3, 8 + column : 11 + column] = 1.0
    return images, labels


def quadrant_classifier() -> keras.Model:
    """The small CNN the quadrant task is checked with: two convolutions, global average pooling.

    The last convolution is named `"last_conv"` (the layer Grad-CAM picks); compiled with Adam
    1e-2 and sparse cross-entropy on its logits, with accuracy.

    Returns:
        A compiled `keras.Sequential` for `(16, 16, 1)` images and two classes.

    Example:

    ```python
    x, y = quadrant_images(800, np.random.default_rng(0))
    model = quadrant_classifier()
    model.fit(x, y, epochs=8, verbose=0)
    heatmaps = zoo.explain.grad_cam(model, x[y == 1], class_index=1)
    ```
    """
    model = keras.Sequential(
        [
            keras.Input((16, 16, 1)),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="last_conv"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2),
        ]
    )
    model.compile(
        keras.optimizers.Adam(1e-2),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def top_right_share(maps: np.ndarray) -> float:
    """Mean share of each `(batch, 16, 16)` map's mass in the top-right quadrant."""
    return float(np.mean(maps[:, :8, 8:].sum(axis=(1, 2)) / maps.sum(axis=(1, 2))))
