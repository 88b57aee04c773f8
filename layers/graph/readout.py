"""Graph-level readouts over a disjoint batch of graphs: sum, mean, max, soft attention."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from layers.graph.message_passing import (
    REDUCTIONS,
    GraphLayer,
    check_index_tensor,
    check_node_features,
    is_concrete,
    node_features_shape,
    scatter,
    segment_softmax,
    unpack_inputs,
)
from layers.validation import check_choice

_INT_TYPES = (int, np.integer)


def _checked_num_graphs(num_graphs):
    """An int, or a scalar integer tensor (symbolic in a functional model)."""
    is_int = isinstance(num_graphs, _INT_TYPES) and not isinstance(num_graphs, bool)
    if is_int and num_graphs >= 0:
        return int(num_graphs)
    if not is_int and hasattr(num_graphs, "shape") and hasattr(num_graphs, "dtype"):
        dtype = keras.backend.standardize_dtype(num_graphs.dtype)
        if "int" in dtype and len(num_graphs.shape) == 0:
            return num_graphs
    raise ValueError(
        "`num_graphs` must be a non-negative int or a scalar integer tensor (e.g. "
        "`keras.ops.shape(graph_sizes)[0]`, or `keras.ops.size(graph_sizes)` in a functional "
        f"model). Received: num_graphs={num_graphs!r}"
    )


class _Readout(GraphLayer):
    """Shared input handling: `(node_features, graph_ids, num_graphs)`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # `num_graphs` may be a Python int, also when passed positionally.
        self._allow_non_tensor_positional_args = True

    def _checked_inputs(self, node_features, graph_ids=None, num_graphs=None):
        x, graph_ids = unpack_inputs(type(self).__name__, node_features, {"graph_ids": graph_ids})
        shape = check_node_features(x)
        ids_shape = check_index_tensor(graph_ids, "graph_ids", 1)
        if None not in (shape[0], ids_shape[0]) and shape[0] != ids_shape[0]:
            raise ValueError(
                f"`graph_ids` must have one entry per node ({shape[0]}). Received: "
                f"graph_ids.shape={ids_shape}"
            )
        num_graphs = _checked_num_graphs(num_graphs)
        count = num_graphs if isinstance(num_graphs, int) else None
        if count is None and is_concrete(num_graphs):
            count = int(num_graphs)
        if count is not None and is_concrete(graph_ids):
            values = np.asarray(graph_ids)
            bad = (values < 0) | (values >= count)
            if bad.any():
                node = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"`graph_ids` must be in [0, num_graphs={count}); node {node} has graph "
                    f"id {int(values[node])}. Received: graph_ids with value {int(values[node])}"
                )
        return x, graph_ids, num_graphs

    def compute_output_shape(self, input_shape):
        return (None, node_features_shape(input_shape)[-1])

    def compute_output_spec(self, node_features, graph_ids=None, num_graphs=None):
        x, _, num_graphs = self._checked_inputs(node_features, graph_ids, num_graphs)
        rows = num_graphs if isinstance(num_graphs, int) else None
        return keras.KerasTensor((rows, x.shape[-1]), dtype=self.compute_dtype)

    @staticmethod
    def _ids(graph_ids):
        return tf.cast(graph_ids, "int32")


