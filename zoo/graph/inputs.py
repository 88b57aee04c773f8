"""The inputs every graph model takes: one graph (or one disjoint batch of graphs) per step."""

from __future__ import annotations

import keras
import numpy as np

from layers.validation import check_positive_int


def graph_inputs(num_features: int, *, graph_batch: bool = False) -> dict:
    """Symbolic inputs of a graph model.

    `node_features` is `[num_nodes, num_features]` and `edge_index` `[2, num_edges]` (row 0
    the source, row 1 the target). Their first axes differ, so a step takes a whole graph: `fit`
    and `predict` take a `tf.data` pipeline whose elements are graphs (`Graph.full_batch_dataset`,
    `NeighborSampler.dataset`, `graph_batches`), never arrays split along a batch axis. With
    `graph_batch`, the graph is a disjoint union of graphs: `graph_ids` `[num_nodes]` (sorted,
    `0..G-1`) and `graph_sizes` `[G]` (nodes per graph) say which node is whose.

    Args:
        num_features: width of the node features.
        graph_batch: add the inputs of a batch of graphs. Defaults to `False`.

    Example:

    ```python
    inputs = graph_inputs(1433)
    inputs["edge_index"].shape  # (2, None)
    ```
    """
    check_positive_int("num_features", num_features)
    inputs = {
        "node_features": keras.Input(shape=(num_features,), name="node_features"),
        "edge_index": keras.Input(batch_shape=(2, None), dtype="int32", name="edge_index"),
    }
    if graph_batch:
        inputs["graph_ids"] = keras.Input(shape=(), dtype="int32", name="graph_ids")
        inputs["graph_sizes"] = keras.Input(shape=(), dtype="int32", name="graph_sizes")
    return inputs


def example_inputs(model: keras.Model, batch_size: int) -> dict:
    """A small random graph for `model`'s inputs, with the cases message passing must handle.

    `batch_size + 2` nodes on a ring, plus a duplicate edge, a self-loop, one edge in one
    direction only and an isolated last node; for a graph batch, two graphs. It is what the
    registry's `example_inputs` gives the shared model checks.

    Args:
        model: a graph model (`NodeClassifier`, `GraphClassifier`, a graph backbone).
        batch_size: sets the size of the graph.

    Example:

    ```python
    model = zoo.create("gcn_node", num_features=4, num_classes=3)
    logits = model(example_inputs(model, 4))  # (6, 3)
    ```
    """
    rng = np.random.default_rng(0)
    num_nodes = batch_size + 2
    ring = np.arange(num_nodes - 1)
    sources = np.concatenate([ring, (ring + 1) % (num_nodes - 1), [0, 1, 2]])
    targets = np.concatenate([(ring + 1) % (num_nodes - 1), ring, [1, 1, 0]])
    num_features = model.input["node_features"].shape[-1]
    inputs = {
        "node_features": rng.normal(size=(num_nodes, num_features)).astype("float32"),
        "edge_index": np.stack([sources, targets]).astype("int32"),
    }
    if "edge_type" in model.input:
        num_types = model.backbone.num_edge_types
        inputs["edge_type"] = (np.arange(len(sources)) % num_types).astype("int32")
    if "graph_ids" in model.input:
        first = num_nodes // 2
        inputs["graph_ids"] = (np.arange(num_nodes) >= first).astype("int32")
        inputs["graph_sizes"] = np.array([first, num_nodes - first], "int32")
    return inputs
