"""Gated graph neural network backbone (Li et al. 2016): GRU updates over typed edges."""

from __future__ import annotations

import keras

from layers.graph import GatedGraphConv
from layers.validation import check_positive_int, check_rate
from zoo.graph.inputs import graph_inputs
from zoo.models import Backbone


@keras.saving.register_keras_serializable(package="keras_zoo")
class GGNNBackbone(Backbone):
    """Gated graph neural network: one `layers.GatedGraphConv` of `num_steps` propagations.

    Node states start as the node features zero-padded to `units`; each step sums the messages
    of every node's in-neighbours (one weight per edge type) and updates the states with a GRU.

    Inputs: `{"node_features": [num_nodes, num_features], "edge_index": [2, num_edges]}`, plus
    `"edge_type"` `[num_edges]` when `num_edge_types > 1`; outputs
    `{"node_embeddings": [num_nodes, units]}`.

    Args:
        num_features: width of the input node features, at most `units`. Defaults to `1`.
        units: width of the node states. Defaults to `32`.
        num_steps: propagation steps. Defaults to `4`.
        num_edge_types: number of edge types, each with its own message weights. Defaults
            to `1`.
        dropout: dropout rate on the node features. Defaults to `0.0`.
        **kwargs: base `keras.Model` arguments (`name`, `dtype`).

    Example:

    ```python
    inputs, labels = batch_graphs(cycles_vs_trees(8))
    backbone = GGNNBackbone(num_features=inputs["node_features"].shape[1], units=16)
    states = backbone({k: inputs[k] for k in ("node_features", "edge_index")})
    ```

    Reference: Li et al., "Gated Graph Sequence Neural Networks", ICLR 2016.
    """

    def __init__(
        self,
        num_features: int = 1,
        units: int = 32,
        num_steps: int = 4,
        num_edge_types: int = 1,
        dropout: float = 0.0,
        **kwargs,
    ):
        check_positive_int("units", units)
        check_positive_int("num_steps", num_steps)
        check_positive_int("num_edge_types", num_edge_types)
        check_rate("dropout", dropout)
        if num_features > units:
            raise ValueError(
                f"`units` must be at least `num_features` ({num_features}): the node states "
                f"start as the zero-padded features. Received: units={units}"
            )
        dtype = self.dtype_policy_from(kwargs)
        inputs = graph_inputs(num_features)
        edge_type = None
        if num_edge_types > 1:
            edge_type = keras.Input(shape=(), dtype="int32", name="edge_type")
            inputs["edge_type"] = edge_type
        x = inputs["node_features"]
        if dropout:
            x = keras.layers.Dropout(dropout, dtype=dtype, name="dropout")(x)
        conv = GatedGraphConv(
            units, num_steps=num_steps, num_edge_types=num_edge_types, dtype=dtype, name="conv"
        )
        x = conv(x, inputs["edge_index"], edge_type=edge_type)
        super().__init__(inputs=inputs, outputs={"node_embeddings": x}, dtype=dtype, **kwargs)
