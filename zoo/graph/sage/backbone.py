"""GraphSAGE backbone (Hamilton et al. 2017): sample-and-aggregate layers."""

from __future__ import annotations

import keras

from layers.graph import SAGEConv
from layers.validation import check_bool
from zoo.graph.inputs import graph_inputs
from zoo.graph.stack import check_stack_arguments, stack_graph_layers
from zoo.models import Backbone


@keras.saving.register_keras_serializable(package="keras_zoo")
class SAGEBackbone(Backbone):
    """GraphSAGE: `num_layers` `layers.SAGEConv` with dropout and ReLU.

    Each layer combines a node's own features (the root weight) with an aggregate of its
    in-neighbours' ("mean", "max_pool" or "lstm"). It trains full-batch or on the subgraphs of
    `zoo.graph.NeighborSampler`, whose `fanouts` has one entry per layer.

    Inputs: `{"node_features": [num_nodes, num_features], "edge_index": [2, num_edges]}`;
    outputs `{"node_embeddings": [num_nodes, units]}`.

    Args:
        num_features: width of the input node features. Defaults to `1433` (Cora's).
        hidden_units: width of the hidden layers. Defaults to `64`.
        num_layers: number of layers (the sampler's hops). Defaults to `2`.
        output_units: width of the last layer, which then has no activation; `None` makes
            every layer hidden. Defaults to `None`.
        aggregator: `"mean"`, `"max_pool"` or `"lstm"` (see `layers.SAGEConv`). Defaults to
            `"mean"`.
        normalize: L2-normalise the output rows of the hidden layers, as the paper does.
            Defaults to `False`.
        dropout: dropout rate on the input of every layer. Defaults to `0.5`.
        activation: activation after every hidden layer. Defaults to `"relu"`.
        **kwargs: base `keras.Model` arguments (`name`, `dtype`).

    Example:

    ```python
    backbone = SAGEBackbone(num_features=34, hidden_units=32)
    features = backbone(karate_club().inputs())["node_embeddings"]  # (34, 32)
    ```

    Reference: Hamilton et al., "Inductive Representation Learning on Large Graphs",
    NeurIPS 2017.
    """

    def __init__(
        self,
        num_features: int = 1433,
        hidden_units: int = 64,
        num_layers: int = 2,
        output_units: int | None = None,
        aggregator: str = "mean",
        normalize: bool = False,
        dropout: float = 0.5,
        activation: str = "relu",
        **kwargs,
    ):
        check_stack_arguments(num_layers, hidden_units, output_units, dropout)
        check_bool("normalize", normalize)
        dtype = self.dtype_policy_from(kwargs)
        inputs = graph_inputs(num_features)

        def make_layer(units, is_output, name):
            return SAGEConv(
                units,
                aggregator=aggregator,
                normalize=normalize and not is_output,
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
