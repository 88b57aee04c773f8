"""GraphSAGE neighbour sampling: mini-batches of sampled subgraphs as a parallel `tf.data`
pipeline, in the same form as a full-graph batch."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import tensorflow as tf

from layers.validation import check_non_negative_int, check_positive_int, check_positive_ints
from zoo.graph.graph import Graph


def check_fanouts(fanouts, num_layers: int) -> tuple[int, ...]:
    """Neighbour-sampling fanouts for a model with `num_layers` graph layers: one positive
    integer per layer (a model with L graph layers sees L hops).

    Returns:
        The fanouts as a tuple of ints.

    Example:

    ```python
    check_fanouts([25, 10], 3)
    # ValueError: `fanouts` has 2 entries, one per graph layer, but the model has 3 graph
    # layers. Received: fanouts=[25, 10]
    ```
    """
    check_positive_int("num_layers", num_layers)
    values = tuple(int(v) for v in check_positive_ints("fanouts", fanouts, allow_numpy=True))
    if len(values) != num_layers:
        entries = "entry" if len(values) == 1 else "entries"
        layers = "layer" if num_layers == 1 else "layers"
        raise ValueError(
            f"`fanouts` has {len(values)} {entries}, one per graph layer, but the model has "
            f"{num_layers} graph {layers}. Received: fanouts={fanouts!r}"
        )
    return values


def _concatenated_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """`concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])`, without the loop."""
    firsts = np.cumsum(lengths) - lengths
    return np.repeat(starts - firsts, lengths) + np.arange(int(lengths.sum()))


class NeighborSampler:
    """Mini-batches of sampled subgraphs around seed nodes (GraphSAGE neighbour sampling).

    Each batch takes `batch_size` seed nodes; hop k samples, for every node of the current
    frontier, up to `fanouts[k]` of its in-neighbours (from `graph.in_csr`; all of them when it
    has fewer; without replacement unless `replace=True`) and adds the edges neighbour -> node;
    the neighbours not seen before form the next frontier. A node without in-neighbours adds
    nothing. Every edge of the graph is one candidate, so parallel edges can be sampled twice.
    A model with L graph layers needs `len(fanouts) == L` (`check_fanouts`).

    `dataset()` yields elements in the form of `Graph.full_batch_dataset`:
    `(inputs, labels, sample_weight)`, `inputs = {"node_features": [n, F], "edge_index": [2, e]}`
    (plus `"edge_weight"` when the graph has edge weights) relabelled to `0..n-1`: the batch's
    seed nodes first (in batch order), then the nodes reached at hop 1, at hop 2, ... (each hop
    in order of first appearance). `sample_weight` is 1 for the seeds and 0 for the others, so
    the loss counts the seeds only; `labels` cover every node (0 where the graph has none).

    The seed order is a new permutation every epoch (every new iteration of the dataset),
    drawn from `(seed, epoch)`, and each batch's sampling from `(seed, epoch, batch index)`:
    the batches do not depend on the parallelism, and two samplers with the same seed give the
    same batches. Sampling runs as a parallel `tf.data` map of a vectorised NumPy function
    (`tf.numpy_function`); it reads the graph's arrays in place, so memory beyond the graph
    and its CSR index is per batch only.

    Reference: W. L. Hamilton, R. Ying, J. Leskovec, "Inductive Representation Learning on
    Large Graphs", NeurIPS 2017.

    Args:
        graph: a `zoo.graph.Graph`.
        fanouts: neighbours sampled per node at each hop, one positive integer per graph layer.
            Defaults to `(25, 10)`.
        batch_size: seed nodes per batch (the last batch may be smaller). Defaults to `512`.
        seeds: the seed nodes: a split name (`"train"`, `"val"`, `"test"`: that mask's nodes)
            or an array of distinct node ids. Defaults to `"train"`.
        shuffle: a new seed order every epoch; `False` keeps the order of `seeds`. Defaults to
            `True`.
        seed: the sampling seed, a non-negative integer. Defaults to `0`.
        replace: sample with replacement (then every node with in-neighbours gets exactly
            `fanout` of them, repeats possible). Defaults to `False`.
        num_parallel_calls: batches sampled in parallel. Defaults to `tf.data.AUTOTUNE`.

    Example:

    ```python
    graph = citation_benchmark()
    train = NeighborSampler(graph, fanouts=[25, 10], batch_size=512, seeds="train")
    model.fit(train.dataset(), epochs=10)
    ```
    """

    def __init__(
        self,
        graph: Graph,
        fanouts=(25, 10),
        batch_size: int = 512,
        *,
        seeds="train",
        shuffle: bool = True,
        seed: int = 0,
        replace: bool = False,
        num_parallel_calls: int = tf.data.AUTOTUNE,
    ):
        if not isinstance(graph, Graph):
            raise TypeError(f"`graph` must be a zoo.graph.Graph. Received: graph={graph!r:.200}")
        self.fanouts = tuple(
            int(f) for f in check_positive_ints("fanouts", fanouts, allow_numpy=True)
        )
        self.batch_size = check_positive_int("batch_size", batch_size, allow_numpy=True)
        for name, value in (("shuffle", shuffle), ("replace", replace)):
            if not isinstance(value, bool):
                raise ValueError(f"`{name}` must be a bool. Received: {name}={value!r}")
        self.seed = check_non_negative_int("seed", seed, allow_numpy=True)
        if num_parallel_calls != tf.data.AUTOTUNE:
            check_positive_int("num_parallel_calls", num_parallel_calls)
        self.graph = graph
        self.seeds = self._seed_nodes(seeds)
        self.shuffle = shuffle
        self.replace = replace
        self.num_parallel_calls = num_parallel_calls

    def _seed_nodes(self, seeds) -> np.ndarray:
        if isinstance(seeds, str):
            nodes = np.flatnonzero(self.graph.mask(seeds))
            if not nodes.size:
                raise ValueError(f"The {seeds} mask selects no node. Received: seeds={seeds!r}")
            return nodes
        nodes = np.asarray(seeds)
        if nodes.ndim != 1 or not nodes.size or nodes.dtype.kind not in "iu":
            raise ValueError(
                "`seeds` must be a split name or a non-empty 1-D array of node ids. Received: "
                f"seeds of dtype {nodes.dtype} and shape {nodes.shape}"
            )
        bad = (nodes < 0) | (nodes >= self.graph.num_nodes)
        if bad.any():
            raise ValueError(
                f"`seeds` must be node ids in [0, {self.graph.num_nodes}). "
                f"Received: seeds with value {nodes[bad][0]}"
            )
        unique, counts = np.unique(nodes, return_counts=True)
        if (counts > 1).any():
            raise ValueError(
                f"`seeds` must be distinct node ids. Received: seeds with node "
                f"{unique[counts > 1][0]} {counts.max()} times"
            )
        return nodes.astype(np.int64)

    # Sizes.

    @property
    def num_hops(self) -> int:
        """The number of sampled hops, `len(fanouts)`: the graph layers a model may have."""
        return len(self.fanouts)

    @property
    def steps_per_epoch(self) -> int:
        """Batches per epoch: every seed once, the last batch possibly smaller."""
        return -(-len(self.seeds) // self.batch_size)

    def __len__(self) -> int:
        return self.steps_per_epoch

    def __repr__(self) -> str:
        return (
            f"NeighborSampler(fanouts={list(self.fanouts)}, batch_size={self.batch_size}, "
            f"num_seeds={len(self.seeds)}, steps_per_epoch={self.steps_per_epoch})"
        )

    # Sampling.

    def _neighbours(self, frontier: np.ndarray, fanout: int, rng) -> tuple[np.ndarray, np.ndarray]:
        """CSR positions of the sampled in-edges of `frontier`'s nodes and their owner (the
        index into `frontier`), grouped by owner in frontier order."""
        indptr = self.graph.in_csr[0]
        starts = indptr[frontier]
        degrees = indptr[frontier + 1] - starts
        if self.replace:
            counts = np.where(degrees > 0, fanout, 0)
            owners = np.repeat(np.arange(len(frontier)), counts)
            offsets = (rng.random(len(owners)) * degrees[owners]).astype(np.int64)
            return starts[owners] + offsets, owners
        small = degrees <= fanout
        # Nodes with at most `fanout` in-edges keep them all.
        small_owners = np.repeat(np.flatnonzero(small), degrees[small])
        small_picks = _concatenated_ranges(starts[small], degrees[small])
        # The others: a random key per candidate edge; the `fanout` smallest keys per node win.
        large = np.flatnonzero(~small)
        large_degrees = degrees[large]
        segment = np.repeat(np.arange(len(large)), large_degrees)
        order = np.argsort(segment + rng.random(len(segment)))
        rank = np.arange(len(segment)) - np.repeat(
            np.cumsum(large_degrees) - large_degrees, large_degrees
        )
        chosen = order[rank < fanout]
        large_picks = _concatenated_ranges(starts[large], large_degrees)[chosen]
        picks = np.concatenate([small_picks, large_picks])
        owners = np.concatenate([small_owners, large[segment[chosen]]])
        # Two runs sorted by owner: a stable sort merges them in linear time.
        grouped = np.argsort(owners, kind="stable")
        return picks[grouped], owners[grouped]

    def sample(self, nodes, rng=None):
        """Samples the subgraph around `nodes` (NumPy; what each dataset element holds).

        Args:
            nodes: distinct seed node ids, 1-D.
            rng: a `numpy.random.Generator`, or `None` for one seeded with `seed`.
                Defaults to `None`.

        Returns:
            `(inputs, labels, sample_weight, node_ids)`: the dataset element's three parts and
            the graph's id of every subgraph node (int64 `[n]`, seeds first).
        """
        rng = np.random.default_rng(self.seed) if rng is None else rng
        _, sources, edge_ids = self.graph.in_csr
        nodes = np.asarray(nodes, dtype=np.int64)
        parts = [nodes]
        known = np.sort(nodes)  # global ids seen so far, sorted, with their local ids
        known_local = np.argsort(nodes)
        frontier, frontier_local = nodes, np.arange(len(nodes))
        count = len(nodes)
        new_sources, new_targets, sampled_edges = [], [], []
        for fanout in self.fanouts:
            picks, owners = self._neighbours(frontier, fanout, rng)
            neighbours = sources[picks].astype(np.int64)
            position = np.minimum(np.searchsorted(known, neighbours), len(known) - 1)
            seen = known[position] == neighbours
            local = np.empty(len(neighbours), dtype=np.int64)
            local[seen] = known_local[position[seen]]
            fresh, first, inverse = np.unique(
                neighbours[~seen], return_index=True, return_inverse=True
            )
            # New nodes are numbered in order of first appearance.
            rank = np.empty(len(fresh), dtype=np.int64)
            rank[np.argsort(first, kind="stable")] = np.arange(len(fresh))
            local[~seen] = count + rank[inverse]
            new_sources.append(local)
            new_targets.append(frontier_local[owners])
            sampled_edges.append(edge_ids[picks])
            frontier = np.empty(len(fresh), dtype=np.int64)
            frontier[rank] = fresh
            frontier_local = count + np.arange(len(fresh))
            merged = np.concatenate([known, fresh])
            order = np.argsort(merged, kind="stable")
            known = merged[order]
            known_local = np.concatenate([known_local, count + rank])[order]
            parts.append(frontier)
            count += len(fresh)
            if not len(frontier):
                break

        node_ids = np.concatenate(parts)
        edge_index = np.stack([np.concatenate(new_sources), np.concatenate(new_targets)])
        inputs = {
            "node_features": self.graph.node_features[node_ids],
            "edge_index": edge_index.astype(np.int32),
        }
        if self.graph.edge_weight is not None:
            inputs["edge_weight"] = self.graph.edge_weight[np.concatenate(sampled_edges)]
        if self.graph.labels is None:
            labels = np.zeros(count, dtype=np.int32)
        else:
            labels = self.graph.labels[node_ids]
        sample_weight = np.zeros(count, dtype=np.float32)
        sample_weight[: len(nodes)] = 1.0
        return inputs, labels, sample_weight, node_ids

    def _batch_rng(self, epoch: int, index: int):
        sequence = np.random.SeedSequence(self.seed, spawn_key=(int(epoch), 1, int(index)))
        return np.random.default_rng(sequence)

    def epoch_order(self, epoch: int) -> np.ndarray:
        """The seed nodes in the order of epoch `epoch` (0 for the first iteration)."""
        if not self.shuffle:
            return self.seeds
        sequence = np.random.SeedSequence(self.seed, spawn_key=(int(epoch), 0, 0))
        return self.seeds[np.random.default_rng(sequence).permutation(len(self.seeds))]

    def dataset(self) -> tf.data.Dataset:
        """A `tf.data.Dataset` of one epoch of sampled batches `(inputs, labels,
        sample_weight)`; every new iteration is the next epoch (a new seed order with
        `shuffle`). Each call starts again at epoch 0. Its cardinality is `steps_per_epoch`.
        The epoch number and the sampling come from `tf.numpy_function`, so the pipeline runs
        in this Python process (it cannot be serialised into a SavedModel or sent to tf.data
        service). tf.data's autotuning is off for this pipeline (its background thread held up
        the end of an epoch by up to 20 ms, as long as a small graph's whole epoch): the
        sampling map runs `num_parallel_calls` batches at once (`AUTOTUNE`: one per core) and
        two batches are prefetched, except in an epoch of one batch, sampled in the thread
        that asks for it.

        Example:

        ```python
        model.fit(sampler.dataset(), epochs=10,
                  validation_data=NeighborSampler(graph, seeds="val", shuffle=False).dataset())
        ```
        """
        epochs = itertools.count()
        current = {"epoch": -1}
        weighted = self.graph.edge_weight is not None
        num_features = self.graph.num_features
        batch_size = self.batch_size

        def epoch_of(index):
            # Called in batch order (a sequential map): batch 0 starts the next epoch, also
            # after an iteration that stopped early.
            if index == 0:
                current["epoch"] = next(epochs)
            return np.int64(current["epoch"])

        @functools.lru_cache(maxsize=2)
        def order_of(epoch):
            return self.epoch_order(epoch)

        def sample(epoch, index):
            start = int(index) * batch_size
            nodes = order_of(int(epoch))[start : start + batch_size]
            inputs, labels, sample_weight, _ = self.sample(nodes, self._batch_rng(epoch, index))
            extra = (inputs["edge_weight"],) if weighted else ()
            return (inputs["node_features"], inputs["edge_index"], *extra, labels, sample_weight)

        def sample_tensors(epoch, index):
            types = [
                tf.float32,
                tf.int32,
                *([tf.float32] if weighted else []),
                tf.int32,
                tf.float32,
            ]
            values = tf.numpy_function(sample, [epoch, index], types, stateful=False)
            features, edge_index, *extra, labels, sample_weight = values
            features.set_shape([None, num_features])
            edge_index.set_shape([2, None])
            labels.set_shape([None])
            sample_weight.set_shape([None])
            inputs = {"node_features": features, "edge_index": edge_index}
            if weighted:
                extra[0].set_shape([None])
                inputs["edge_weight"] = extra[0]
            return inputs, labels, sample_weight

        # (epoch, batch index) pairs: the epoch number moves on at every iteration's batch 0.
        batches = tf.data.Dataset.range(self.steps_per_epoch).map(
            lambda i: (tf.numpy_function(epoch_of, [i], tf.int64, stateful=True), i)
        )
        # An epoch of one batch has nothing to overlap: no worker threads to start and stop.
        one_batch = self.steps_per_epoch == 1
        dataset = batches.map(
            sample_tensors,
            num_parallel_calls=None if one_batch else self.num_parallel_calls,
            deterministic=True,
        )
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(self.steps_per_epoch))
        if not one_batch:
            dataset = dataset.prefetch(2)
        options = tf.data.Options()
        options.autotune.enabled = False
        return dataset.with_options(options)
