"""Training data of graph models for `zoo train` and `zoo tune`: built-in graphs or files.

A module beside the trainer, not part of the `zoo.graph` family: `zoo/train.py` and
`zoo/tuning.py` import no model family.
"""

from __future__ import annotations

import dataclasses
import glob
import os

import keras
import tensorflow as tf

from zoo import registry
from zoo.graph.datasets import (
    citation_benchmark,
    cycles_vs_trees,
    graph_batches,
    karate_club,
    planted_motif,
)
from zoo.graph.graph import Graph, graphs_from_tfrecords
from zoo.graph.planetoid import load_planetoid
from zoo.graph.sampler import NeighborSampler, check_fanouts

NODE_TASK = "node_classifier"
GRAPH_TASK = "graph_classifier"
NODE_DATASETS = {"citation_benchmark": citation_benchmark, "karate_club": karate_club}
GRAPH_DATASETS = {"cycles_vs_trees": cycles_vs_trees, "planted_motif": planted_motif}
VALIDATION_FRACTION = 0.2  # of the graphs of a graph-classification set without validation data


def is_graph_model(name: str) -> bool:
    """Whether the registered model `name` trains on graphs (node or graph classification)."""
    return registry.get_spec(name).task in (NODE_TASK, GRAPH_TASK)


@dataclasses.dataclass
class GraphData:
    """What a graph model trains on: one graph with split masks, or sets of graphs.

    Attributes:
        graph: the graph of a node-classification model (masks `train`, `val`).
        train_graphs, validation_graphs: the labelled graphs of a graph-classification model.
        num_features, num_classes: what the model must be built with.
    """

    num_features: int
    num_classes: int
    graph: Graph | None = None
    train_graphs: list[Graph] | None = None
    validation_graphs: list[Graph] | None = None

    def model_arguments(self) -> dict:
        return {"num_features": self.num_features, "num_classes": self.num_classes}


def _planetoid_name(directory: str) -> str | None:
    found = sorted(glob.glob(os.path.join(directory, "ind.*.x")))
    return os.path.basename(found[0])[len("ind.") : -len(".x")] if found else None


def load_graph_data(model: str, data=None, validation_data=None, seed: int = 0) -> GraphData:
    """Loads the data `zoo train MODEL --data DATA` trains a graph model on.

    Args:
        model: a registered graph model (`task` `"node_classifier"` or `"graph_classifier"`).
        data: for node classification, `None` (the generated citation benchmark), a built-in
            name (`"citation_benchmark"`, `"karate_club"`), a directory of Planetoid files
            (`ind.cora.x`, ...: Cora, CiteSeer, PubMed with their standard split) or the
            TFRecords of `Graph.to_tfrecords`. For graph classification, `None`
            (`"cycles_vs_trees"`), `"cycles_vs_trees"`, `"planted_motif"` or the TFRecords of
            `graphs_to_tfrecords`; 20% of the graphs validate when `validation_data` is unset.
        validation_data: TFRecords of validation graphs (graph classification only; a node
            graph carries its `val` mask).
        seed: seed of the generated datasets.

    Example:

    ```python
    data = load_graph_data("gcn_node", "karate_club")
    model = zoo.create("gcn_node", **data.model_arguments())
    ```
    """
    task = registry.get_spec(model).task
    if task == NODE_TASK:
        if validation_data is not None:
            raise ValueError(
                "A node-classification graph validates on its own `val` mask; leave "
                f"`validation_data` unset. Received: validation_data={validation_data!r}"
            )
        graph = _load_node_graph(data, seed)
        if graph.labels is None or graph.mask("train").sum() == 0:
            raise ValueError(
                f"The graph of `data` needs labels and a non-empty train mask. Received: "
                f"data={data!r} ({graph!r})"
            )
        return GraphData(graph.num_features, graph.num_classes, graph=graph)
    if task != GRAPH_TASK:
        raise ValueError(f"{model!r} is not a graph model. Received: model={model!r}")
    train, validation = _load_graph_sets(data, validation_data, seed)
    labels = [g.graph_label for g in train + validation]
    return GraphData(
        train[0].num_features,
        int(max(labels)) + 1,
        train_graphs=train,
        validation_graphs=validation,
    )


