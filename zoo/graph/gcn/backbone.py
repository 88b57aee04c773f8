"""GCN backbone (Kipf & Welling 2017): graph convolutions over one normalised adjacency."""

from __future__ import annotations

import keras

from layers.graph import GCNConv
from layers.validation import check_bool
from zoo.graph.gcn.blocks import GCNNormalization
from zoo.graph.inputs import graph_inputs
from zoo.graph.stack import check_stack_arguments, stack_graph_layers
from zoo.models import Backbone


@keras.saving.register_keras_serializable(package="keras_zoo")
class GCNBackbone(Backbone):
    """Graph convolutional network: `num_layers` `layers.GCNConv` with dropout and ReLU.

    Every layer propagates over the same `D^-1/2 (A + I) D^-1/2`, computed once per step
    (`GCNNormalization`). With `output_units`, the last layer is the classifier's
    (`output_units` wide, no activation): the paper's two-layer model is `num_layers=2,
    output_units=num_classes`, which `NodeClassifier` sets.

    Inputs: `{"node_features": [num_nodes, num_features], "edge_index": [2, num_edges]}`
    (`zoo.graph.graph_inputs`), plus `"edge_weight"` with `edge_weights`; outputs
    `{"node_embeddings": [num_nodes, units]}`.

    Args:
        num_features: width of the input node features. Defaults to `1433` (Cora's).
        hidden_units: width of the hidden layers. Defaults to `16`.
        num_layers: number of graph convolutions. Defaults to `2`.
        output_units: width of the last layer, which then has no activation; `None` makes
            every layer hidden. Defaults to `None`.
        dropout: dropout rate on the input of every layer. Defaults to `0.5`.
        activation: activation after every hidden layer. Defaults to `"relu"`.
        improved: self-loops of weight 2 (`A + 2I`). Defaults to `False`.
        edge_weights: take an `"edge_weight"` input `[num_edges]`, the weighted adjacency
            (`Graph(..., edge_weight=...)` provides it). Defaults to `False`.
        **kwargs: base `keras.Model` arguments (`name`, `dtype`).

    Example:

    ```python
    backbone = GCNBackbone(num_features=34, hidden_units=16)
    features = backbone(karate_club().inputs())["node_embeddings"]  # (34, 16)
    ```

    Reference: Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional
    Networks", ICLR 2017.
    """

    def __init__(
        self,
        num_features: int = 1433,
        hidden_units: int = 16,
        num_layers: int = 2,
        output_units: int | None = None,
        dropout: float = 0.5,
        activation: str = "relu",
        improved: bool = False,
        edge_weights: bool = False,
        **kwargs,
    ):
        check_stack_arguments(num_layers, hidden_units, output_units, dropout)
        check_bool("improved", improved)
        check_bool("edge_weights", edge_weights)
        dtype = self.dtype_policy_from(kwargs)
        inputs = graph_inputs(num_features)
        if edge_weights:
            inputs["edge_weight"] = keras.Input(shape=(), name="edge_weight")
        edge_index, edge_weight = GCNNormalization(
            improved=improved, dtype=dtype, name="normalization"
        )(inputs["node_features"], inputs["edge_index"], inputs.get("edge_weight"))

        def make_layer(units, is_output, name):
            return GCNConv(units, normalize=False, add_self_loops=False, dtype=dtype, name=name)

        outputs = stack_graph_layers(
            inputs["node_features"],
            make_layer,
            lambda layer, x: layer(x, edge_index, edge_weight=edge_weight),
            num_layers=num_layers,
            hidden_units=hidden_units,
            output_units=output_units,
            dropout=dropout,
            activation=activation,
            dtype=dtype,
        )
        super().__init__(inputs=inputs, outputs={"node_embeddings": outputs}, dtype=dtype, **kwargs)
