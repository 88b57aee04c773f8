"""GAT backbone (Velickovic et al. 2018; GATv2, Brody et al. 2022): multi-head graph attention."""

from __future__ import annotations

import keras

from layers.graph import GATConv
from layers.validation import check_bool, check_positive_int, check_rate
from zoo.graph.inputs import graph_inputs
from zoo.graph.stack import check_stack_arguments, stack_graph_layers
from zoo.models import Backbone


@keras.saving.register_keras_serializable(package="keras_zoo")
class GATBackbone(Backbone):
    """Graph attention network: `num_layers` `layers.GATConv` with dropout and ELU.

    Hidden layers concatenate their `heads` heads (`heads * hidden_units` features); with
    `output_units`, the last layer is the classifier's and averages `output_heads` heads, as in
    the paper's transductive model (8 heads of 8 units, then 1 output head; dropout 0.6 on the
    inputs of both layers and on the attention coefficients).

    Inputs: `{"node_features": [num_nodes, num_features], "edge_index": [2, num_edges]}`;
    outputs `{"node_embeddings": [num_nodes, units]}`.

    Args:
        num_features: width of the input node features. Defaults to `1433` (Cora's).
        hidden_units: units per head of the hidden layers. Defaults to `8`.
        heads: attention heads of the hidden layers (concatenated). Defaults to `8`.
        num_layers: number of attention layers. Defaults to `2`.
        output_units: width of the last layer, which then averages `output_heads` heads and
            has no activation; `None` makes every layer hidden. Defaults to `None`.
        output_heads: attention heads of the output layer. Defaults to `1`.
        dropout: dropout rate on the input of every layer. Defaults to `0.6`.
        attention_dropout: dropout rate on the attention coefficients. Defaults to `0.6`.
        activation: activation after every hidden layer. Defaults to `"elu"`.
        v2: GATv2's attention (`a . LeakyReLU(W_l x_j + W_r x_i)`). Defaults to `False`.
        **kwargs: base `keras.Model` arguments (`name`, `dtype`).

    Example:

    ```python
    backbone = GATBackbone(num_features=34, hidden_units=8, heads=4)
    features = backbone(karate_club().inputs())["node_embeddings"]  # (34, 32)
    ```

    Reference: Velickovic et al., "Graph Attention Networks", ICLR 2018; Brody et al., "How
    Attentive are Graph Attention Networks?", ICLR 2022.
    """

    def __init__(
        self,
        num_features: int = 1433,
        hidden_units: int = 8,
        heads: int = 8,
        num_layers: int = 2,
        output_units: int | None = None,
        output_heads: int = 1,
        dropout: float = 0.6,
        attention_dropout: float = 0.6,
        activation: str = "elu",
        v2: bool = False,
        **kwargs,
    ):
        check_stack_arguments(num_layers, hidden_units, output_units, dropout)
        check_positive_int("heads", heads)
        check_positive_int("output_heads", output_heads)
        check_rate("attention_dropout", attention_dropout)
        check_bool("v2", v2)
        dtype = self.dtype_policy_from(kwargs)
        inputs = graph_inputs(num_features)

        def make_layer(units, is_output, name):
            return GATConv(
                units,
                heads=output_heads if is_output else heads,
                concat=not is_output,
                dropout=attention_dropout,
                v2=v2,
                dtype=dtype,
                name=name,
            )

        outputs = stack_graph_layers(
            inputs["node_features"],
            make_layer,
            lambda layer, x: layer(x, inputs["edge_index"]),
            num_layers=num_layers,
            hidden_units=hidden_units,
            output_units=output_units,
            dropout=dropout,
            activation=activation,
            dtype=dtype,
        )
        super().__init__(inputs=inputs, outputs={"node_embeddings": outputs}, dtype=dtype, **kwargs)