def _load_node_graph(data, seed: int) -> Graph:
    if data is None:
        return citation_benchmark(seed=seed)
    if isinstance(data, str) and data in NODE_DATASETS:
        return citation_benchmark(seed=seed) if data == "citation_benchmark" else karate_club()
    if isinstance(data, str) and os.path.isdir(data) and _planetoid_name(data):
        return load_planetoid(data, _planetoid_name(data))
    return Graph.from_tfrecords(data)


def _load_graph_sets(data, validation_data, seed: int) -> tuple[list[Graph], list[Graph]]:
    if data is None or (isinstance(data, str) and data in GRAPH_DATASETS):
        graphs = GRAPH_DATASETS[data or "cycles_vs_trees"](seed=seed)
    else:
        graphs = graphs_from_tfrecords(data)
    if validation_data is not None:
        return graphs, graphs_from_tfrecords(validation_data)
    split = len(graphs) - max(1, round(VALIDATION_FRACTION * len(graphs)))
    if split < 1:
        raise ValueError(
            f"`data` holds {len(graphs)} graph(s): too few to keep {VALIDATION_FRACTION:.0%} "
            f"for validation; pass `validation_data`. Received: data={data!r}"
        )
    return graphs[:split], graphs[split:]


def graph_datasets(
    data: GraphData,
    model: keras.Model,
    *,
    batch_size: int,
    fanouts=None,
    shuffle: bool = True,
    seed: int = 0,
) -> tuple[tf.data.Dataset, tf.data.Dataset | None]:
    """Training and validation pipelines of one graph per element for `model`.

    Node classification trains full-batch (one step per epoch, the train mask as
    `sample_weight`; edge weights only reach a model with an `edge_weight` input, such as
    `GCNBackbone(edge_weights=True)`) or, with `fanouts`, on `NeighborSampler` subgraphs of
    `batch_size` seed nodes (one fanout per graph layer of the backbone); it validates
    full-batch on the `val` mask. Graph classification takes disjoint batches of `batch_size`
    graphs.

    Args:
        data: what `load_graph_data` returned.
        model: the model built with `data.model_arguments()`.
        batch_size: seed nodes per sampled subgraph, or graphs per batch.
        fanouts: neighbours sampled per layer, for sampled node classification; `None` trains
            full-batch. Defaults to `None`.
        shuffle: reshuffle seeds (or graphs) every epoch. Defaults to `True`.
        seed: seed of the sampler and the shuffling. Defaults to `0`.

    Example:

    ```python
    train_data, validation = graph_datasets(data, model, batch_size=512, fanouts=[25, 10])
    model.fit(train_data, validation_data=validation, epochs=10)
    ```
    """
    if data.graph is None:
        if fanouts is not None:
            raise ValueError(
                "`fanouts` samples the neighbourhoods of nodes for node classification; a "
                f"graph classifier trains on whole graphs. Received: fanouts={fanouts!r}"
            )
        train = graph_batches(data.train_graphs, batch_size, shuffle=shuffle, seed=seed)
        validation = graph_batches(data.validation_graphs, batch_size, shuffle=False)
        return train, validation
    graph = data.graph
    if fanouts is None:
        train = graph.full_batch_dataset("train")
    else:
        check_fanouts(fanouts, model.backbone.num_layers)
        sampler = NeighborSampler(
            graph, fanouts, batch_size, seeds="train", shuffle=shuffle, seed=seed
        )
        train = sampler.dataset()
    has_validation = graph.val_mask is not None and graph.val_mask.any()
    validation = graph.full_batch_dataset("val") if has_validation else None
    return model_inputs_only(train, model), model_inputs_only(validation, model)


def model_inputs_only(dataset: tf.data.Dataset | None, model: keras.Model):
    """`dataset` with the graph inputs that `model` does not take left out (the edge weights
    of a weighted graph, for a model without an `edge_weight` input)."""
    if dataset is None:
        return None
    names = set(model.input)
    if set(dataset.element_spec[0]) <= names:
        return dataset
    return dataset.map(lambda inputs, *rest: ({k: inputs[k] for k in names}, *rest))
