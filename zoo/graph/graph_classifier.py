"""Graph classification: one class per graph of a disjoint batch, from a readout."""

from __future__ import annotations

import keras
import tensorflow as tf

from layers.graph import AttentionGraphPooling, GraphPooling
from layers.validation import check_choice, check_positive_int, check_rate
from zoo.graph.backbones import check_graph_backbone, copy_inputs
from zoo.models import Task, classification_head

POOLINGS = ("attention", "sum", "mean", "max")


@keras.saving.register_keras_serializable(package="keras_zoo")
class GraphReadout(keras.layers.Layer):
    """Pools node states into one vector per graph of a disjoint batch.

    The number of graphs is the length of `graph_sizes`, a shape that XLA knows when it
    compiles (never read from the values of `graph_ids`).

    Args:
        pooling: `"attention"` (`layers.AttentionGraphPooling`), `"sum"`, `"mean"` or `"max"`
            (`layers.GraphPooling`). Defaults to `"attention"`.
        **kwargs: base `keras.layers.Layer` arguments.

    Example:

    ```python
    pooled = GraphReadout("sum")(node_states, graph_ids, graph_sizes)  # [num_graphs, F]
    ```
    """

    def __init__(self, pooling: str = "attention", **kwargs):
        super().__init__(**kwargs)
        self.pooling = check_choice("pooling", pooling, POOLINGS)
        if pooling == "attention":
            self.pool = AttentionGraphPooling(dtype=self.dtype_policy, name="pool")
        else:
            self.pool = GraphPooling(pooling, dtype=self.dtype_policy, name="pool")

    def build(self, node_states_shape, graph_ids_shape=None, graph_sizes_shape=None):
        self.pool.build(node_states_shape)

    def call(self, node_states, graph_ids, graph_sizes):
        return self.pool(node_states, graph_ids, tf.shape(graph_sizes)[0])

    def compute_output_shape(self, node_states_shape, graph_ids_shape, graph_sizes_shape):
        return (graph_sizes_shape[0], node_states_shape[-1])

    def get_config(self):
        return {**super().get_config(), "pooling": self.pooling}


@keras.saving.register_keras_serializable(package="keras_zoo")
class GraphClassifier(Task):
    """Classifies each graph of a disjoint batch: backbone, readout, dense head.

    Inputs are the backbone's plus `graph_ids` `[num_nodes]` and `graph_sizes` `[num_graphs]`
    (`zoo.graph.batch_graphs`, `zoo.graph.graph_batches`); the output is `[num_graphs,
    num_classes]` logits.

    Args:
        backbone: a graph backbone (`GGNNBackbone`, `GCNBackbone`, `GATBackbone`,
            `SAGEBackbone`) without `output_units`.
        num_classes: number of graph classes. Defaults to `2`.
        pooling: the readout, `"attention"` (Li et al. 2016's soft attention), `"sum"`,
            `"mean"` or `"max"`. Defaults to `"attention"`.
        dropout: dropout rate before the dense head. Defaults to `0.0`.
        **kwargs: base `keras.Model` arguments (`name`, `dtype`).

    Example:

    ```python
    graphs = zoo.graph.cycles_vs_trees(200)
    model = zoo.create("ggnn_graph", num_features=graphs[0].num_features)
    model.fit(zoo.graph.graph_batches(graphs, batch_size=32), epochs=20)
    ```

    Reference: Li et al., "Gated Graph Sequence Neural Networks", ICLR 2016 (graph-level
    outputs through a soft-attention readout).
    """

    whole_batch_inputs = True  # one disjoint batch of graphs per step

    def __init__(
        self,
        backbone,
        num_classes: int = 2,
        pooling: str = "attention",
        dropout: float = 0.0,
        **kwargs,
    ):
        check_graph_backbone(backbone)
        if getattr(backbone, "output_units", None) is not None:
            raise ValueError(
                "The readout pools the backbone's node states: leave its `output_units` "
                f"unset. Received: output_units={backbone.output_units!r}"
            )
        check_positive_int("num_classes", num_classes)
        check_choice("pooling", pooling, POOLINGS)
        check_rate("dropout", dropout)
        dtype = self.dtype_policy_from(kwargs)
        inputs = copy_inputs(backbone)
        inputs["graph_ids"] = keras.Input(shape=(), dtype="int32", name="graph_ids")
        inputs["graph_sizes"] = keras.Input(shape=(), dtype="int32", name="graph_sizes")
        states = backbone({name: inputs[name] for name in backbone.input})["node_embeddings"]
        pooled = GraphReadout(pooling, dtype=dtype, name="readout")(
            states, inputs["graph_ids"], inputs["graph_sizes"]
        )
        logits = classification_head(pooled, num_classes, dropout=dropout, dtype=dtype)
        super().__init__(inputs=inputs, outputs=logits, backbone=backbone, dtype=dtype, **kwargs)
