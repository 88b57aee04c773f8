"""Message passing on `edge_index` graphs: gather, scatter, segment softmax, self-loops, checks.

A graph is `node_features` `[num_nodes, features]` and `edge_index` `[2, num_edges]` (row 0
the sources, row 1 the targets); messages flow from source to target, as in PyTorch Geometric
(PyG). Every helper works on index lists, so memory grows with the number of edges, never with
`num_nodes ** 2`, and every helper except `remove_self_loops` and `add_remaining_self_loops`
(whose output sizes depend on the values of `edge_index`) compiles with XLA: there `num_nodes`
comes from a static shape and folds to a constant.

Weighted sums along edges (`propagate` with `"sum"` or `"mean"`) are one sparse-dense matrix
product (`tf.sparse.sparse_dense_matmul`, whose TensorFlow kernels are multi-threaded in both
directions of the gradient) when the function being traced is not compiled with XLA, and
`tf.gather` + `tf.math.unsorted_segment_sum` (which XLA fuses) inside `jit_compile=True`
functions, where the sparse product has no kernel. Both give the same numbers.
"""

from __future__ import annotations

import inspect

import keras
import numpy as np
import tensorflow as tf

from layers.serialization import serialize
from layers.validation import check_choice, check_edge_index
from layers.xla import compiling_with_xla

REDUCTIONS = ("sum", "mean", "max")


# ----------------------------------------------------------------------------- gather/scatter


def num_nodes_of(node_features) -> tf.Tensor:
    """`tf.shape(node_features)[0]`: a constant under XLA, where shapes are static."""
    return tf.shape(node_features)[0]


def gather_nodes(values, index):
    """`values[index]` along the first axis: per-node values -> per-edge values."""
    return tf.gather(values, index)


def _segment_counts(index, num_segments, dtype):
    return tf.math.unsorted_segment_sum(tf.ones_like(index, dtype=dtype), index, num_segments)


def _expand_like(per_row, values):
    """`[R, ...]` -> broadcastable against `values` `[R, ..., F...]` (trailing 1s added)."""
    extra = len(values.shape) - len(per_row.shape)
    return tf.reshape(per_row, tf.concat([tf.shape(per_row), [1] * extra], axis=0))


def scatter(values, index, num_segments, reduce: str = "sum"):
    """Reduces per-edge `values` `[E, ...]` into `num_segments` rows by `index` `[E]`.

    `"sum"`, `"mean"` or `"max"`; a row that no edge reaches is 0 for all three (never `-inf`
    or NaN). The result has `values`' dtype.

    Example:

    ```python
    scatter(tf.constant([[1.0], [3.0]]), tf.constant([2, 2]), 3, "mean")  # [[0], [0], [2]]
    ```
    """
    check_choice("reduce", reduce, REDUCTIONS)
    if reduce == "sum":
        return tf.math.unsorted_segment_sum(values, index, num_segments)
    if reduce == "mean":
        total = tf.math.unsorted_segment_sum(values, index, num_segments)
        count = _segment_counts(index, num_segments, values.dtype)
        return total / _expand_like(tf.maximum(count, tf.ones_like(count)), total)
    peak = tf.math.unsorted_segment_max(values, index, num_segments)
    reached = _expand_like(_segment_counts(index, num_segments, tf.int32) > 0, peak)
    return tf.where(reached, peak, tf.zeros_like(peak))


def _sparse_weighted_sum(node_values, source, target, num_nodes, edge_weight):
    """`sum_e edge_weight[e] * node_values[source[e]]` at `target[e]`: one sparse-dense matmul.

    `edge_weight` is `None`, `[E]`, or `[E, H...]` against `node_values` `[N, H..., F]` (one
    weight per edge and head, as attention gives): then the rows of every head form their own
    block of one `[num_nodes * H, N * H]` sparse matrix.
    """
    values_shape = tf.shape(node_values)
    num_sources = values_shape[0]
    num_rows = num_nodes
    if edge_weight is None:
        edge_weight = tf.ones(tf.shape(source), node_values.dtype)
    if len(edge_weight.shape) > 1:
        heads = tf.reduce_prod(tf.shape(edge_weight)[1:])
        head_ids = tf.range(heads, dtype=source.dtype)
        source = tf.reshape(source[:, None] * heads + head_ids, [-1])
        target = tf.reshape(target[:, None] * heads + head_ids, [-1])
        edge_weight = tf.reshape(edge_weight, [-1])
        num_sources, num_rows = num_sources * heads, num_nodes * heads
    flat_values = tf.reshape(node_values, tf.stack([num_sources, -1]))
    matrix = tf.SparseTensor(
        tf.cast(tf.stack([target, source], axis=1), tf.int64),
        tf.cast(edge_weight, node_values.dtype),
        tf.cast(tf.stack([num_rows, num_sources]), tf.int64),
    )
    out = tf.sparse.sparse_dense_matmul(matrix, flat_values)
    out = tf.reshape(out, tf.concat([[num_nodes], values_shape[1:]], axis=0))
    out.set_shape([tf.get_static_value(num_nodes)] + list(node_values.shape[1:]))
    return out


