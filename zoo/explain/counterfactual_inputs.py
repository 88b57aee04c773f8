"""Argument checks of the counterfactual search: the example, immutable features, feature ranges."""

from __future__ import annotations

import numpy as np

from layers.validation import check_int_in_range


def outputs_are_probabilities(model, outputs) -> bool:
    """Reads the last layer's activation; without one, checks that rows are distributions."""
    layers = getattr(model, "layers", None)
    activation = getattr(layers[-1], "activation", None) if layers else None
    name = getattr(activation, "__name__", "")
    if name in ("softmax", "sigmoid"):
        return True
    if activation is not None:
        return False
    # No activation to read (a subclassed model): rows of K > 1 non-negative values summing to
    # 1 are probabilities; anything else is taken as logits.
    rows = np.asarray(outputs)
    return rows.shape[-1] > 1 and bool((rows >= 0).all()) and np.allclose(rows.sum(-1), 1, 1e-4)


def check_example(model, x) -> np.ndarray:
    """`x` as one float32 example of the model's input shape (a batch of one is unwrapped)."""
    x = np.asarray(x, dtype="float32")
    input_shape = getattr(model, "input_shape", None)
    if isinstance(input_shape, tuple) and len(input_shape) >= 2:
        feature_shape = tuple(input_shape[1:])
        if x.shape == (1, *feature_shape):
            x = x[0]
        same_rank = len(x.shape) == len(feature_shape)
        if not same_rank or any(
            want not in (None, got) for want, got in zip(feature_shape, x.shape, strict=True)
        ):
            raise ValueError(
                f"`x` must be one example of the model's input shape {feature_shape} (or a batch "
                f"of one); explain a batch one example at a time. Received: x.shape={x.shape}"
            )
    if x.ndim == 0:
        raise ValueError(f"`x` must be one example, not a scalar. Received: x.shape={x.shape}")
    return x


def mutable_mask(immutable, num_features) -> np.ndarray:
    """float32 `[F]`: 0 at the immutable flat indices (an int or a sequence), 1 elsewhere."""
    mask = np.ones(num_features, "float32")
    indices = [immutable] if isinstance(immutable, int | np.integer) else immutable
    for index in () if indices is None else indices:
        check_int_in_range(
            "immutable", index, 0, num_features, include_high=False, allow_numpy=True
        )
        mask[index] = 0.0
    return mask


def feature_bounds(feature_ranges, data, x):
    """Per-feature `[F]` low and high bounds: given, from `data`'s min and max, or infinite."""
    flat_x = x.reshape(-1)
    if feature_ranges is None and data is None:
        return np.full_like(flat_x, -np.inf), np.full_like(flat_x, np.inf)
    if feature_ranges is None:
        # Ranges seen in the data, widened to hold `x` itself (a test row may lie outside).
        flat_data = np.asarray(data, dtype="float32").reshape(len(data), -1)
        return np.minimum(flat_data.min(0), flat_x), np.maximum(flat_data.max(0), flat_x)
    try:
        low, high = (
            np.broadcast_to(np.asarray(bound, "float32"), x.shape).reshape(-1)
            for bound in feature_ranges
        )
    except (TypeError, ValueError):
        raise ValueError(
            "`feature_ranges` must be a pair (low, high) of numbers or arrays broadcastable to "
            f"x.shape={x.shape}. Received: feature_ranges={feature_ranges!r}"
        ) from None
    outside = np.flatnonzero((flat_x < low) | (flat_x > high))
    if len(outside):
        raise ValueError(
            f"`x` lies outside the feature ranges at flat feature indices {outside.tolist()}. "
            f"Received: feature_ranges={feature_ranges!r}"
        )
    return low, high
