"""The categorical (C51) projection of a shifted return distribution onto a fixed support."""

from __future__ import annotations

import tensorflow as tf


def categorical_projection(probabilities, returns, discounts, support) -> tf.Tensor:
    """Projects `returns + discounts * Z` onto `support`, where `Z` has `probabilities` on it.

    Each shifted atom `Tz_j = clip(r + d z_j, v_min, v_max)` splits its mass between the two
    neighbouring support atoms in proportion to closeness, i.e. atom `i` receives
    `sum_j p_j * max(0, 1 - |Tz_j - z_i| / dz)`: the same result as the floor/ceil loop of the
    paper's Algorithm 1, including atoms that land exactly on the support.

    Args:
        probabilities: `(batch, n_atoms)` next-state distribution.
        returns: `(batch,)` (n-step) rewards.
        discounts: `(batch,)` discount of the bootstrap, 0 for terminal transitions.
        support: `(n_atoms,)` evenly spaced atoms from `v_min` to `v_max`.

    Returns:
        `(batch, n_atoms)` projected probabilities (rows sum to 1).

    Example:

    ```python
    support = tf.linspace(-1.0, 1.0, 3)
    categorical_projection([[0.0, 1.0, 0.0]], [0.5], [1.0], support)  # [[0, 0.5, 0.5]]
    ```

    Reference: Bellemare et al., "A Distributional Perspective on Reinforcement Learning"
    (2017), Algorithm 1.
    """
    support = tf.convert_to_tensor(support, tf.float32)
    probabilities = tf.convert_to_tensor(probabilities, tf.float32)
    v_min, v_max = support[0], support[-1]
    delta = (v_max - v_min) / tf.cast(tf.shape(support)[0] - 1, tf.float32)
    returns = tf.convert_to_tensor(returns, tf.float32)[:, None]
    discounts = tf.convert_to_tensor(discounts, tf.float32)[:, None]
    shifted = tf.clip_by_value(returns + discounts * support[None, :], v_min, v_max)
    # (batch, target atom i, source atom j)
    closeness = 1.0 - tf.abs(shifted[:, None, :] - support[None, :, None]) / delta
    return tf.reduce_sum(tf.clip_by_value(closeness, 0.0, 1.0) * probabilities[:, None, :], -1)