def propagate(node_values, edge_index, num_nodes, edge_weight=None, reduce: str = "sum"):
    """Sends `node_values[source]` (times `edge_weight`) along every edge; reduces at targets.

    Args:
        node_values: `[num_sources, ...]` values to send (`num_sources` is usually
            `num_nodes`).
        edge_index: int32 `[2, E]`.
        num_nodes: number of output rows.
        edge_weight: optional factors of the messages: `[E]`, or `[E, H...]` against
            `node_values` `[num_sources, H..., F]` (one weight per edge and attention head).
        reduce: `"sum"`, `"mean"` or `"max"`. Defaults to `"sum"`.

    Returns:
        `[num_nodes, ...]`, 0 at nodes without incoming edges.

    Example:

    ```python
    edge_index = tf.constant([[0, 1, 2], [1, 2, 1]])
    propagate(tf.constant([[1.0], [2.0], [4.0]]), edge_index, 3)  # [[0], [5], [2]]
    ```
    """
    check_choice("reduce", reduce, REDUCTIONS)
    source, target = edge_index[0], edge_index[1]
    if reduce != "max" and not compiling_with_xla():
        if reduce == "mean":
            count = _segment_counts(target, num_nodes, tf.float32)
            share = tf.gather(1.0 / tf.maximum(count, 1.0), target)
            if edge_weight is not None:
                share = _expand_like(share, edge_weight) * tf.cast(edge_weight, tf.float32)
            edge_weight = share
        return _sparse_weighted_sum(node_values, source, target, num_nodes, edge_weight)
    messages = gather_nodes(node_values, source)
    if edge_weight is not None:
        messages = messages * _expand_like(tf.cast(edge_weight, messages.dtype), messages)
    return scatter(messages, target, num_nodes, reduce)


def segment_softmax(logits, segment_ids, num_segments, mask=None):
    """Softmax of `logits` `[E, ...]` over the entries that share a segment id.

    Numerically stable (the per-segment maximum is subtracted first) and computed in float32;
    the result has `logits`' dtype. Entries where the optional boolean `mask` `[E]` is false get
    weight 0 and do not take part; a segment with no entry left gets no weight anywhere.

    Example:

    ```python
    segment_softmax(tf.constant([0.0, 0.0, 5.0]), tf.constant([0, 0, 1]), 2)  # [0.5, 0.5, 1]
    ```
    """
    scores = tf.cast(logits, tf.float32)
    if mask is not None:
        mask = _expand_like(tf.cast(mask, tf.bool), scores)
        mask = tf.broadcast_to(mask, tf.shape(scores))
        scores = tf.where(mask, scores, tf.fill(tf.shape(scores), -np.inf))
    peak = tf.stop_gradient(tf.math.unsorted_segment_max(scores, segment_ids, num_segments))
    peak = tf.where(tf.math.is_finite(peak), peak, tf.zeros_like(peak))
    shifted = scores - tf.gather(peak, segment_ids)
    if mask is not None:
        shifted = tf.where(mask, shifted, tf.zeros_like(shifted))
    exponentials = tf.exp(shifted)
    if mask is not None:
        exponentials = tf.where(mask, exponentials, tf.zeros_like(exponentials))
    total = tf.math.unsorted_segment_sum(exponentials, segment_ids, num_segments)
    total = tf.where(total > 0, total, tf.ones_like(total))
    return tf.cast(exponentials / tf.gather(total, segment_ids), logits.dtype)


# ----------------------------------------------------------------------------- self-loops


def _as_index(edge_index):
    return tf.cast(edge_index, tf.int32)


