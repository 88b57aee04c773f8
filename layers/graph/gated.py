"""Gated graph convolution (Li et al. 2016), as PyTorch Geometric's `GatedGraphConv`."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from layers.graph.message_passing import (
    REDUCTIONS,
    GraphLayer,
    check_edge_values,
    check_graph_inputs,
    is_concrete,
    node_features_shape,
    num_nodes_of,
    propagate,
    unpack_inputs,
)
from layers.validation import check_bool, check_choice, check_positive_int


@keras.saving.register_keras_serializable(package="keras_zoo")
class GatedGraphConv(GraphLayer):
    """Gated graph neural network: `num_steps` rounds of message passing with a GRU update.

    The node features are zero-padded on the right to `units` features (`h_0`); then for each
    step `t`:

    ```
    m_i = sum over edges j -> i of w_ji * (h_j W[t, type_ji])
    h_i = GRUCell(input=m_i, state=h_i)
    ```

    with `W` the `kernel` `[num_steps, num_edge_types, units, units]` (`h @ W`, one matrix per
    step and edge type; PyG's `weight[t]` is `kernel[t, 0]`), `w_ji` the optional edge weight
    and the sum replaced by a mean or maximum with `aggregator`. The GRU is PyTorch's
    `GRUCell` (PyG uses it), gates in torch's order `(r, z, n)` and the reset gate applied
    after the recurrent matmul (keras's `reset_after=True`):

    ```
    r = sigmoid(m W_ir + b_ir + h W_hr + b_hr)
    z = sigmoid(m W_iz + b_iz + h W_hz + b_hz)
    n = tanh(m W_in + b_in + r * (h W_hn + b_hn))
    h = (1 - z) * n + z * h
    ```

    `gru_kernel` `[units, 3 * units]` holds `W_i(r|z|n)` (torch's `weight_ih` transposed),
    `gru_recurrent_kernel` `W_h(r|z|n)` (`weight_hh` transposed), `gru_bias` and
    `gru_recurrent_bias` `b_i` and `b_h` (`bias_ih`, `bias_hh`).

    Args:
        units: positive integer, the state size and output features; at least the number of
            input features.
        num_steps: positive integer, the propagation steps. Defaults to `3`.
        num_edge_types: positive integer; above 1, every call needs `edge_type`. Defaults to
            `1`.
        aggregator: `"sum"`, `"mean"` or `"max"` over the incoming messages. Defaults to
            `"sum"`.
        use_bias: whether the GRU has biases. Defaults to `True`.
        kernel_initializer: initializer of `kernel` and `gru_kernel`. Defaults to
            `"glorot_uniform"`.
        recurrent_initializer: initializer of `gru_recurrent_kernel`. Defaults to
            `"orthogonal"`.
        bias_initializer: initializer of the GRU biases. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the three kernels. Defaults to `None`.
        bias_regularizer: optional regularizer of the GRU biases. Defaults to `None`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        node_features: float `[num_nodes, features]`, `features <= units`.
        edge_index: integer `[2, num_edges]`, row 0 the sources, row 1 the targets. Checked
            against `num_nodes` when its values are known (eager calls).
        edge_type: integer `[num_edges]` in `[0, num_edge_types)`; required exactly when
            `num_edge_types > 1` (checked when its values are known).
        edge_weight: optional float `[num_edges]`, multiplies the messages.

        The inputs may also come as one list `[node_features, edge_index, edge_type,
        edge_weight]` (trailing ones optional).

    Output:
        `[num_nodes, units]` in the layer's compute dtype. Compiles with XLA.

    Example:

    ```python
    x = np.random.rand(5, 8).astype("float32")
    edge_index = np.array([[0, 1, 2, 3], [1, 2, 3, 4]])
    y = GatedGraphConv(16, num_steps=4)(x, edge_index)  # (5, 16)
    typed = GatedGraphConv(16, num_edge_types=2)
    y = typed(x, edge_index, edge_type=np.array([0, 1, 1, 0]))
    ```

    Reference:
        Li, Tarlow, Brockschmidt & Zemel, "Gated Graph Sequence Neural Networks", ICLR 2016,
        arXiv:1511.05493.
    """

    def __init__(
        self,
        units: int,
        num_steps: int = 3,
        num_edge_types: int = 1,
        aggregator: str = "sum",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.num_steps = check_positive_int("num_steps", num_steps)
        self.num_edge_types = check_positive_int("num_edge_types", num_edge_types)
        self.aggregator = check_choice("aggregator", aggregator, REDUCTIONS)
        self.use_bias = check_bool("use_bias", use_bias)
        self._set_keras_objects(
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
        )

    def _check_features(self, features):
        if features is not None and features > self.units:
            raise ValueError(
                f"`units` must be at least the number of input features ({features}): the "
                f"features are zero-padded to `units`, never cut. Received: units={self.units} "
                f"for node_features with {features} features"
            )

    def build(self, input_shape):
        self._check_features(node_features_shape(input_shape)[-1])
        units = self.units
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.num_steps, self.num_edge_types, units, units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.gru_kernel = self.add_weight(
            name="gru_kernel",
            shape=(units, 3 * units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.gru_recurrent_kernel = self.add_weight(
            name="gru_recurrent_kernel",
            shape=(units, 3 * units),
            initializer=self.recurrent_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.gru_bias = self.gru_recurrent_bias = None
        if self.use_bias:
            self.gru_bias, self.gru_recurrent_bias = (
                self.add_weight(
                    name=name,
                    shape=(3 * units,),
                    initializer=self.bias_initializer,
                    regularizer=self.bias_regularizer,
                )
                for name in ("gru_bias", "gru_recurrent_bias")
            )

    def _checked_inputs(self, node_features, edge_index=None, edge_type=None, edge_weight=None):
        others = {"edge_index": edge_index, "edge_type": edge_type, "edge_weight": edge_weight}
        x, edge_index, edge_type, edge_weight = unpack_inputs(
            "GatedGraphConv", node_features, others
        )
        check_graph_inputs(x, edge_index)
        self._check_features(tuple(x.shape)[-1])
        if self.num_edge_types > 1:
            if edge_type is None:
                raise ValueError(
                    f"`edge_type` ([num_edges] integers in [0, {self.num_edge_types})) is "
                    f"required with num_edge_types={self.num_edge_types}. Received: "
                    "edge_type=None"
                )
            check_edge_values(edge_type, edge_index, "edge_type", floating=False)
            if is_concrete(edge_type):
                values = np.asarray(edge_type)
                bad = (values < 0) | (values >= self.num_edge_types)
                if bad.any():
                    position = int(np.flatnonzero(bad)[0])
                    raise ValueError(
                        f"`edge_type` must be in [0, num_edge_types={self.num_edge_types}); "
                        f"edge {position} has type {int(values[position])}. Received: "
                        f"edge_type with value {int(values[position])}"
                    )
        elif edge_type is not None:
            raise ValueError(
                "`edge_type` is only used with num_edge_types > 1. Received: an edge_type "
                f"with num_edge_types={self.num_edge_types}"
            )
        if edge_weight is not None:
            check_edge_values(edge_weight, edge_index, "edge_weight", floating=True)
        return x, edge_index, edge_type, edge_weight

    def call(self, node_features, edge_index=None, edge_type=None, edge_weight=None):
        x, edge_index, edge_type, edge_weight = self._checked_inputs(
            node_features, edge_index, edge_type, edge_weight
        )
        num_nodes = num_nodes_of(x)
        edge_index = tf.cast(edge_index, "int32")
        units, types = self.units, self.num_edge_types
        h = ops.pad(x, [[0, 0], [0, units - x.shape[-1]]])
        if types > 1:
            # Row source * types + type of the [N * types, units] transformed features.
            rows = edge_index[0] * types + tf.cast(edge_type, "int32")
        for step in range(self.num_steps):
            if types == 1:
                transformed = ops.matmul(h, self.kernel[step, 0])
                m = propagate(transformed, edge_index, num_nodes, edge_weight, self.aggregator)
            else:
                transformed = ops.reshape(
                    ops.einsum("nf,tfg->ntg", h, self.kernel[step]), (-1, units)
                )
                typed_edges = tf.stack([rows, edge_index[1]])
                m = propagate(transformed, typed_edges, num_nodes, edge_weight, self.aggregator)
            h = self._gru(m, h)
        return h

    def _gru(self, m, h):
        gates_input = ops.matmul(m, self.gru_kernel)
        gates_hidden = ops.matmul(h, self.gru_recurrent_kernel)
        if self.gru_bias is not None:
            gates_input = gates_input + self.gru_bias
            gates_hidden = gates_hidden + self.gru_recurrent_bias
        input_r, input_z, input_n = ops.split(gates_input, 3, axis=-1)
        hidden_r, hidden_z, hidden_n = ops.split(gates_hidden, 3, axis=-1)
        reset = ops.sigmoid(input_r + hidden_r)
        update = ops.sigmoid(input_z + hidden_z)
        candidate = ops.tanh(input_n + reset * hidden_n)
        return (1.0 - update) * candidate + update * h

    def compute_output_shape(self, input_shape):
        return (node_features_shape(input_shape)[0], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "num_steps": self.num_steps,
            "num_edge_types": self.num_edge_types,
            "aggregator": self.aggregator,
            "use_bias": self.use_bias,
            **self._config_args,
        }