@keras.saving.register_keras_serializable(package="keras_zoo")
class GraphPooling(_Readout):
    """Sum, mean or maximum of the node features of each graph in a disjoint batch.

    A batch of graphs is one big graph whose node `i` belongs to graph `graph_ids[i]`
    (PyG's `batch` vector). Output row `g` reduces the rows of `node_features` with
    `graph_ids == g` (PyG's `global_add_pool`, `global_mean_pool`, `global_max_pool`); a
    graph without nodes gives zeros. Compiles with XLA.

    Args:
        mode: `"sum"`, `"mean"` or `"max"`. Defaults to `"mean"`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        node_features: float `[num_nodes, features]`.
        graph_ids: integer `[num_nodes]` in `[0, num_graphs)` (checked when its values are
            known).
        num_graphs: the number of graphs: an int or a scalar integer tensor, e.g.
            `keras.ops.shape(graph_sizes)[0]` (never derived from `graph_ids`' values, so that
            XLA sees a static size). In a functional model, `keras.ops.size(graph_sizes)`
            gives it as a symbolic scalar.

        `node_features` and `graph_ids` may also come as one list.

    Output:
        `[num_graphs, features]` in the layer's compute dtype.

    Example:

    ```python
    x = np.random.rand(7, 8).astype("float32")
    graph_ids = np.array([0, 0, 0, 1, 1, 2, 2])
    y = GraphPooling("max")(x, graph_ids, 3)  # (3, 8)
    ```

    Reference:
        Gilmer et al., "Neural Message Passing for Quantum Chemistry", ICML 2017,
        arXiv:1704.01212 (readout functions).
    """

    def __init__(self, mode: str = "mean", **kwargs):
        super().__init__(**kwargs)
        self.mode = check_choice("mode", mode, REDUCTIONS)

    def call(self, node_features, graph_ids=None, num_graphs=None):
        x, graph_ids, num_graphs = self._checked_inputs(node_features, graph_ids, num_graphs)
        return scatter(x, self._ids(graph_ids), num_graphs, self.mode)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package="keras_zoo")
class AttentionGraphPooling(_Readout):
    """Soft-attention readout: a softmax-weighted sum of each graph's node features.

    `gate_i = x_i w + b` (one score per node, `gate_kernel` `[F, 1]`, `gate_bias` `[1]`); the
    scores are soft-maxed over the nodes of each graph (in float32) and graph `g` outputs
    `sum_{i in g} softmax(gate)_i x_i`. This is PyG's
    `AttentionalAggregation(gate_nn=Linear(F, 1))` and the gated readout of Li et al. (2016)
    with the softmax of Vinyals et al. over nodes. A graph without nodes gives zeros. Compiles
    with XLA.

    Args:
        kernel_initializer: initializer of `gate_kernel`. Defaults to `"glorot_uniform"`.
        bias_initializer: initializer of `gate_bias`. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of `gate_kernel`. Defaults to `None`.
        bias_regularizer: optional regularizer of `gate_bias`. Defaults to `None`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        node_features, graph_ids, num_graphs: as for `GraphPooling`.

    Output:
        `[num_graphs, features]` in the layer's compute dtype.

    Example:

    ```python
    x = np.random.rand(7, 8).astype("float32")
    graph_ids = np.array([0, 0, 0, 1, 1, 2, 2])
    y = AttentionGraphPooling()(x, graph_ids, num_graphs=3)  # (3, 8)
    ```

    Reference:
        Li, Tarlow, Brockschmidt & Zemel, "Gated Graph Sequence Neural Networks", ICLR 2016,
        arXiv:1511.05493, section 3.3 (graph-level outputs).
    """

    def __init__(
        self,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._set_keras_objects(
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
        )

    def build(self, input_shape):
        features = node_features_shape(input_shape)[-1]
        self.gate_kernel = self.add_weight(
            name="gate_kernel",
            shape=(features, 1),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.gate_bias = self.add_weight(
            name="gate_bias",
            shape=(1,),
            initializer=self.bias_initializer,
            regularizer=self.bias_regularizer,
        )

    def call(self, node_features, graph_ids=None, num_graphs=None):
        x, graph_ids, num_graphs = self._checked_inputs(node_features, graph_ids, num_graphs)
        graph_ids = self._ids(graph_ids)
        gate = ops.matmul(x, self.gate_kernel) + self.gate_bias  # [N, 1]
        weights = segment_softmax(gate, graph_ids, num_graphs)
        return scatter(weights * x, graph_ids, num_graphs, "sum")

    def get_config(self):
        return {**super().get_config(), **self._config_args}
