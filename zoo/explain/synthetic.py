"""A synthetic image task whose label depends on one known region, to check explanations."""

from __future__ import annotations

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
