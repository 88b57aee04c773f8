"""`Graph`: one graph's arrays on the host (NumPy), checked once, and its model inputs."""

from __future__ import annotations

import functools
import numbers
import os

import numpy as np
import tensorflow as tf

from layers.validation import check_edge_index, check_non_negative_int

SPLITS = ("train", "val", "test")
_INT32_MAX = np.iinfo(np.int32).max


def _read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view: the caller's array stays writable, the graph's copy cannot change."""
    view = array.view()
    view.flags.writeable = False
    return view


def _node_features(value) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim != 2:
        raise ValueError(
            "`node_features` must have shape [num_nodes, num_features]. "
            f"Received: shape={array.shape}"
        )
    if array.dtype.kind not in "biuf":
        raise ValueError(f"`node_features` must hold numbers. Received: dtype={array.dtype}")
    if array.shape[1] == 0:
        raise ValueError(
            "`node_features` must have at least one feature per node (use ones for a graph "
            f"without node features). Received: shape={array.shape}"
        )
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        row = int(np.flatnonzero(~np.isfinite(array).all(axis=1))[0])
        raise ValueError(
            f"`node_features` must be finite; row {row} is not. Received: "
            f"node_features[{row}]={array[row]!r}"
        )
    return array


def _labels(value, num_nodes: int, name: str = "labels") -> np.ndarray | None:
    if value is None:
        return None
    array = np.asarray(value)
    if array.ndim != 1 or len(array) != num_nodes:
        raise ValueError(
            f"`{name}` must have shape [num_nodes] = [{num_nodes}]. Received: shape={array.shape}"
        )
    if array.size and array.dtype.kind not in "iu":
        raise ValueError(f"`{name}` must hold integer classes. Received: dtype={array.dtype}")
    if array.size and array.min() < 0:
        raise ValueError(
            f"`{name}` must be non-negative class ids. Received: {name} with value {array.min()}"
        )
    if array.size and array.max() > _INT32_MAX:
        raise ValueError(f"`{name}` must fit in int32. Received: {name} with value {array.max()}")
    return array.astype(np.int32, copy=False)


def _mask(name: str, value, num_nodes: int) -> np.ndarray | None:
    if value is None:
        return None
    array = np.asarray(value)
    if array.dtype != bool or array.shape != (num_nodes,):
        raise ValueError(
            f"`{name}` must be a boolean array of shape [num_nodes] = [{num_nodes}]. "
            f"Received: dtype={array.dtype}, shape={array.shape}"
        )
    return array


def _edge_weight(value, num_edges: int) -> np.ndarray | None:
    if value is None:
        return None
    array = np.asarray(value)
    if array.shape != (num_edges,) or array.dtype.kind not in "biuf":
        raise ValueError(
            f"`edge_weight` must be numbers of shape [num_edges] = [{num_edges}]. "
            f"Received: dtype={array.dtype}, shape={array.shape}"
        )
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        edge = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(
            f"`edge_weight` must be finite. Received: edge_weight[{edge}]={array[edge]}"
        )
    return array


def _identity_features(num_nodes: int) -> np.ndarray:
    return np.eye(num_nodes, dtype=np.float32)


class Graph:
    """One graph's node features, edges, labels and split masks, as checked NumPy arrays.

    The host-side container of the graph models: it validates everything once, turns into the
    models' input dict (`inputs()`, `full_batch_dataset()`), and holds the in-neighbour index
    that `zoo.graph.NeighborSampler` samples from (`in_csr`). Edges are directed, row 0 of
    `edge_index` the sources and row 1 the targets: messages flow source -> target, as in
    PyTorch Geometric; an undirected graph holds both directions. Treat a graph as immutable:
    its arrays are read-only views, of the arrays passed in where those already have the stored
    dtype (no copy, so that large graphs fit in memory once): do not change those afterwards.

    Args:
        node_features: `[num_nodes, num_features]` numbers, stored float32; at least one
            feature per node, all finite.
        edge_index: `[2, num_edges]` integer node ids (checked by
            `layers.validation.check_edge_index`), stored int32.
        labels: `[num_nodes]` non-negative integer classes, stored int32, or `None`.
            Defaults to `None`.
        edge_weight: `[num_edges]` finite numbers, stored float32, or `None`. Defaults to
            `None`.
        train_mask: `[num_nodes]` booleans marking the training nodes, or `None`. Defaults to
            `None`.
        val_mask: the same for the validation nodes. Defaults to `None`.
        test_mask: the same for the test nodes. Defaults to `None`.
        graph_label: a non-negative integer class of the whole graph (graph classification),
            or `None`. Defaults to `None`.
        name: a name for `repr` and files, or `None`. Defaults to `None`.

    Example:

    ```python
    graph = Graph.from_edge_list([(0, 1), (1, 2)], labels=[0, 1, 1])
    graph.num_edges  # 4: both directions of each pair
    model.fit(graph.full_batch_dataset("train"), epochs=200)
    ```
    """

    def __init__(
        self,
        node_features,
        edge_index,
        labels=None,
        *,
        edge_weight=None,
        train_mask=None,
        val_mask=None,
        test_mask=None,
        graph_label=None,
        name: str | None = None,
    ):
        features = _node_features(node_features)
        num_nodes = len(features)
        edges = check_edge_index(edge_index, num_nodes)
        if num_nodes <= _INT32_MAX:
            edges = edges.astype(np.int32, copy=False)
        if graph_label is not None:
            if not isinstance(graph_label, numbers.Integral) or isinstance(graph_label, bool):
                raise ValueError(
                    f"`graph_label` must be a non-negative integer or None. "
                    f"Received: graph_label={graph_label!r}"
                )
            check_non_negative_int("graph_label", int(graph_label))
            graph_label = int(graph_label)
        if name is not None and not isinstance(name, str):
            raise ValueError(f"`name` must be a string or None. Received: name={name!r}")
        self.node_features = _read_only(features)
        self.edge_index = _read_only(edges)
        arrays = {
            "labels": _labels(labels, num_nodes),
            "edge_weight": _edge_weight(edge_weight, edges.shape[1]),
            "train_mask": _mask("train_mask", train_mask, num_nodes),
            "val_mask": _mask("val_mask", val_mask, num_nodes),
            "test_mask": _mask("test_mask", test_mask, num_nodes),
        }
        for key, array in arrays.items():
            setattr(self, key, None if array is None else _read_only(array))
        self.graph_label = graph_label
        self.name = name

    # Sizes.

    @property
    def num_nodes(self) -> int:
        return self.node_features.shape[0]

    @property
    def num_edges(self) -> int:
        return self.edge_index.shape[1]

    @property
    def num_features(self) -> int:
        return self.node_features.shape[1]

    @property
    def num_classes(self) -> int | None:
        """The largest node label plus one, or `None` without labels."""
        if self.labels is None or self.labels.size == 0:
            return None
        return int(self.labels.max()) + 1

    def __repr__(self) -> str:
        parts = [f"name={self.name!r}"] if self.name is not None else []
        parts += [
            f"num_nodes={self.num_nodes}",
            f"num_edges={self.num_edges}",
            f"num_features={self.num_features}",
        ]
        if self.labels is not None:
            parts.append(f"num_classes={self.num_classes}")
        for split in SPLITS:
            mask = getattr(self, f"{split}_mask")
            if mask is not None:
                parts.append(f"num_{split}={int(mask.sum())}")
        if self.edge_weight is not None:
            parts.append("weighted")
        if self.graph_label is not None:
            parts.append(f"graph_label={self.graph_label}")
        return f"Graph({', '.join(parts)})"

    # Structure.

    @functools.cached_property
    def in_csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The in-neighbours of every node, grouped by target node (computed once).

        Returns:
            `(indptr, sources, edge_ids)`: the in-edges of node `v` are
            `edge_ids[indptr[v]:indptr[v + 1]]`, coming from `sources[indptr[v]:indptr[v + 1]]`,
            in their order in `edge_index` (a stable sort). `indptr` is int64 `[num_nodes + 1]`,
            `sources` and `edge_ids` are `[num_edges]` (int32 where they fit).
        """
        targets = self.edge_index[1]
        edge_ids = np.argsort(targets, kind="stable")
        if self.num_edges <= _INT32_MAX:
            edge_ids = edge_ids.astype(np.int32)
        sources = self.edge_index[0][edge_ids]
        indptr = np.zeros(self.num_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(targets, minlength=self.num_nodes), out=indptr[1:])
        return _read_only(indptr), _read_only(sources), _read_only(edge_ids)

    def mask(self, split: str) -> np.ndarray:
        """The boolean mask of `split` (`"train"`, `"val"` or `"test"`).

        Raises:
            ValueError: an unknown split, or a split this graph has no mask for.
        """
        if split not in SPLITS:
            raise ValueError(f"`split` must be one of {list(SPLITS)}. Received: split={split!r}")
        mask = getattr(self, f"{split}_mask")
        if mask is None:
            raise ValueError(
                f"This graph has no {split} mask (it was built without `{split}_mask`). "
                f"Received: split={split!r}"
            )
        return mask

    # Model inputs.

    def inputs(self) -> dict[str, np.ndarray]:
        """The models' input dict: float32 `node_features` `[N, F]`, int32 `edge_index` `[2, E]`,
        and float32 `edge_weight` `[E]` when the graph has edge weights."""
        inputs = {
            "node_features": self.node_features,
            "edge_index": self.edge_index.astype(np.int32, copy=False),
        }
        if self.edge_weight is not None:
            inputs["edge_weight"] = self.edge_weight
        return inputs

    def full_batch_dataset(self, split: str = "train") -> tf.data.Dataset:
        """A dataset of ONE element, the whole graph: `(inputs, labels, sample_weight)`.

        `labels` are int32 `[N]`; `sample_weight` is `split`'s mask as float32 `[N]`, so the loss
        and weighted metrics count only that split's nodes.

        Args:
            split: `"train"`, `"val"` or `"test"`. Defaults to `"train"`.

        Example:

        ```python
        model.fit(graph.full_batch_dataset("train"), epochs=200,
                  validation_data=graph.full_batch_dataset("val"))
        ```
        """
        mask = self.mask(split)
        if self.labels is None:
            raise ValueError(f"This graph has no labels to train on. Received: split={split!r}")
        element = (self.inputs(), self.labels, mask.astype(np.float32))
        return tf.data.Dataset.from_tensors(element)

    # Constructors.

    @classmethod
    def from_networkx(
        cls, g, features=None, feature_key: str | None = None, label_key: str | None = None
    ) -> Graph:
        """A `Graph` from a networkx graph (networkx itself is not a dependency).

        Nodes are numbered in the order of `list(g.nodes)`. An undirected graph gives both
        directions of every edge (a self-loop once); a directed one its edges as they are; a
        multigraph keeps its parallel edges.

        Args:
            g: a `networkx.Graph`, `DiGraph`, `MultiGraph` or `MultiDiGraph`.
            features: `[num_nodes, num_features]` node features in node order, or `None`.
                Defaults to `None`: the node attribute `feature_key` when given, else the
                identity matrix (one-hot node ids, for small graphs).
            feature_key: a node attribute holding each node's feature vector. Defaults to
                `None`.
            label_key: a node attribute holding each node's class; its distinct values are
                numbered in sorted order. Defaults to `None` (no labels).

        Example:

        ```python
        graph = Graph.from_networkx(networkx.karate_club_graph(), label_key="club")
        ```
        """
        if not all(hasattr(g, a) for a in ("nodes", "edges", "is_directed")):
            raise TypeError(f"`g` must be a networkx graph. Received: g of type {type(g)}")
        if features is not None and feature_key is not None:
            raise ValueError(
                "Pass `features` or `feature_key`, not both. "
                f"Received: features of shape {np.shape(features)}, feature_key={feature_key!r}"
            )
        nodes = list(g.nodes)
        index = {node: i for i, node in enumerate(nodes)}
        pairs = np.array([(index[u], index[v]) for u, v in g.edges()], dtype=np.int64)
        pairs = pairs.reshape(-1, 2)
        edges = pairs.T if g.is_directed() else _both_directions(pairs)
        if feature_key is not None:
            features = [_node_attribute(g, node, feature_key) for node in nodes]
            features = np.asarray(features, dtype=np.float32).reshape(len(nodes), -1)
        elif features is None:
            features = _identity_features(len(nodes))
        labels = None
        if label_key is not None:
            values = [_node_attribute(g, node, label_key) for node in nodes]
            classes = sorted(set(values))
            number = {value: i for i, value in enumerate(classes)}
            labels = np.array([number[value] for value in values], dtype=np.int32)
        name = getattr(g, "name", None)
        return cls(features, edges, labels, name=str(name) if name else None)

    @classmethod
    def from_edge_list(
        cls,
        edges,
        num_nodes: int | None = None,
        node_features=None,
        labels=None,
        directed: bool = False,
    ) -> Graph:
        """A `Graph` from `(source, target)` pairs.

        Args:
            edges: `[num_pairs, 2]` integer node ids (a list of pairs or an array).
            num_nodes: the number of nodes. Defaults to `None`: the rows of `node_features`,
                else the length of `labels`, else the largest node id plus one.
            node_features: `[num_nodes, num_features]`, or `None`. Defaults to `None`: the
                identity matrix (one-hot node ids, for small graphs).
            labels: `[num_nodes]` integer classes, or `None`. Defaults to `None`.
            directed: `False` adds the reverse of every pair (a self-loop once): column `i` of
                `edge_index` is pair `i`, the reverses follow. `True` keeps the pairs as
                given. Defaults to `False`.

        Example:

        ```python
        graph = Graph.from_edge_list([(0, 1), (1, 2), (2, 0)], labels=[0, 0, 1])
        ```
        """
        pairs = np.asarray(edges)
        if pairs.size == 0:
            pairs = np.zeros((0, 2), dtype=np.int64)
        if pairs.ndim != 2 or pairs.shape[1] != 2:
            raise ValueError(
                "`edges` must be (source, target) pairs, of shape [num_pairs, 2]. "
                f"Received: shape={pairs.shape}"
            )
        if not isinstance(directed, bool):
            raise TypeError(f"`directed` must be a bool. Received: directed={directed!r}")
        if num_nodes is None:
            if node_features is not None:
                num_nodes = len(node_features)
            elif labels is not None:
                num_nodes = len(labels)
            else:
                num_nodes = int(pairs.max()) + 1 if pairs.size else 0
        check_non_negative_int("num_nodes", num_nodes, allow_numpy=True)
        if node_features is None:
            node_features = _identity_features(int(num_nodes))
        elif len(node_features) != num_nodes:
            raise ValueError(
                f"`node_features` must have num_nodes={num_nodes} rows. "
                f"Received: shape={np.shape(node_features)}"
            )
        edge_index = pairs.T if directed else _both_directions(pairs)
        return cls(node_features, edge_index, labels)

    @classmethod
    def from_scipy(cls, matrix, node_features=None, labels=None) -> Graph:
        """A `Graph` from an adjacency matrix: `A[i, j] != 0` is an edge `i -> j` of weight
        `A[i, j]` (kept as `edge_weight`).

        Edges come in row-major order (by source, then target); duplicate entries of a COO
        matrix are summed first, explicit zeros dropped.

        Args:
            matrix: a square scipy sparse matrix or array, or a dense 2-D array.
            node_features: `[num_nodes, num_features]`, or `None`. Defaults to `None`: the
                identity matrix.
            labels: `[num_nodes]` integer classes, or `None`. Defaults to `None`.

        Example:

        ```python
        graph = Graph.from_scipy(scipy.sparse.random(100, 100, density=0.05), features)
        ```
        """
        from scipy import sparse

        csr = sparse.csr_array(matrix, copy=True)
        if csr.shape[0] != csr.shape[1]:
            raise ValueError(f"`matrix` must be square. Received: shape={csr.shape}")
        csr.sum_duplicates()
        csr.eliminate_zeros()
        csr.sort_indices()
        sources = np.repeat(np.arange(csr.shape[0], dtype=np.int64), np.diff(csr.indptr))
        edge_index = np.stack([sources, csr.indices.astype(np.int64)])
        if node_features is None:
            node_features = _identity_features(csr.shape[0])
        return cls(node_features, edge_index, labels, edge_weight=csr.data)

    # Files.

    def to_tfrecords(self, path: str) -> list[str]:
        """Writes this graph as one TFRecord (see `graphs_to_tfrecords`).

        Example:

        ```python
        graph.to_tfrecords("data/cora")
        graph = Graph.from_tfrecords("data/cora")
        ```
        """
        return graphs_to_tfrecords([self], path)

    @classmethod
    def from_tfrecords(cls, path: str) -> Graph:
        """Reads the one graph that `to_tfrecords` wrote (`graphs_from_tfrecords` reads many).

        Raises:
            ValueError: the files hold more than one graph.
        """
        graphs = graphs_from_tfrecords(path)
        if len(graphs) != 1:
            raise ValueError(
                f"{path!r} holds {len(graphs)} graphs; read them with "
                f"zoo.graph.graphs_from_tfrecords. Received: path={path!r}"
            )
        return graphs[0]


