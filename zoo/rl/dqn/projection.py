"""The categorical (C51) projection of a shifted return distribution onto a fixed support."""

from __future__ import annotations

import tensorflow as tf


def categorical_projection(probabilities, returns, discounts, support) -> tf.Tensor:
    """Projects `returns + discounts * Z` onto `support`, where `Z` has `probabilities` on it.

    Each shifted atom `Tz_j = clip(r + d z_j, v_min, v_max)` splits its mass between the two
    neighbouring support atoms in proportion to closeness, i.e. atom `i` receives
    `sum_j p_j * max(0, 1 - |Tz_j - z_i| / dz)`: the same result as the floor/ceil loop of the
    paper's Algorithm 1, including atoms that land exactly on the support. The masses are
    scattered with one segment sum (linear in the atoms; compiles under XLA).

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
    n_atoms = tf.shape(support)[0]
    v_min, v_max = support[0], support[-1]
    delta = (v_max - v_min) / tf.cast(n_atoms - 1, tf.float32)
    returns = tf.convert_to_tensor(returns, tf.float32)[:, None]
    discounts = tf.convert_to_tensor(discounts, tf.float32)[:, None]
    shifted = tf.clip_by_value(returns + discounts * support[None, :], v_min, v_max)
    # Atom j's mass splits between its two neighbours `lower` and `lower + 1` (an atom that
    # lands on the support, or on v_max, keeps it all), summed per (row, atom) in one
    # segment sum: O(batch * atoms) instead of the dense (batch, atoms, atoms) form.
    position = (shifted - v_min) / delta
    lower = tf.floor(position)
    upper_share = position - lower
    lower = tf.cast(lower, tf.int32)
    upper = tf.minimum(lower + 1, n_atoms - 1)
    batch = tf.shape(probabilities)[0]
    row = tf.range(batch)[:, None] * n_atoms
    segments = tf.concat([row + lower, row + upper], axis=1)
    mass = tf.concat([probabilities * (1.0 - upper_share), probabilities * upper_share], axis=1)
    projected = tf.math.unsorted_segment_sum(
        tf.reshape(mass, [-1]), tf.reshape(segments, [-1]), batch * n_atoms
    )
    return tf.reshape(projected, [batch, n_atoms])
