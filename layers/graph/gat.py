"""Graph attention (Velickovic et al. 2018) and GATv2 (Brody et al. 2022), as in PyG."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from layers.graph.message_passing import (
    GraphLayer,
    check_graph_inputs,
    gather_nodes,
    node_features_shape,
    num_nodes_of,
    propagate,
    segment_softmax,
    unpack_inputs,
)
from layers.validation import (
    check_bool,
    check_non_negative_float,
    check_optional_seed,
    check_positive_int,
    check_rate,
)


@keras.saving.register_keras_serializable(package="keras_zoo")
class GATConv(GraphLayer):
    """Multi-head graph attention: each node attends over the nodes that send it an edge.

    Per head, node `i` outputs `sum_j alpha_ij m_j` over its incoming edges `j -> i`, where
    `alpha_ij` is the softmax over those edges (a segment softmax, in float32) of:

    - GAT (`v2=False`, PyG's `GATConv`): `e_ij = LeakyReLU(a_src . W x_j + a_dst . W x_i)`
      with the message `m_j = W x_j`. Weights: `kernel` `[F, heads * units]` (no bias),
      `attention_source` and `attention_target` `[heads, units]`.
    - GATv2 (`v2=True`, PyG's `GATv2Conv` with `share_weights=False`):
      `e_ij = a . LeakyReLU(W_l x_j + b_l + W_r x_i + b_r)` with the message
      `m_j = W_l x_j + b_l`. Weights: `source_kernel`/`source_bias` (`W_l`, `b_l`),
      `target_kernel`/`target_bias` (`W_r`, `b_r`; the biases only with `use_bias`),
      `attention` `[heads, units]`.

    Head `h` uses columns `h * units:(h + 1) * units` of the kernels. The heads are
    concatenated (`[N, heads * units]`) or averaged (`[N, units]`), then `bias` is added. With
    `add_self_loops` (as PyG), existing self-loops are dropped and one added per node, so every
    node attends to itself once; duplicate edges stay separate softmax entries. Without it, a
    node with no incoming edge outputs `bias` alone. Dropout (`dropout`) applies to the
    attention coefficients, in training only.

    Args:
        units: positive integer, the features per head.
        heads: positive integer, the number of attention heads. Defaults to `1`.
        concat: concatenate the heads; `False` averages them. Defaults to `True`.
        negative_slope: slope of the LeakyReLU for negative inputs. Defaults to `0.2`.
        dropout: dropout rate on the attention coefficients. Defaults to `0.0`.
        add_self_loops: replace the self-loops by one per node. Defaults to `True`.
        v2: GATv2's attention instead of GAT's. Defaults to `False`.
        use_bias: add `bias` (and, for GATv2, `b_l` and `b_r`). Defaults to `True`.
        activation: activation applied to the output. Defaults to `None`.
        kernel_initializer: initializer of the kernels. Defaults to `"glorot_uniform"`.
        attention_initializer: initializer of the attention vectors. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels. Defaults to `None`.
        bias_regularizer: optional regularizer of the biases. Defaults to `None`.
        seed: optional integer seed of the attention dropout. Defaults to `None`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        node_features: float `[num_nodes, features]`.
        edge_index: integer `[2, num_edges]`, row 0 the sources, row 1 the targets. Checked
            against `num_nodes` when its values are known (eager calls).
        training: whether the attention dropout is active.

        The inputs may also come as one list `[node_features, edge_index]`.

    Output:
        `[num_nodes, heads * units]` (`concat`) or `[num_nodes, units]`, in the layer's compute
        dtype. Compiles with XLA.

    Example:

    ```python
    x = np.random.rand(5, 8).astype("float32")
    edge_index = np.array([[0, 1, 2, 3], [1, 2, 3, 4]])
    y = GATConv(8, heads=4)(x, edge_index)  # (5, 32)
    y = GATConv(8, heads=4, concat=False, v2=True)(x, edge_index)  # (5, 8)
    ```

    References:
        Velickovic et al., "Graph Attention Networks", ICLR 2018, arXiv:1710.10903.
        Brody, Alon & Yahav, "How Attentive are Graph Attention Networks?", ICLR 2022,
        arXiv:2105.14491.
    """

    def __init__(
        self,
        units: int,
        heads: int = 1,
        concat: bool = True,
        negative_slope: float = 0.2,
        dropout: float = 0.0,
        add_self_loops: bool = True,
        v2: bool = False,
        use_bias: bool = True,
        activation=None,
        kernel_initializer="glorot_uniform",
        attention_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.heads = check_positive_int("heads", heads)
        self.concat = check_bool("concat", concat)
        self.negative_slope = check_non_negative_float("negative_slope", negative_slope)
        self.dropout = check_rate("dropout", dropout)
        self.add_self_loops = check_bool("add_self_loops", add_self_loops)
        self.v2 = check_bool("v2", v2)
        self.use_bias = check_bool("use_bias", use_bias)
        self.seed = check_optional_seed("seed", seed)
        self._set_keras_objects(
            activation=activation,
            kernel_initializer=kernel_initializer,
            attention_initializer=attention_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
        )
        self._dropout_layer = keras.layers.Dropout(dropout, seed=seed, dtype=self.dtype_policy)

    @property
    def output_units(self) -> int:
        return self.heads * self.units if self.concat else self.units

    def _kernel(self, name, features):
        return self.add_weight(
            name=name,
            shape=(features, self.heads * self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )

    def _attention(self, name):
        return self.add_weight(
            name=name, shape=(self.heads, self.units), initializer=self.attention_initializer
        )

    def _bias(self, name, size):
        return self.add_weight(
            name=name,
            shape=(size,),
            initializer=self.bias_initializer,
            regularizer=self.bias_regularizer,
        )

    def build(self, input_shape):
        features = node_features_shape(input_shape)[-1]
        width = self.heads * self.units
        if self.v2:
            self.source_kernel = self._kernel("source_kernel", features)
            self.source_bias = self._bias("source_bias", width) if self.use_bias else None
            self.target_kernel = self._kernel("target_kernel", features)
            self.target_bias = self._bias("target_bias", width) if self.use_bias else None
            self.attention = self._attention("attention")
        else:
            self.kernel = self._kernel("kernel", features)
            self.attention_source = self._attention("attention_source")
            self.attention_target = self._attention("attention_target")
        self.bias = self._bias("bias", self.output_units) if self.use_bias else None

    def _checked_inputs(self, node_features, edge_index=None):
        x, edge_index = unpack_inputs("GATConv", node_features, {"edge_index": edge_index})
        check_graph_inputs(x, edge_index)
        return x, edge_index

    def _project(self, x, kernel, bias):
        h = ops.matmul(x, kernel)
        if bias is not None:
            h = h + bias
        return ops.reshape(h, (-1, self.heads, self.units))

    def call(self, node_features, edge_index=None, training=None):
        x, edge_index = self._checked_inputs(node_features, edge_index)
        num_nodes = num_nodes_of(x)
        edge_index = tf.cast(edge_index, "int32")
        mask = None
        if self.add_self_loops:
            # Existing loops are masked out of the softmax (static shapes, unlike dropping them).
            mask = tf.not_equal(edge_index[0], edge_index[1])
            nodes = tf.range(num_nodes, dtype=tf.int32)
            edge_index = tf.concat([edge_index, tf.stack([nodes, nodes])], axis=1)
            mask = tf.concat([mask, tf.ones_like(nodes, dtype=tf.bool)], axis=0)
        source, target = edge_index[0], edge_index[1]

        if self.v2:
            h_source = self._project(x, self.source_kernel, self.source_bias)
            h_target = self._project(x, self.target_kernel, self.target_bias)
            values = h_source
            pair = gather_nodes(h_source, source) + gather_nodes(h_target, target)
            pair = ops.leaky_relu(pair, negative_slope=self.negative_slope)
            logits = ops.sum(pair * self.attention, axis=-1)  # [E, heads]
        else:
            h = self._project(x, self.kernel, None)
            score_source = ops.sum(h * self.attention_source, axis=-1)  # [N, heads]
            score_target = ops.sum(h * self.attention_target, axis=-1)
            values = h
            logits = gather_nodes(score_source, source) + gather_nodes(score_target, target)
            logits = ops.leaky_relu(logits, negative_slope=self.negative_slope)

        alpha = segment_softmax(logits, target, num_nodes, mask=mask)
        alpha = self._dropout_layer(alpha, training=training)
        out = propagate(values, edge_index, num_nodes, edge_weight=alpha)  # [N, heads, units]
        if self.concat:
            out = ops.reshape(out, (-1, self.heads * self.units))
        else:
            out = ops.mean(out, axis=1)
        if self.bias is not None:
            out = out + self.bias
        return self.activation(out)

    def compute_output_shape(self, input_shape):
        return (node_features_shape(input_shape)[0], self.output_units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "heads": self.heads,
            "concat": self.concat,
            "negative_slope": self.negative_slope,
            "dropout": self.dropout,
            "add_self_loops": self.add_self_loops,
            "v2": self.v2,
            "use_bias": self.use_bias,
            "seed": self.seed,
            **self._config_args,
        }