def _loops(num_nodes):
    nodes = tf.range(num_nodes, dtype=tf.int32)
    return tf.stack([nodes, nodes])


def remove_self_loops(edge_index, edge_weight=None):
    """Drops the edges `(i, i)`, as PyG's `remove_self_loops`.

    The number of edges left depends on the values of `edge_index`, so this does not compile
    with XLA; the layers mask self-loops instead.

    Returns:
        `(edge_index, edge_weight)`: int32 `[2, E']` and `[E']` (or `None`).
    """
    edge_index = _as_index(edge_index)
    keep = tf.not_equal(edge_index[0], edge_index[1])
    kept = tf.boolean_mask(edge_index, keep, axis=1)
    return kept, None if edge_weight is None else tf.boolean_mask(edge_weight, keep)


def add_self_loops(edge_index, edge_weight=None, num_nodes=None, fill_value=1.0):
    """Appends one edge `(i, i)` per node, as PyG's `add_self_loops` (existing loops stay).

    Args:
        edge_index: integer `[2, E]`.
        edge_weight: optional `[E]`; the new loops get `fill_value`.
        num_nodes: the number of nodes (an int or a scalar tensor).
        fill_value: the weight of the new loops. Defaults to `1.0`.

    Returns:
        `(edge_index, edge_weight)`: int32 `[2, E + num_nodes]` and `[E + num_nodes]` (or
        `None`).
    """
    _require_num_nodes(num_nodes)
    edge_index = tf.concat([_as_index(edge_index), _loops(num_nodes)], axis=1)
    if edge_weight is None:
        return edge_index, None
    edge_weight = tf.convert_to_tensor(edge_weight)
    loops = tf.fill([num_nodes], tf.cast(fill_value, edge_weight.dtype))
    return edge_index, tf.concat([edge_weight, loops], axis=0)


def _remaining_loop_weights(edge_index, edge_weight, num_nodes, fill_value):
    """Per node: the weight of its last existing self-loop, else `fill_value`."""
    is_loop = tf.equal(edge_index[0], edge_index[1])
    num_edges = tf.shape(edge_index)[1]
    positions = tf.where(is_loop, tf.range(num_edges), -tf.ones_like(edge_index[0]))
    # Empty segments give the lowest int32: like -1, "no loop".
    last = tf.math.unsorted_segment_max(positions, edge_index[0], num_nodes)
    has_loop = last >= 0
    fill = tf.cast(fill_value, edge_weight.dtype)
    padded = tf.concat([edge_weight, tf.reshape(fill, [1])], axis=0)
    return tf.gather(padded, tf.where(has_loop, last, num_edges)), is_loop


def add_remaining_self_loops(edge_index, edge_weight=None, num_nodes=None, fill_value=1.0):
    """PyG's `add_remaining_self_loops`: one self-loop per node, existing loops keep their weight.

    Existing loops are removed from their place and one loop per node is appended (nodes in
    order); a node that had a loop keeps that loop's weight (the last one's, if several),
    every other node's loop gets `fill_value`. The number of edges depends on the values of
    `edge_index`, so this does not compile with XLA; `gcn_normalization` gets the same result
    with static shapes (it keeps the old loops, with weight 0).

    Returns:
        `(edge_index, edge_weight)`: int32 `[2, E - loops + num_nodes]` and the weights (or
        `None` when `edge_weight` is `None`).
    """
    _require_num_nodes(num_nodes)
    edge_index = _as_index(edge_index)
    keep = tf.not_equal(edge_index[0], edge_index[1])
    new_index = tf.concat([tf.boolean_mask(edge_index, keep, axis=1), _loops(num_nodes)], axis=1)
    if edge_weight is None:
        return new_index, None
    edge_weight = tf.convert_to_tensor(edge_weight)
    loop_weights, _ = _remaining_loop_weights(edge_index, edge_weight, num_nodes, fill_value)
    return new_index, tf.concat([tf.boolean_mask(edge_weight, keep), loop_weights], axis=0)


