"""The layer stack that the message-passing backbones share."""

from __future__ import annotations

from collections.abc import Callable

import keras

from layers.validation import check_positive_int, check_rate


def check_stack_arguments(
    num_layers: int, hidden_units: int, output_units: int | None, dropout: float
) -> None:
    """The argument checks of `stack_graph_layers`, for a backbone to run first."""
    check_positive_int("num_layers", num_layers)
    check_positive_int("hidden_units", hidden_units)
    check_positive_int("output_units", output_units, allow_none=True)
    check_rate("dropout", dropout)


def stack_graph_layers(
    node_features,
    make_layer: Callable[[int, bool, str], keras.layers.Layer],
    call_layer: Callable[[keras.layers.Layer, object], object],
    *,
    num_layers: int,
    hidden_units: int,
    output_units: int | None,
    dropout: float,
    activation: str,
    dtype,
):
    """`num_layers` message-passing layers, each after dropout and before the activation.

    The last layer has `output_units` units and no activation when `output_units` is set (a
    node classifier's logits layer, as in the GCN and GAT papers); otherwise every layer has
    `hidden_units` units and the activation.

    Args:
        node_features: the symbolic `[num_nodes, F]` input.
        make_layer: `(units, is_output, name) -> layer`, the family's layer.
        call_layer: `(layer, x) -> y`, calls it with the graph's edges.
        num_layers, hidden_units, output_units, dropout, activation: the stack's shape.
        dtype: the dtype policy of every layer.

    Returns:
        The symbolic `[num_nodes, units]` output of the last layer.
    """
    x = node_features
    for i in range(num_layers):
        is_output = output_units is not None and i == num_layers - 1
        units = output_units if is_output else hidden_units
        if dropout:
            x = keras.layers.Dropout(dropout, dtype=dtype, name=f"dropout_{i}")(x)
        x = call_layer(make_layer(units, is_output, f"conv_{i}"), x)
        if not is_output:
            x = keras.layers.Activation(activation, dtype=dtype, name=f"activation_{i}")(x)
    return x