def _both_directions(pairs: np.ndarray) -> np.ndarray:
    """`[2, E']`: the pairs, then the reverse of every pair that is not a self-loop."""
    pairs = np.asarray(pairs).reshape(-1, 2)
    reverse = pairs[pairs[:, 0] != pairs[:, 1], ::-1]
    return np.concatenate([pairs, reverse]).T


def _node_attribute(g, node, key):
    attributes = g.nodes[node]
    if key not in attributes:
        raise ValueError(f"Node {node!r} has no attribute {key!r}. Received: key={key!r}")
    return attributes[key]


# The TFRecord layout: one record per graph. The `tfrecords` package stores variable-length
# arrays along their first axis, so edges are stored as `[E, 2]` pairs.
_OPTIONAL = ("labels", "edge_weight", "train_mask", "val_mask", "test_mask")


def graphs_to_tfrecords(graphs, path: str) -> list[str]:
    """Writes graphs to TFRecords with `tfrecords.write`, one record per graph.

    Each record holds the node features (`[N, F]`, variable N), the edges (as `[E, 2]` pairs)
    and whichever of labels, edge weights, split masks, graph label and name the graphs have;
    every graph must have the same ones and the same number of features.

    Args:
        graphs: a list of `Graph`s.
        path: the shard prefix, e.g. `"data/motifs"` (`PATH-00000-of-00001.tfrecord` and
            `PATH.schema.json` are written).

    Returns:
        The shard paths.

    Example:

    ```python
    graphs_to_tfrecords(planted_motif(200), "data/motifs")
    graphs = graphs_from_tfrecords("data/motifs")
    ```
    """
    import tfrecords

    graphs = list(graphs)
    if not graphs or not all(isinstance(g, Graph) for g in graphs):
        raise ValueError(f"`graphs` must be a non-empty list of Graphs. Received: {graphs!r:.200}")
    first = graphs[0]
    present = [key for key in _OPTIONAL if getattr(first, key) is not None]
    for i, graph in enumerate(graphs):
        if graph.num_features != first.num_features:
            raise ValueError(
                f"Every graph must have {first.num_features} node features, as graphs[0] has. "
                f"Received: graphs[{i}] with num_features={graph.num_features}"
            )
        has = [key for key in _OPTIONAL if getattr(graph, key) is not None]
        if has != present or (graph.graph_label is None) != (first.graph_label is None):
            raise ValueError(
                "Every graph must have the same optional arrays (labels, edge weights, masks, "
                f"graph label) as graphs[0]. Received: graphs[{i}] with {has}, graphs[0] with "
                f"{present}"
            )
    edge_dtype = np.int32 if max(g.num_nodes for g in graphs) <= _INT32_MAX else np.int64
    with_names = any(g.name for g in graphs)

    def record(graph: Graph) -> dict:
        values = {
            "node_features": graph.node_features,
            "edges": graph.edge_index.T.astype(edge_dtype),
        }
        values.update({key: getattr(graph, key) for key in present})
        if first.graph_label is not None:
            values["graph_label"] = np.int64(graph.graph_label)
        if with_names:
            values["name"] = graph.name or ""
        return values

    schema = {
        "node_features": {"shape": [None, first.num_features]},
        "edges": {"shape": [None, 2]},
        **{key: {"shape": [None]} for key in present},
    }
    # One shard: `tfrecords.read` interleaves shards, and the graphs must come back in order.
    return tfrecords.write(
        (record(g) for g in graphs), os.fspath(path), num_shards=1, schema=schema
    )


def graphs_from_tfrecords(path: str) -> list[Graph]:
    """Reads the graphs that `graphs_to_tfrecords` (or `Graph.to_tfrecords`) wrote, in order.

    Args:
        path: the shard prefix, a shard, a glob or a directory (anything `tfrecords.read`
            takes).

    Returns:
        A list of `Graph`s.
    """
    import tfrecords

    graphs = []
    for example in tfrecords.read(os.fspath(path)):
        values = {key: value.numpy() for key, value in example.items()}
        name = values.get("name", b"").decode("utf-8") or None
        graph_label = values.get("graph_label")
        graphs.append(
            Graph(
                values["node_features"],
                values["edges"].T,
                values.get("labels"),
                edge_weight=values.get("edge_weight"),
                train_mask=values.get("train_mask"),
                val_mask=values.get("val_mask"),
                test_mask=values.get("test_mask"),
                graph_label=None if graph_label is None else int(graph_label),
                name=name,
            )
        )
    return graphs