def gcn_normalization(edge_index, num_nodes, edge_weight=None, add_self_loops=True, improved=False):
    """The symmetric normalisation of GCN: `D^-1/2 (A + I) D^-1/2` as per-edge weights.

    PyG's `gcn_norm`: with `add_self_loops`, every node gets one self-loop, of weight 1 (2 with
    `improved`) unless it already had one, which keeps its weight (`add_remaining_self_loops`).
    `deg[i]` is the weighted in-degree of node `i` (the sum of the weights of the edges that
    point to it, loops included) and edge `j -> i` gets `deg[j] ** -0.5 * w * deg[i] ** -0.5`
    (0 where a degree is 0). Computed in float32.

    Shapes stay static (this compiles with XLA): instead of dropping the existing self-loops as
    PyG does, the returned list keeps them in place with weight 0 and appends one loop per node,
    which aggregates to the same result.

    Compute it once per graph and pass it to every layer of a full-batch model, whose layers
    then skip it (`GCNConv(..., normalize=False, add_self_loops=False)`).

    Args:
        edge_index: integer `[2, E]`.
        num_nodes: the number of nodes (an int or a scalar tensor).
        edge_weight: optional `[E]` weights. Defaults to `None` (all 1).
        add_self_loops: add the remaining self-loops first. Defaults to `True`.
        improved: new self-loops weigh 2 (`A + 2I`). Defaults to `False`.

    Returns:
        `(edge_index, edge_weight)`: int32 `[2, E + num_nodes]` (or `[2, E]` without self-loops)
        and float32 weights of the same length.

    Example:

    ```python
    edge_index, edge_weight = gcn_normalization(edge_index, num_nodes=x.shape[0])
    h = GCNConv(16, normalize=False, add_self_loops=False)(x, edge_index, edge_weight=edge_weight)
    ```
    """
    _require_num_nodes(num_nodes)
    edge_index = _as_index(edge_index)
    if edge_weight is None:
        edge_weight = tf.ones(tf.shape(edge_index)[1:2], tf.float32)
    edge_weight = tf.cast(edge_weight, tf.float32)
    if add_self_loops:
        fill_value = 2.0 if improved else 1.0
        loop_weights, is_loop = _remaining_loop_weights(
            edge_index, edge_weight, num_nodes, fill_value
        )
        edge_weight = tf.concat(
            [tf.where(is_loop, tf.zeros_like(edge_weight), edge_weight), loop_weights], axis=0
        )
        edge_index = tf.concat([edge_index, _loops(num_nodes)], axis=1)
    source, target = edge_index[0], edge_index[1]
    degree = tf.math.unsorted_segment_sum(edge_weight, target, num_nodes)
    nonzero = tf.not_equal(degree, 0.0)
    # The inner `where` keeps the gradient finite where the degree is 0.
    inverse_sqrt = tf.where(
        nonzero, tf.math.rsqrt(tf.where(nonzero, degree, tf.ones_like(degree))), 0.0
    )
    return edge_index, tf.gather(inverse_sqrt, source) * edge_weight * tf.gather(
        inverse_sqrt, target
    )


def _require_num_nodes(num_nodes):
    if num_nodes is None:
        raise ValueError("`num_nodes` is required. Received: num_nodes=None")


# ----------------------------------------------------------------------------- input checks


def static_shape(tensor) -> tuple:
    return tuple(None if d is None else int(d) for d in tensor.shape)


def _dtype(tensor) -> str:
    return keras.backend.standardize_dtype(tensor.dtype)


def is_concrete(tensor) -> bool:
    """Whether the values are at hand (NumPy or an eager tensor), not a traced placeholder."""
    if isinstance(tensor, np.ndarray):
        return True
    return tf.is_tensor(tensor) and not tf.is_symbolic_tensor(tensor) and tf.executing_eagerly()


def check_node_features(node_features, name: str = "node_features") -> tuple:
    """Static checks: a float tensor of rank 2 with a known feature size; returns its shape."""
    shape = static_shape(node_features)
    if len(shape) != 2 or shape[-1] is None:
        raise ValueError(
            f"`{name}` must be shaped (num_nodes, features) with a known feature size. "
            f"Received: {name}.shape={shape}"
        )
    if "float" not in _dtype(node_features):
        raise ValueError(
            f"`{name}` must be a float tensor. Received: {name}.dtype={_dtype(node_features)}"
        )
    return shape


def check_index_tensor(tensor, name: str, rank: int) -> tuple:
    """Static checks of an integer index tensor of the given rank; returns its shape."""
    if tensor is None:
        raise ValueError(f"`{name}` is required. Received: {name}=None")
    dtype = _dtype(tensor)
    if "int" not in dtype:
        raise ValueError(f"`{name}` must be an integer tensor. Received: {name}.dtype={dtype}")
    shape = static_shape(tensor)
    if len(shape) != rank:
        raise ValueError(f"`{name}` must have rank {rank}. Received: {name}.shape={shape}")
    return shape


