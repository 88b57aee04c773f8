"""Magnitude masks: the smallest weights of a tensor set to zero."""

from __future__ import annotations

import numpy as np


def magnitude_mask(
    weights: np.ndarray, sparsity: float, mask: np.ndarray | None = None
) -> np.ndarray:
    """A 0/1 mask that zeroes the `sparsity` fraction of `weights` with the smallest magnitude.

    Weights already masked (`mask == 0`) count as the smallest, so sparsity only grows.
    Ties are broken by position, so exactly `round(sparsity * size)` entries are zero.

    Args:
        weights: the weight tensor.
        sparsity: fraction of entries to zero, in `[0, 1)`.
        mask: the current mask, or `None`. Defaults to `None`.

    Returns:
        A float32 array of the weights' shape.
    """
    magnitude = np.abs(np.asarray(weights, np.float64)).ravel()
    if mask is not None:
        magnitude = np.where(np.asarray(mask).ravel() > 0, magnitude, -1.0)
    pruned = int(round(sparsity * magnitude.size))
    flat = np.ones(magnitude.size, np.float32)
    flat[np.argsort(magnitude, kind="stable")[:pruned]] = 0.0
    return flat.reshape(np.shape(weights))
