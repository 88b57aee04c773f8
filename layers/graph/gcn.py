"""Graph convolution of Kipf & Welling (2017), with PyTorch Geometric's `GCNConv` semantics."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from layers.graph.message_passing import (
    GraphLayer,
    check_edge_values,
    check_graph_inputs,
    gcn_normalization,
    node_features_shape,
    num_nodes_of,
    propagate,
    unpack_inputs,
)
from layers.validation import check_bool, check_positive_int


@keras.saving.register_keras_serializable(package="keras_zoo")
class GCNConv(GraphLayer):
    """Graph convolution: `out = D^-1/2 (A + I) D^-1/2 X W + b`.

    Messages flow along `edge_index` from source (row 0) to target (row 1). With `normalize`
    (the default), the edge weights are first normalised as PyTorch Geometric's `GCNConv` does
    (`gcn_normalization`): every node gets one self-loop (a node that already has one keeps it,
    with its weight; the others get weight 1, or 2 with `improved`), `deg[i]` is the weighted
    in-degree of node `i`, loops included, and edge `j -> i` weighs
    `deg[j] ** -0.5 * w * deg[i] ** -0.5` (0 where a degree is 0). Duplicate edges count
    twice. Node `i` then outputs `sum_j weight(j -> i) * (x_j W) + b`: a node with no incoming
    edge (and no self-loop) outputs `b` alone.

    Caching the normalisation (full-batch training): the normalised weights depend only on the
    graph, so a model that stacks several `GCNConv`s on one graph can compute them once with
    `layers.graph.gcn_normalization` and pass them to every layer built with
    `normalize=False, add_self_loops=False`, which then uses `edge_weight` as given:

    ```python
    edge_index, edge_weight = gcn_normalization(edge_index, num_nodes)
    h = GCNConv(16, normalize=False, add_self_loops=False, activation="relu")(
        x, edge_index, edge_weight=edge_weight
    )
    y = GCNConv(7, normalize=False, add_self_loops=False)(h, edge_index, edge_weight=edge_weight)
    ```

    No state is kept between calls.

    Args:
        units: positive integer, the output features.
        add_self_loops: add the remaining self-loops before normalising. Needs `normalize`
            (as in PyG, self-loops are part of the normalisation). Defaults to `True`.
        normalize: normalise the edge weights as above; `False` uses `edge_weight` (default 1)
            as is. Defaults to `True`.
        improved: new self-loops weigh 2 (`A + 2I`). Unlike PyG 2.8, this applies also when no
            `edge_weight` is given. Defaults to `False`.
        use_bias: add `b`. Defaults to `True`.
        activation: activation applied to the output. Defaults to `None`.
        kernel_initializer: initializer of `W`. Defaults to `"glorot_uniform"`.
        bias_initializer: initializer of `b`. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of `W`. Defaults to `None`.
        bias_regularizer: optional regularizer of `b`. Defaults to `None`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        node_features: float `[num_nodes, features]`.
        edge_index: integer `[2, num_edges]`, row 0 the sources, row 1 the targets. Checked
            against `num_nodes` when its values are known (eager calls).
        edge_weight: optional float `[num_edges]`.

        The inputs may also come as one list `[node_features, edge_index, edge_weight]`.

    Output:
        `[num_nodes, units]` in the layer's compute dtype. Compiles with XLA.

    Example:

    ```python
    x = np.random.rand(5, 8).astype("float32")
    edge_index = np.array([[0, 1, 2, 3], [1, 2, 3, 4]])
    y = GCNConv(16)(x, edge_index)  # (5, 16)
    ```

    Reference:
        Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks",
        ICLR 2017, arXiv:1609.02907.
    """

    def __init__(
        self,
        units: int,
        add_self_loops: bool = True,
        normalize: bool = True,
        improved: bool = False,
        use_bias: bool = True,
        activation=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.add_self_loops = check_bool("add_self_loops", add_self_loops)
        self.normalize = check_bool("normalize", normalize)
        self.improved = check_bool("improved", improved)
        self.use_bias = check_bool("use_bias", use_bias)
        if add_self_loops and not normalize:
            raise ValueError(
                "GCNConv adds self-loops as part of its normalisation: with normalize=False, "
                "pass add_self_loops=False (and the self-loops in `edge_index` if you want "
                "them). Received: add_self_loops=True, normalize=False"
            )
        self._set_keras_objects(
            activation=activation,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
        )

    def build(self, input_shape):
        features = node_features_shape(input_shape)[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(features, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )

    def _checked_inputs(self, node_features, edge_index=None, edge_weight=None):
        others = {"edge_index": edge_index, "edge_weight": edge_weight}
        x, edge_index, edge_weight = unpack_inputs("GCNConv", node_features, others)
        check_graph_inputs(x, edge_index)
        if edge_weight is not None:
            check_edge_values(edge_weight, edge_index, "edge_weight", floating=True)
        return x, edge_index, edge_weight

    def call(self, node_features, edge_index=None, edge_weight=None):
        x, edge_index, edge_weight = self._checked_inputs(node_features, edge_index, edge_weight)
        num_nodes = num_nodes_of(x)
        edge_index = tf.cast(edge_index, "int32")
        if self.normalize:
            edge_index, edge_weight = gcn_normalization(
                edge_index, num_nodes, edge_weight, self.add_self_loops, self.improved
            )
        h = ops.matmul(x, self.kernel)
        out = propagate(h, edge_index, num_nodes, edge_weight, reduce="sum")
        if self.bias is not None:
            out = out + self.bias
        return self.activation(out)

    def compute_output_shape(self, input_shape):
        return (node_features_shape(input_shape)[0], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "add_self_loops": self.add_self_loops,
            "normalize": self.normalize,
            "improved": self.improved,
            "use_bias": self.use_bias,
            **self._config_args,
        }
