"""Sum-trees over priorities for prioritised replay: `SumTree` in NumPy (binary, O(log n) updates
and prefix-sum search, vectorised over a batch; the reference) and `GraphSumTree` in TensorFlow
variables (two levels, for sampling and priority updates inside a compiled training loop)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

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


class GraphSumTree:
    """Priorities in TensorFlow variables as a sum-tree of fan-out `fanout` (64: three levels
    for 262,144 leaves); `find`, `update` and `total` are graph functions (`tf.function`, XLA).

    Level `d` (1 at the top) holds `fanout ** d` sums as a `(fanout ** (d - 1), fanout)`
    variable, one row per parent; the last level holds the leaves. A search descends one
    level per step for the whole batch: gather each value's row of child sums, take their
    running sums (one small matrix product), pick the first positive child whose running
    sum passes the value. An update writes the leaves, then each level's touched sums from
    their rows; everything is done in place on the variables and touches
    `O(batch * fanout * depth)` values, whatever the capacity. Same contract as `SumTree`:
    `find(v)` is the leaf `i` with `sum(p[:i]) <= v < sum(p[:i + 1])` (up to floating-point
    rounding of the partial sums), values at or past the total land on the last positive
    leaf, a zero priority is never found, and later duplicates in an update win.

    Args:
        capacity: number of leaves.
        fanout: children per node. Defaults to `64`.

    Example:

    ```python
    tree = GraphSumTree(4)
    tree.update(tf.constant([0, 2]), tf.constant([1.0, 3.0], tf.float64))
    tree.find(tf.constant([0.5, 2.0], tf.float64))[0]  # [0, 2]
    ```

    Reference: Schaul et al., "Prioritized Experience Replay" (2016), appendix B.2.1.
    """

    def __init__(self, capacity: int, fanout: int = 64):
        self.capacity = check_positive_int("capacity", capacity, allow_numpy=True)
        self.fanout = check_positive_int("fanout", fanout, allow_numpy=True)
        if fanout < 2:
            raise ValueError(f"`fanout` must be at least 2. Received: fanout={fanout}")
        self.depth = 1
        while fanout**self.depth < self.capacity:
            self.depth += 1
        with tf.init_scope():
            self.levels = [
                tf.Variable(
                    tf.zeros((fanout ** (d - 1), fanout), tf.float64),
                    trainable=False,
                    name=f"sum_tree_level_{d}",
                )
                for d in range(1, self.depth + 1)
            ]
        # Running sums of a row: row @ upper-triangular ones.
        self._running = np.triu(np.ones((fanout, fanout)))

    def total(self):
        """The sum of all priorities (graph function)."""
        return tf.reduce_sum(self.levels[0])

    def find(self, values):
        """Leaf indices `(batch,)` int32 for prefix-sum `values` `(batch,)` float64, and
        their priorities (graph function)."""
        values = tf.convert_to_tensor(values, tf.float64)
        running = tf.constant(self._running, tf.float64)
        positions = tf.range(self.fanout)
        node = tf.zeros(tf.shape(values), tf.int32)
        for level in self.levels:
            children = tf.gather(level, node)  # (batch, fanout)
            ends = tf.matmul(children, running)
            positive = children > 0
            passed = (ends > values[:, None]) & positive
            last_positive = tf.reduce_max(tf.where(positive, positions[None, :], 0), 1)
            child = tf.where(
                tf.reduce_any(passed, 1),
                tf.argmax(tf.cast(passed, tf.int32), 1, output_type=tf.int32),
                last_positive,
            )
            chosen = tf.gather(children, child, batch_dims=1)
            start = tf.gather(ends, child, batch_dims=1) - chosen
            values = tf.maximum(values - start, 0.0)
            node = node * self.fanout + child
        return node, chosen

    def update(self, index, priorities) -> None:
        """Sets leaves `index` to `priorities` (later duplicates win) and refreshes the sums
        above them (graph function)."""
        index = tf.convert_to_tensor(index, tf.int32)
        priorities = tf.convert_to_tensor(priorities, tf.float64)
        # Every duplicate writes the value of the last one, so the scatter order is moot.
        position = tf.range(tf.shape(index)[0])
        same = tf.equal(index[:, None], index[None, :])
        values = tf.gather(priorities, tf.reduce_max(tf.where(same, position[None, :], -1), 1))
        for d in range(self.depth - 1, -1, -1):
            row = index // self.fanout
            self.levels[d].scatter_nd_update(tf.stack([row, index % self.fanout], 1), values)
            if d:
                values = tf.reduce_sum(tf.gather(self.levels[d], row), 1)
                index = row

    def assign(self, priorities: np.ndarray) -> None:
        """Sets every leaf from NumPy `priorities` (`capacity` values, or fewer: the rest 0)."""
        sums = np.zeros(self.fanout**self.depth, np.float64)
        sums[: len(priorities)] = priorities
        for level in reversed(self.levels):
            rows = sums.reshape(-1, self.fanout)
            level.assign(rows)
            sums = rows.sum(1)

    def numpy(self) -> np.ndarray:
        """The leaves, `(capacity,)`."""
        return self.levels[-1].numpy().reshape(-1)[: self.capacity]
