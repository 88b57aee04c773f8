"""A sum-tree over priorities: O(log n) updates and prefix-sum sampling, vectorised in NumPy."""

from __future__ import annotations

import numpy as np

from layers.validation import check_positive_int


class SumTree:
    """A complete binary tree whose leaves hold priorities and whose nodes hold their sums.

    Leaf `i` lives at node `capacity_pow2 + i`; node `k`'s children are `2k` and `2k + 1`
    (node 1 is the root). Updates and searches work on whole batches of indices at once.

    Args:
        capacity: number of leaves.

    Example:

    ```python
    tree = SumTree(4)
    tree.update(np.array([0, 2]), np.array([1.0, 3.0]))
    tree.find(np.array([0.5, 2.0]))  # [0, 2]: the leaves whose prefix-sum ranges hold the values
    ```

    Reference: Schaul et al., "Prioritized Experience Replay" (2016), appendix B.2.1.
    """

    def __init__(self, capacity: int):
        check_positive_int("capacity", capacity, allow_numpy=True)
        self.capacity = int(capacity)
        self.leaf_offset = 1 << max(0, (self.capacity - 1).bit_length())
        self.nodes = np.zeros(2 * self.leaf_offset, np.float64)

    @property
    def total(self) -> float:
        """The sum of all priorities."""
        return float(self.nodes[1])

    @property
    def priorities(self) -> np.ndarray:
        """The leaves, `(capacity,)`."""
        return self.nodes[self.leaf_offset : self.leaf_offset + self.capacity]

    def update(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        """Sets the priorities of leaves `indices` (later duplicates win) and refreshes the sums."""
        indices = np.asarray(indices, np.int64)
        priorities = np.asarray(priorities, np.float64)
        if indices.size and (indices.min() < 0 or indices.max() >= self.capacity):
            raise IndexError(f"Leaf indices must lie in [0, {self.capacity}). Received: {indices}")
        if np.any(priorities < 0) or not np.all(np.isfinite(priorities)):
            raise ValueError(f"Priorities must be finite and >= 0. Received: {priorities}")
        nodes = indices + self.leaf_offset
        self.nodes[nodes] = priorities
        nodes = np.unique(nodes // 2)
        while nodes.size and nodes[0] >= 1:
            self.nodes[nodes] = self.nodes[2 * nodes] + self.nodes[2 * nodes + 1]
            if nodes[0] == 1:
                break
            nodes = np.unique(nodes // 2)

    def find(self, values: np.ndarray) -> np.ndarray:
        """The leaf `i` for each value with `sum(p[:i]) <= value < sum(p[:i + 1])`.

        Values at or past the total (rounding) land on the last leaf with a positive priority
        along their path.
        """
        values = np.array(values, np.float64, copy=True)
        nodes = np.ones(values.shape, np.int64)
        while nodes[0] < self.leaf_offset if nodes.size else False:
            left = 2 * nodes
            left_sum = self.nodes[left]
            go_right = (values >= left_sum) & (self.nodes[left + 1] > 0)
            values = np.where(go_right, values - left_sum, values)
            nodes = np.where(go_right, left + 1, left)
        return np.minimum(nodes - self.leaf_offset, self.capacity - 1)

    def sample(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        """Stratified sampling: one leaf from each of `batch_size` equal slices of the total."""
        if self.total <= 0:
            raise RuntimeError("Cannot sample from a sum-tree whose priorities are all zero.")
        bounds = np.arange(batch_size) * (self.total / batch_size)
        values = bounds + rng.uniform(0.0, self.total / batch_size, batch_size)
        return self.find(values)
