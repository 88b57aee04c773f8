"""GraphSAGE convolution (Hamilton et al. 2017), as PyTorch Geometric's `SAGEConv`."""

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
    unpack_inputs,
)
from layers.validation import check_bool, check_choice, check_positive_int
from layers.xla import compiling_with_xla

AGGREGATORS = ("mean", "max", "max_pool", "lstm")


def neighbors_as_sequences(messages, target, num_nodes):
    """Per-edge `messages` `[E, F]` -> `[num_nodes, max_in_degree, F]`, zero-padded at the end.

    Row `i` lists the messages of the edges into node `i` in edge order (a stable sort by
    target). The middle size depends on the values of `target`, so this does not compile with
    XLA. At least one step, so that a graph without edges still gives a sequence.
    """
    order = tf.argsort(target, stable=True)
    sorted_target = tf.gather(target, order)
    counts = tf.math.unsorted_segment_sum(tf.ones_like(target), target, num_nodes)
    starts = tf.cumsum(counts, exclusive=True)
    position = tf.range(tf.shape(target)[0]) - tf.gather(starts, sorted_target)
    max_degree = tf.maximum(tf.reduce_max(tf.concat([counts, [0]], axis=0)), 1)
    indices = tf.stack([sorted_target, position], axis=1)
    shape = tf.stack([num_nodes, max_degree, tf.shape(messages)[1]])
    return tf.scatter_nd(indices, tf.gather(messages, order), shape)