def check_graph_inputs(node_features, edge_index, name: str = "edge_index") -> None:
    """Checks `node_features` and `edge_index` (symbolic, traced or eager tensors).

    Statically: `node_features` float `[N, F]`, `edge_index` integer `[2, E]`. When
    `edge_index` holds values (eager calls), also that every id is in `[0, N)`, with
    `layers.validation.check_edge_index`.
    """
    node_shape = check_node_features(node_features)
    shape = check_index_tensor(edge_index, name, 2)
    if shape[0] not in (None, 2):
        raise ValueError(
            f"`{name}` must be shaped [2, num_edges] (row 0 the sources, row 1 the targets). "
            f"Received: {name}.shape={shape}"
        )
    if is_concrete(edge_index) and node_shape[0] is not None:
        check_edge_index(np.asarray(edge_index), node_shape[0], name=name)


def check_edge_values(values, edge_index, name: str, *, floating: bool):
    """Checks a per-edge tensor `[E]` (`edge_weight` floats or `edge_type` integers)."""
    if floating:
        dtype = _dtype(values)
        if "float" not in dtype:
            raise ValueError(f"`{name}` must be a float tensor. Received: {name}.dtype={dtype}")
        shape = static_shape(values)
        if len(shape) != 1:
            raise ValueError(f"`{name}` must have rank 1. Received: {name}.shape={shape}")
    else:
        shape = check_index_tensor(values, name, 1)
    edges = static_shape(edge_index)[1]
    if shape[0] is not None and edges is not None and shape[0] != edges:
        raise ValueError(
            f"`{name}` must have one entry per edge ({edges}). Received: {name}.shape={shape}"
        )


def unpack_inputs(layer_name: str, node_features, others: dict) -> list:
    """`layer([x, a, b])` or `layer(x, a, b)`: returns `[x, a, b]` in the call's order.

    A list or tuple as the first argument holds the inputs in the order of the call's
    arguments (what a functional model with several `keras.Input`s passes).
    """
    if not isinstance(node_features, list | tuple):
        return [node_features, *others.values()]
    given = [name for name, value in others.items() if value is not None]
    items = list(node_features)
    if given or not 1 <= len(items) <= 1 + len(others):
        names = ", ".join(["node_features", *others])
        raise ValueError(
            f"{layer_name} takes its inputs as separate arguments or as one list [{names}] "
            f"(in that order, trailing ones optional). Received: a list of {len(items)} inputs"
            + (f" and also {', '.join(given)}" if given else "")
        )
    return items + [None] * (1 + len(others) - len(items))


class GraphLayer(keras.layers.Layer):
    """Base of the graph layers: list or separate inputs, checked in symbolic calls too.

    A subclass defines `_checked_inputs(self, node_features, ...)` with its call's input
    arguments: it unpacks a list input (`unpack_inputs`), checks what it can and returns the
    inputs in order. `call` uses it, and so does the symbolic call of a functional model, which
    keras otherwise answers from `compute_output_shape` alone.
    """

    def _checked_inputs(self, node_features, *args, **kwargs):
        raise NotImplementedError

    def _set_keras_objects(self, **objects) -> None:
        """Sets each activation, initializer or regularizer argument as an attribute (resolved
        with `keras.{activations,initializers,regularizers}.get`) and keeps the value given,
        serialised, for `get_config` (`self._config_args`)."""
        getters = {
            "activation": keras.activations.get,
            "initializer": keras.initializers.get,
            "regularizer": keras.regularizers.get,
        }
        self._config_args = getattr(self, "_config_args", {})
        for name, value in objects.items():
            setattr(self, name, getters[name.rsplit("_", 1)[-1]](value))
            self._config_args[name] = serialize(value)

    def compute_output_spec(self, *args, **kwargs):
        arguments = dict(inspect.signature(self.call).bind(*args, **kwargs).arguments)
        arguments.pop("training", None)
        self._checked_inputs(**arguments)
        return super().compute_output_spec(*args, **kwargs)


def node_features_shape(shape) -> tuple:
    """The node feature shape from a `build` argument: a shape or a list of input shapes."""
    if isinstance(shape, list | tuple) and shape and isinstance(shape[0], list | tuple):
        return tuple(shape[0])
    return tuple(shape)
