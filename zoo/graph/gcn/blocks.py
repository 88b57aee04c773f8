"""The GCN-only layer: the normalised adjacency, computed once for every layer of a model."""

from __future__ import annotations

import keras
import tensorflow as tf

from layers.graph import gcn_normalization
from layers.graph.message_passing import check_graph_inputs
from layers.validation import check_bool


@keras.saving.register_keras_serializable(package="keras_zoo")
class GCNNormalization(keras.layers.Layer):
    """Self-loops and symmetric normalisation of a graph's edges, `D^-1/2 (A + I) D^-1/2`.

    Takes optional positive `edge_weight` `[num_edges]` (the weighted adjacency `A`).

    `layers.GCNConv` normalises the edges it is given on every call; a stack of them computes
    the same normalisation once per layer. This layer computes it once, and the stack's layers
    take its output with `normalize=False, add_self_loops=False`: the normalisation cache of
    full-batch GCN training, inside the traced step.

    Args:
        improved: self-loops of weight 2 (`A + 2I`), as in PyG's `improved=True`. Defaults to
            `False`.
        **kwargs: base `keras.layers.Layer` arguments.

    Example:

    ```python
    edge_index, edge_weight = GCNNormalization()(node_features, edge_index)
    y = layers.GCNConv(16, normalize=False, add_self_loops=False)(
        node_features, edge_index, edge_weight=edge_weight
    )
    ```
    """

    def __init__(self, improved: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.improved = check_bool("improved", improved)

    def call(self, node_features, edge_index, edge_weight=None):
        check_graph_inputs(node_features, edge_index)
        num_nodes = tf.shape(node_features)[0]
        edge_index, edge_weight = gcn_normalization(
            edge_index, num_nodes, edge_weight, improved=self.improved
        )
        return edge_index, tf.cast(edge_weight, self.compute_dtype)

    def compute_output_spec(self, node_features, edge_index, edge_weight=None):
        return (
            keras.KerasTensor((2, None), dtype="int32"),
            keras.KerasTensor((None,), dtype=self.compute_dtype),
        )

    def get_config(self):
        return {**super().get_config(), "improved": self.improved}