@keras.saving.register_keras_serializable(package="keras_zoo")
class SAGEConv(GraphLayer):
    """GraphSAGE: `out_i = W_l aggregate({x_j : j -> i}) + b + W_r x_i`.

    Node `i` aggregates the features of the nodes that send it an edge (no self-loops are
    added; existing ones and duplicate edges are ordinary neighbours), as PyTorch Geometric's
    `SAGEConv`:

    - `"mean"`: their mean (0 for a node without incoming edges);
    - `"max"`: their elementwise maximum (0 without incoming edges);
    - `"max_pool"`: the paper's max-pooling aggregator: `relu(x_j P + p)` per neighbour, then the
      maximum (PyG's `aggr="max", project=True`);
    - `"lstm"`: an LSTM over the neighbours in edge order, zero-padded at the end to the
      largest in-degree of the graph; the output is its last hidden state, padding included
      (PyG's `LSTMAggregation`; a node without incoming edges gets the LSTM's output for a
      sequence of zeros). PyG needs edges sorted by target; here they are sorted stably first,
      so any order works and target-sorted input gives PyG's result. The padded sequences have
      a size that depends on the graph's values, so `"lstm"` does not compile with XLA: the
      layer sets `supports_jit = False` (Keras then compiles a model holding it without XLA,
      with a warning) and raises a clear error inside a `jit_compile=True` function. The other
      aggregators compile.

    `W_l` is `neighbor_kernel` (with `bias`), `W_r` is `root_kernel` (no bias). `project`
    applies `relu(x P + p)` (`projection_kernel`, `projection_bias`, `[F, F]`) to the
    neighbours' features before any aggregator (the root term uses the raw `x_i`); `"max_pool"`
    always does. Then `activation`, and with `normalize` each row is divided by its L2 norm
    (`max(norm, 1e-12)`, in float32), as in the paper's algorithm 1. With `"mean"` and no
    projection, a layer narrower than its input averages `x W_l` instead of `x` (the mean is
    linear: the same result, from `units`-wide messages).

    Args:
        units: positive integer, the output features.
        aggregator: `"mean"`, `"max"`, `"max_pool"` or `"lstm"`. Defaults to `"mean"`.
        normalize: L2-normalise the output rows. Defaults to `False`.
        root_weight: add `W_r x_i`. Defaults to `True`.
        project: project the neighbours' features first (always on for `"max_pool"`).
            Defaults to `False`.
        use_bias: add `b` (the projection always has its bias `p`, as in PyG). Defaults to
            `True`.
        activation: activation applied before normalising. Defaults to `None`.
        kernel_initializer: initializer of the kernels. Defaults to `"glorot_uniform"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels. Defaults to `None`.
        bias_regularizer: optional regularizer of the biases. Defaults to `None`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        node_features: float `[num_nodes, features]`.
        edge_index: integer `[2, num_edges]`, row 0 the sources, row 1 the targets. Checked
            against `num_nodes` when its values are known (eager calls).

        The inputs may also come as one list `[node_features, edge_index]`.

    Output:
        `[num_nodes, units]` in the layer's compute dtype.

    Example:

    ```python
    x = np.random.rand(5, 8).astype("float32")
    edge_index = np.array([[0, 1, 2, 3], [1, 2, 3, 4]])
    y = SAGEConv(16, aggregator="max_pool", normalize=True)(x, edge_index)  # (5, 16)
    ```

    Reference:
        Hamilton, Ying & Leskovec, "Inductive Representation Learning on Large Graphs",
        NeurIPS 2017, arXiv:1706.02216.
    """

    def __init__(
        self,
        units: int,
        aggregator: str = "mean",
        normalize: bool = False,
        root_weight: bool = True,
        project: bool = False,
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
        self.aggregator = check_choice("aggregator", aggregator, AGGREGATORS)
        self.supports_jit = self.aggregator != "lstm"
        self.normalize = check_bool("normalize", normalize)
        self.root_weight = check_bool("root_weight", root_weight)
        self.project = check_bool("project", project)
        self.use_bias = check_bool("use_bias", use_bias)
        self._set_keras_objects(
            activation=activation,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
        )

    @property
    def projects(self) -> bool:
        return self.project or self.aggregator == "max_pool"

    def _kernel(self, name, shape):
        return self.add_weight(
            name=name,
            shape=shape,
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )

    def _bias(self, name, size):
        if not self.use_bias:
            return None
        return self.add_weight(
            name=name,
            shape=(size,),
            initializer=self.bias_initializer,
            regularizer=self.bias_regularizer,
        )

    def build(self, input_shape):
        features = node_features_shape(input_shape)[-1]
        self.projection_kernel = self.projection_bias = self.lstm = self.root_kernel = None
        if self.projects:
            self.projection_kernel = self._kernel("projection_kernel", (features, features))
            self.projection_bias = self.add_weight(
                name="projection_bias",
                shape=(features,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )
        if self.aggregator == "lstm":
            self.lstm = keras.layers.LSTM(features, dtype=self.dtype_policy, name="lstm")
            self.lstm.build((None, None, features))
        self.neighbor_kernel = self._kernel("neighbor_kernel", (features, self.units))
        self.bias = self._bias("bias", self.units)
        if self.root_weight:
            self.root_kernel = self._kernel("root_kernel", (features, self.units))

    def _checked_inputs(self, node_features, edge_index=None):
        x, edge_index = unpack_inputs("SAGEConv", node_features, {"edge_index": edge_index})
        check_graph_inputs(x, edge_index)
        return x, edge_index

    def call(self, node_features, edge_index=None):
        x, edge_index = self._checked_inputs(node_features, edge_index)
        num_nodes = num_nodes_of(x)
        edge_index = tf.cast(edge_index, "int32")
        neighbors = x
        if self.projects:
            neighbors = ops.matmul(x, self.projection_kernel)
            neighbors = ops.relu(neighbors + self.projection_bias)
        if self.aggregator == "mean" and not self.projects and self.units < x.shape[-1]:
            # The mean is linear: aggregate `x W_l` (`units` wide) rather than `x` (wider).
            out = propagate(
                ops.matmul(x, self.neighbor_kernel), edge_index, num_nodes, None, "mean"
            )
            return self._finish(out, x)
        if self.aggregator == "lstm":
            if compiling_with_xla():
                raise ValueError(
                    f"SAGEConv(aggregator='lstm') (layer {self.name!r}) does not compile with "
                    "XLA: its padded neighbour sequences have a size that depends on the "
                    "graph's values. Call it outside `jit_compile=True`, or use another "
                    "aggregator. Received: aggregator='lstm'"
                )
            messages = gather_nodes(neighbors, edge_index[0])
            aggregated = self.lstm(neighbors_as_sequences(messages, edge_index[1], num_nodes))
        else:
            reduce = "mean" if self.aggregator == "mean" else "max"
            aggregated = propagate(neighbors, edge_index, num_nodes, reduce=reduce)
        return self._finish(ops.matmul(aggregated, self.neighbor_kernel), x)

    def _finish(self, out, x):
        """`out` (the aggregated neighbours times `W_l`) + bias + root term, activation, norm."""
        if self.bias is not None:
            out = out + self.bias
        if self.root_kernel is not None:
            out = out + ops.matmul(x, self.root_kernel)
        out = self.activation(out)
        if self.normalize:
            wide = ops.cast(out, "float32")
            # sqrt(max(|x|^2, 1e-24)) = max(|x|, 1e-12), with a finite gradient at 0.
            squared = ops.maximum(ops.sum(ops.square(wide), axis=-1, keepdims=True), 1e-24)
            out = ops.cast(wide / ops.sqrt(squared), out.dtype)
        return out

    def compute_output_shape(self, input_shape):
        return (node_features_shape(input_shape)[0], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "aggregator": self.aggregator,
            "normalize": self.normalize,
            "root_weight": self.root_weight,
            "project": self.project,
            "use_bias": self.use_bias,
            **self._config_args,
        }
