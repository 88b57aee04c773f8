"""Graph layers: shared checks, shapes, semantics, helpers, errors and the traced graph's size.

Their agreement with PyTorch Geometric is in `test_graph_parity.py`.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.graph import (
    AttentionGraphPooling,
    GATConv,
    GatedGraphConv,
    GCNConv,
    GraphPooling,
    SAGEConv,
    add_remaining_self_loops,
    add_self_loops,
    gcn_normalization,
    propagate,
    remove_self_loops,
    scatter,
    segment_softmax,
)
from tests import harness

RNG = np.random.default_rng(0)

# 6 nodes, 10 edges (source row, target row): a self-loop on 1, 0 -> 1 twice, 3 -> 4 without
# its reverse, node 5 with no edges at all.
X = RNG.normal(size=(6, 4)).astype("float32")
EDGE_INDEX = np.array([[0, 1, 1, 2, 3, 3, 4, 0, 2, 1], [1, 0, 1, 3, 2, 4, 3, 1, 0, 2]], "int32")
EDGE_WEIGHT = RNG.uniform(0.5, 2.0, size=10).astype("float32")
EDGE_TYPE = (np.arange(10) % 2).astype("int32")
GRAPH_IDS = np.array([0, 0, 0, 1, 1, 2], "int32")

CONVS = [
    (GCNConv, {"units": 3}),
    (GATConv, {"units": 3, "heads": 2}),
    (GATConv, {"units": 3, "heads": 2, "concat": False, "v2": True}),
    (SAGEConv, {"units": 3}),
    (SAGEConv, {"units": 3, "aggregator": "max_pool"}),
    (SAGEConv, {"units": 3, "aggregator": "lstm"}),
    (GatedGraphConv, {"units": 5, "num_steps": 2}),
]
CONV_IDS = ["gcn", "gat", "gatv2_mean", "sage_mean", "sage_max_pool", "sage_lstm", "gated"]


def randomize(layer, seed=1):
    """Weights drawn larger than the init's (biases too), so every term shows in the output."""
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(0, 0.5, size=w.shape).astype("float32") for w in layer.weights])
    return layer


def built(cls, kwargs, *inputs, **call_kwargs):
    layer = cls(**kwargs)
    layer(*inputs, **call_kwargs)
    return randomize(layer)


# ----------------------------------------------------------------------------- shared checks


# name: (class, arguments, inputs after node_features, output shape or None for readouts)
SHARED_CHECKS = {
    "gcn": (
        GCNConv,
        {"units": 3, "improved": True, "activation": "relu"},
        [EDGE_INDEX, EDGE_WEIGHT],
        (6, 3),
    ),
    "gat": (GATConv, {"units": 3, "heads": 2, "dropout": 0.2, "seed": 3}, [EDGE_INDEX], (6, 6)),
    "sage_max_pool": (
        SAGEConv,
        {"units": 3, "aggregator": "max_pool", "normalize": True},
        [EDGE_INDEX],
        (6, 3),
    ),
    # The padded neighbour sequences have a data-dependent size: no XLA (run_jit=False below).
    "sage_lstm": (SAGEConv, {"units": 3, "aggregator": "lstm"}, [EDGE_INDEX], (6, 3)),
    "gated": (
        GatedGraphConv,
        {"units": 5, "num_steps": 2, "num_edge_types": 2},
        [EDGE_INDEX, EDGE_TYPE],
        (6, 5),
    ),
    "pool_max": (GraphPooling, {"mode": "max"}, [GRAPH_IDS], None),
    "pool_attention": (AttentionGraphPooling, {}, [GRAPH_IDS], None),
}


@pytest.mark.parametrize("name", list(SHARED_CHECKS))
def test_shared_checks(name):
    """The harness once per class (twice for SAGEConv: "lstm" does not compile with XLA),
    with the options that change the graph most; the graph is one unsplit batch."""
    cls, kwargs, others, shape = SHARED_CHECKS[name]
    options = {"expected_output_shape": shape, "run_jit": kwargs.get("aggregator") != "lstm"}
    if shape is None:
        # Readouts: the symbolic output has num_graphs rows, not the harness's (None, F).
        options["call_kwargs"] = {"num_graphs": 4}
        if cls is GraphPooling:  # no weights: nothing to train
            options.update(run_training=False, run_distributed=False)
    harness.run_layer_test(cls, kwargs, [X, *others], whole_batch=True, **options)


def test_gatv2_and_sage_mean_compile_with_xla():
    """The options the harness run above does not reach: eager == tf.function == XLA."""
    for cls, kwargs in [
        (GATConv, {"units": 3, "heads": 2, "concat": False, "v2": True}),
        (SAGEConv, {"units": 3, "aggregator": "mean", "root_weight": False}),
        (GCNConv, {"units": 3, "normalize": False, "add_self_loops": False}),
        (GatedGraphConv, {"units": 4, "aggregator": "max"}),
        (GraphPooling, {"mode": "mean"}),
    ]:
        pooling = cls is GraphPooling
        second = GRAPH_IDS if pooling else EDGE_INDEX
        extra = {"num_graphs": 3} if pooling else {}
        layer = built(cls, kwargs, X, second, **extra)
        eager = layer(X, second, **extra)
        for jit in (False, True):
            fn = tf.function(lambda x, e, f=layer, k=extra: f(x, e, **k), jit_compile=jit)
            np.testing.assert_allclose(fn(X, second), eager, atol=1e-5, err_msg=f"{cls} {jit}")


def test_lstm_aggregator_declares_and_explains_that_it_does_not_compile_with_xla():
    layer = built(SAGEConv, {"units": 3, "aggregator": "lstm"}, X, EDGE_INDEX)
    assert not layer.supports_jit and SAGEConv(3).supports_jit
    with pytest.raises(ValueError, match=r"SAGEConv\(aggregator='lstm'\).*does not compile"):
        tf.function(lambda x, e: layer(x, e), jit_compile=True)(X, EDGE_INDEX)
    # A model holding it: Keras compiles without XLA (with its warning) and trains.
    inputs = [keras.Input(batch_shape=(None, 4)), keras.Input(batch_shape=(2, None), dtype="int32")]
    model = keras.Model(inputs, layer(*inputs))
    with pytest.warns(UserWarning, match="jit_compile"):
        model.compile("sgd", "mse", jit_compile=True)
    assert model.jit_compile is False


# ----------------------------------------------------------------------------- call styles


@pytest.mark.parametrize("cls, kwargs", CONVS, ids=CONV_IDS)
def test_separate_and_list_inputs_agree(cls, kwargs):
    layer = built(cls, kwargs, X, EDGE_INDEX)
    np.testing.assert_array_equal(layer(X, EDGE_INDEX), layer([X, EDGE_INDEX]))
    symbolic = layer(keras.Input((4,)), keras.Input((None,), batch_size=2, dtype="int32"))
    assert tuple(symbolic.shape) == (None, layer(X, EDGE_INDEX).shape[1])


def test_functional_graph_classifier_saves_and_reloads(tmp_path):
    """Positional graph inputs in a functional model; `num_graphs` from a symbolic size."""
    x_in = keras.Input((4,), name="node_features")
    edges = keras.Input((None,), batch_size=2, dtype="int32", name="edge_index")
    ids = keras.Input((), dtype="int32", name="graph_ids")
    sizes = keras.Input((), dtype="int32", name="graph_sizes")
    h = GCNConv(8, activation="relu")(x_in, edges)
    h = SAGEConv(8)(h, edges)
    pooled = AttentionGraphPooling()(h, ids, keras.ops.size(sizes))
    model = keras.Model([x_in, edges, ids, sizes], keras.layers.Dense(2)(pooled))
    data = [X, EDGE_INDEX, GRAPH_IDS, np.array([3, 2, 1], "int32")]
    out = model(data)
    assert out.shape == (3, 2)
    path = tmp_path / "graph.keras"
    model.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path)(data), out, atol=1e-6)


def test_cached_normalization_matches_normalizing_layers():
    """`gcn_normalization` once, then layers with normalize=False, as the docstring says."""
    layer = built(GCNConv, {"units": 3}, X, EDGE_INDEX, EDGE_WEIGHT)
    plain = GCNConv(3, normalize=False, add_self_loops=False)
    edge_index, edge_weight = gcn_normalization(EDGE_INDEX, 6, EDGE_WEIGHT)
    plain(X, edge_index, edge_weight)
    plain.set_weights(layer.get_weights())
    expected = layer(X, EDGE_INDEX, EDGE_WEIGHT)
    np.testing.assert_allclose(plain(X, edge_index, edge_weight), expected, atol=1e-6)
    normalized = tf.function(gcn_normalization, jit_compile=True)(EDGE_INDEX, 6, EDGE_WEIGHT)
    np.testing.assert_allclose(normalized[1], edge_weight, atol=1e-6)


# ----------------------------------------------------------------------------- numbers


def test_gcn_matches_hand_computation():
    """Path 0 - 1 - 2 with self-loops: degrees 2, 3, 2; `A_hat[i, j] = 1 / sqrt(d_i d_j)`."""
    x = np.array([[1.0], [2.0], [3.0]], "float32")
    edge_index = np.array([[0, 1, 1, 2], [1, 0, 2, 1]])
    layer = GCNConv(1, kernel_initializer="ones", bias_initializer="zeros")
    s6 = math.sqrt(6.0)
    expected = [[1 / 2 + 2 / s6], [1 / s6 + 2 / 3 + 3 / s6], [2 / s6 + 3 / 2]]
    np.testing.assert_allclose(layer(x, edge_index), expected, rtol=1e-6)
    # improved: new self-loops weigh 2, so the degrees are 3, 4, 3.
    improved = GCNConv(1, improved=True, kernel_initializer="ones")
    expected = [
        [2 / 3 + 2 / math.sqrt(12)],
        [1 / math.sqrt(12) + 2 * 2 / 4 + 3 / math.sqrt(12)],
        [2 / math.sqrt(12) + 2 * 3 / 3],
    ]
    np.testing.assert_allclose(improved(x, edge_index), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "cls, kwargs, width",
    [
        (GATConv, {"units": 3, "heads": 4}, 12),
        (GATConv, {"units": 3, "heads": 4, "concat": False}, 3),
        (GATConv, {"units": 3, "heads": 4, "v2": True}, 12),
        (SAGEConv, {"units": 5, "aggregator": "max"}, 5),
        (SAGEConv, {"units": 5, "aggregator": "lstm", "project": True}, 5),
        (GatedGraphConv, {"units": 7, "num_edge_types": 2}, 7),
    ],
)
def test_output_shapes(cls, kwargs, width):
    layer = cls(**kwargs)
    extra = {"edge_type": EDGE_TYPE} if kwargs.get("num_edge_types", 1) > 1 else {}
    out = layer(X, EDGE_INDEX, **extra)
    assert out.shape == (6, width)
    assert layer.compute_output_shape((6, 4)) == (6, width)


@pytest.mark.parametrize("cls, kwargs", CONVS, ids=CONV_IDS)
def test_relabelling_nodes_permutes_outputs(cls, kwargs):
    layer = built(cls, kwargs, X, EDGE_INDEX)
    permutation = np.random.default_rng(5).permutation(6)  # new node i is old node p[i]
    new_id = np.argsort(permutation)
    relabelled = layer(X[permutation], new_id[EDGE_INDEX])
    np.testing.assert_allclose(relabelled, np.asarray(layer(X, EDGE_INDEX))[permutation], atol=1e-5)


@pytest.mark.parametrize("cls, kwargs", CONVS[:-2] + CONVS[-1:], ids=CONV_IDS[:-2] + ["gated"])
def test_edge_order_does_not_matter(cls, kwargs):
    """Except for the LSTM aggregator, which reads each node's neighbours in edge order."""
    layer = built(cls, kwargs, X, EDGE_INDEX)
    order = np.random.default_rng(7).permutation(EDGE_INDEX.shape[1])
    np.testing.assert_allclose(layer(X, EDGE_INDEX[:, order]), layer(X, EDGE_INDEX), atol=1e-5)


def test_lstm_aggregator_sorts_edges_stably_by_target():
    """Any edge order gives the result of the target-sorted order (what PyG requires)."""
    layer = built(SAGEConv, {"units": 3, "aggregator": "lstm"}, X, EDGE_INDEX)
    by_target = EDGE_INDEX[:, np.argsort(EDGE_INDEX[1], kind="stable")]
    np.testing.assert_allclose(layer(X, EDGE_INDEX), layer(X, by_target), atol=1e-6)
    graph = tf.function(lambda x, e: layer(x, e))(X, EDGE_INDEX)
    np.testing.assert_allclose(graph, layer(X, EDGE_INDEX), atol=1e-6)


# Narrower than the 4 features (projected before the mean), and wider.
@pytest.mark.parametrize("units", [2, 6])
def test_sage_mean_matches_the_definition_by_hand(units):
    layer = built(SAGEConv, {"units": units}, X, EDGE_INDEX)
    w_l, b, w_r = (
        keras.ops.convert_to_numpy(w)
        for w in (layer.neighbor_kernel, layer.bias, layer.root_kernel)
    )
    mean = np.zeros_like(X)
    for target in range(6):
        sources = EDGE_INDEX[0][EDGE_INDEX[1] == target]
        if len(sources):
            mean[target] = X[sources].mean(axis=0)
    want = mean @ w_l + b + X @ w_r
    np.testing.assert_allclose(layer(X, EDGE_INDEX), want, rtol=1e-5, atol=1e-5)


def test_isolated_node_gets_bias_or_root_term_only():
    isolated = 5  # no edges at all
    x_isolated = X[isolated : isolated + 1]
    gcn = built(GCNConv, {"units": 3, "add_self_loops": False, "normalize": True}, X, EDGE_INDEX)
    np.testing.assert_allclose(gcn(X, EDGE_INDEX)[isolated], gcn.bias.numpy(), atol=1e-6)
    # With self-loops (the default) its degree is 1: x W + b.
    looped = built(GCNConv, {"units": 3}, X, EDGE_INDEX)
    expected = x_isolated @ looped.kernel.numpy() + looped.bias.numpy()
    np.testing.assert_allclose(looped(X, EDGE_INDEX)[isolated], expected[0], atol=1e-6)
    sage = built(SAGEConv, {"units": 3}, X, EDGE_INDEX)
    expected = x_isolated @ sage.root_kernel.numpy() + sage.bias.numpy()
    np.testing.assert_allclose(sage(X, EDGE_INDEX)[isolated], expected[0], atol=1e-6)
    # GAT: attends to its own self-loop only.
    gat = built(GATConv, {"units": 3, "heads": 2}, X, EDGE_INDEX)
    expected = x_isolated @ gat.kernel.numpy() + gat.bias.numpy()
    np.testing.assert_allclose(gat(X, EDGE_INDEX)[isolated], expected[0], atol=1e-6)
    no_loops = built(GATConv, {"units": 3, "heads": 2, "add_self_loops": False}, X, EDGE_INDEX)
    np.testing.assert_allclose(no_loops(X, EDGE_INDEX)[isolated], no_loops.bias.numpy(), atol=1e-6)


def test_gated_graph_conv_with_one_edge_type_per_step_matrix():
    """Typed messages with equal matrices for both types equal untyped messages."""
    typed = built(GatedGraphConv, {"units": 5, "num_edge_types": 2}, X, EDGE_INDEX, EDGE_TYPE)
    kernel = typed.kernel.numpy()
    kernel[:, 1] = kernel[:, 0]
    typed.kernel.assign(kernel)
    plain = GatedGraphConv(5)
    plain(X, EDGE_INDEX)
    plain.set_weights([kernel[:, :1]] + typed.get_weights()[1:])
    np.testing.assert_allclose(typed(X, EDGE_INDEX, EDGE_TYPE), plain(X, EDGE_INDEX), atol=1e-6)
    # Edge weights scale the messages: weight 0 everywhere = no edges.
    zero = np.zeros(10, "float32")
    empty = np.zeros((2, 0), "int32")
    np.testing.assert_allclose(plain(X, EDGE_INDEX, edge_weight=zero), plain(X, empty), atol=1e-6)


def test_float16_attention_softmax_is_stable():
    with harness.dtype_policy("mixed_float16"):
        layer = GATConv(3, heads=2, kernel_initializer=keras.initializers.Constant(30.0))
        out = layer(X * 10, EDGE_INDEX)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(out)))


# ----------------------------------------------------------------------------- readouts


def test_readouts_match_numpy():
    x = RNG.normal(size=(6, 4)).astype("float32") - 3.0  # all negative: max must not be 0
    ids = np.array([0, 0, 2, 2, 2, 0], "int32")  # graph 1 and 3 are empty
    expected = {
        "sum": np.stack(
            [x[ids == g].sum(0) if (ids == g).any() else np.zeros(4) for g in range(4)]
        ),
        "mean": np.stack(
            [x[ids == g].mean(0) if (ids == g).any() else np.zeros(4) for g in range(4)]
        ),
        "max": np.stack(
            [x[ids == g].max(0) if (ids == g).any() else np.zeros(4) for g in range(4)]
        ),
    }
    for mode, want in expected.items():
        np.testing.assert_allclose(GraphPooling(mode)(x, ids, 4), want, rtol=1e-6, err_msg=mode)
    pool = AttentionGraphPooling(bias_initializer="ones")
    out = pool(x, ids, num_graphs=tf.constant(4))
    gate = x @ pool.gate_kernel.numpy()[:, 0] + 1.0
    want = np.zeros((4, 4))
    for g in (0, 2):
        weights = np.exp(gate[ids == g] - gate[ids == g].max())
        want[g] = (weights / weights.sum()) @ x[ids == g]
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)
    assert GraphPooling().compute_output_shape((6, 4)) == (None, 4)


# ----------------------------------------------------------------------------- helpers


def test_scatter_reductions_give_zero_for_empty_segments():
    values = tf.constant([[1.0], [3.0], [-2.0]])
    index = tf.constant([2, 2, 0])
    np.testing.assert_allclose(scatter(values, index, 4, "sum"), [[-2], [0], [4], [0]])
    np.testing.assert_allclose(scatter(values, index, 4, "mean"), [[-2], [0], [2], [0]])
    np.testing.assert_allclose(scatter(values, index, 4, "max"), [[-2], [0], [3], [0]])
    with pytest.raises(ValueError, match="reduce='min'"):
        scatter(values, index, 4, "min")


def _propagate_by_hand(values, weight, reduce):
    """NumPy: a loop over the edges of `EDGE_INDEX`."""
    out = np.zeros((6, *values.shape[1:]), "float64")
    count = np.zeros(6)
    for e, (source, target) in enumerate(EDGE_INDEX.T):
        factor = 1.0 if weight is None else weight[e].reshape(weight.shape[1:] + (1,))
        out[target] += factor * values[source]
        count[target] += 1
    if reduce == "mean":
        out /= np.maximum(count, 1).reshape((6,) + (1,) * (values.ndim - 1))
    return out


@pytest.mark.parametrize("reduce", ["sum", "mean"])
@pytest.mark.parametrize("weights", [None, "per edge", "per edge and head"])
def test_propagate_sparse_product_and_xla_segment_path_agree(reduce, weights):
    """Outside XLA `propagate` is one sparse-dense matmul, inside `jit_compile` gather +
    segment sums: same values and same gradients, for every weight layout."""
    heads = weights == "per edge and head"
    values = RNG.normal(size=(6, 3, 2) if heads else (6, 2)).astype("float32")
    weight = {
        None: None,
        "per edge": EDGE_WEIGHT,
        "per edge and head": RNG.uniform(0.5, 2.0, size=(10, 3)).astype("float32"),
    }[weights]
    probe = tf.constant(RNG.normal(size=(6, *values.shape[1:])).astype("float32"))

    def run(values, weight):
        with tf.GradientTape() as tape:
            tape.watch(values)
            if weight is not None:
                tape.watch(weight)
            out = propagate(values, EDGE_INDEX, 6, weight, reduce)
            loss = tf.reduce_sum(out * probe)
        grads = tape.gradient(loss, [values] + ([] if weight is None else [weight]))
        return out, [tf.convert_to_tensor(grad) for grad in grads]

    args = (tf.constant(values), None if weight is None else tf.constant(weight))
    graph = tf.function(run).get_concrete_function(*args).graph
    assert "SparseTensorDenseMatMul" in {op.type for op in graph.get_operations()}
    out, grads = run(*args)
    xla_out, xla_grads = tf.function(run, jit_compile=True)(*args)
    np.testing.assert_allclose(out, _propagate_by_hand(values, weight, reduce), rtol=1e-5)
    np.testing.assert_allclose(xla_out, out, rtol=1e-5, atol=1e-6)
    for grad, xla_grad in zip(grads, xla_grads, strict=True):
        np.testing.assert_allclose(xla_grad, grad, rtol=1e-5, atol=1e-6)


def test_segment_softmax_is_stable_and_masks():
    logits = tf.constant([1000.0, 1000.0, -1000.0, 5.0])
    ids = tf.constant([0, 0, 1, 1])
    np.testing.assert_allclose(segment_softmax(logits, ids, 3), [0.5, 0.5, 0.0, 1.0], atol=1e-7)
    masked = segment_softmax(logits, ids, 3, mask=tf.constant([True, False, True, False]))
    np.testing.assert_allclose(masked, [1.0, 0.0, 1.0, 0.0])
    half = segment_softmax(tf.cast(logits, "float16"), ids, 3)
    assert half.dtype == tf.float16
    np.testing.assert_allclose(half, [0.5, 0.5, 0.0, 1.0], atol=1e-3)


def test_self_loop_helpers_follow_pyg():
    edge_index = np.array([[0, 1, 1, 2], [1, 1, 2, 2]])
    weight = np.array([1.0, 5.0, 2.0, 7.0], "float32")
    index, w = remove_self_loops(edge_index, weight)
    np.testing.assert_array_equal(index, [[0, 1], [1, 2]])
    np.testing.assert_array_equal(w, [1.0, 2.0])
    index, w = add_self_loops(edge_index, weight, num_nodes=3, fill_value=0.5)
    np.testing.assert_array_equal(index, [[0, 1, 1, 2, 0, 1, 2], [1, 1, 2, 2, 0, 1, 2]])
    np.testing.assert_array_equal(w, [1.0, 5.0, 2.0, 7.0, 0.5, 0.5, 0.5])
    # Existing loops move to the end and keep their weight; node 0 gets fill_value.
    index, w = add_remaining_self_loops(edge_index, weight, num_nodes=3, fill_value=2.0)
    np.testing.assert_array_equal(index, [[0, 1, 0, 1, 2], [1, 2, 0, 1, 2]])
    np.testing.assert_array_equal(w, [1.0, 2.0, 2.0, 5.0, 7.0])
    index, w = add_remaining_self_loops(edge_index, None, num_nodes=3)
    assert w is None and index.shape == (2, 5)
    # Two loops on one node: the last one's weight (GCN's normalisation does the same).
    twice = np.array([[1, 0, 1], [1, 1, 1]])
    _, w = add_remaining_self_loops(twice, np.array([5.0, 1.0, 3.0]), num_nodes=2)
    np.testing.assert_array_equal(w, [1.0, 1.0, 3.0])
    _, w = gcn_normalization(twice, 2, np.array([5.0, 1.0, 3.0]))
    # In-degrees with the loops: node 0 has 1 (its new loop), node 1 has 1 + 3 = 4.
    np.testing.assert_allclose(w, [0.0, 1.0 / 2.0, 0.0, 1.0, 3.0 / 4.0], rtol=1e-6)


# ----------------------------------------------------------------------------- traced graph


def assert_no_quadratic_tensor(fn, signature, num_nodes):
    """No tensor of the traced graph has two dimensions of `num_nodes` or more (unknown
    dimensions count as large)."""
    graph = fn.get_concrete_function(*signature).graph
    for op in graph.get_operations():
        for tensor in op.outputs:
            if tensor.shape.rank is None:
                continue
            large = [d for d in tensor.shape if d is None or d >= num_nodes]
            assert len(large) < 2, f"{op.name} outputs {tensor.shape}"


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        (GCNConv, {"units": 4}),
        (GATConv, {"units": 4, "heads": 2, "dropout": 0.1}),
        (GATConv, {"units": 4, "heads": 2, "v2": True}),
        (SAGEConv, {"units": 4, "aggregator": "mean"}),
    ],
    ids=["gcn", "gat", "gatv2", "sage_mean"],
)
def test_no_dense_num_nodes_squared_tensor_in_the_traced_graph(cls, kwargs):
    nodes, edges = 300, 240  # fewer edges than nodes: an [E, N] tensor would show too
    layer = cls(**kwargs)
    fn = tf.function(lambda x, e: layer(x, e, training=True) if cls is GATConv else layer(x, e))
    signature = (tf.TensorSpec((nodes, 8)), tf.TensorSpec((2, edges), tf.int32))
    assert_no_quadratic_tensor(fn, signature, min(nodes, edges))


# ----------------------------------------------------------------------------- errors


def test_argument_errors():
    with pytest.raises(ValueError, match="units=0"):
        GCNConv(0)
    with pytest.raises(ValueError, match="add_self_loops=True, normalize=False"):
        GCNConv(4, normalize=False)
    with pytest.raises(TypeError, match="improved='yes'"):
        GCNConv(4, improved="yes")
    with pytest.raises(ValueError, match="heads=0"):
        GATConv(4, heads=0)
    with pytest.raises(ValueError, match="dropout=1.5"):
        GATConv(4, dropout=1.5)
    with pytest.raises(ValueError, match="negative_slope=-0.1"):
        GATConv(4, negative_slope=-0.1)
    with pytest.raises(TypeError, match="v2=1"):
        GATConv(4, v2=1)
    with pytest.raises(ValueError, match="aggregator='sum'"):
        SAGEConv(4, aggregator="sum")
    with pytest.raises(TypeError, match="root_weight=None"):
        SAGEConv(4, root_weight=None)
    with pytest.raises(ValueError, match="num_steps=0"):
        GatedGraphConv(4, num_steps=0)
    with pytest.raises(ValueError, match="num_edge_types=0"):
        GatedGraphConv(4, num_edge_types=0)
    with pytest.raises(ValueError, match="aggregator='lstm'"):
        GatedGraphConv(4, aggregator="lstm")
    with pytest.raises(ValueError, match="mode='median'"):
        GraphPooling("median")


@pytest.mark.parametrize("cls, kwargs", CONVS, ids=CONV_IDS)
def test_bad_edge_index_and_node_features(cls, kwargs):
    layer = cls(**kwargs)
    negative = EDGE_INDEX.copy()
    negative[0, 3] = -1
    with pytest.raises(ValueError, match="edge_index.*value -1"):
        layer(X, negative)
    outside = EDGE_INDEX.copy()
    outside[1, 4] = 6
    with pytest.raises(ValueError, match="edge_index.*value 6"):
        layer(X, outside)
    with pytest.raises(ValueError, match=r"edge_index\.dtype=float32"):
        layer(X, EDGE_INDEX.astype("float32"))
    with pytest.raises(ValueError, match=r"edge_index\.shape=\(3, 10\)"):
        layer(X, np.concatenate([EDGE_INDEX, EDGE_INDEX[:1]]))
    with pytest.raises(ValueError, match=r"node_features\.shape=\(2, 6, 4\)"):
        layer(np.stack([X, X]), EDGE_INDEX)


def test_static_checks_in_graph_mode_and_functional_models():
    layer = GCNConv(3)
    float_spec = (tf.TensorSpec((6, 4)), tf.TensorSpec((2, None), tf.float32))
    with pytest.raises(ValueError, match=r"edge_index\.dtype=float32"):
        tf.function(lambda x, e: layer(x, e)).get_concrete_function(*float_spec)
    with pytest.raises(ValueError, match=r"edge_index\.dtype=float32"):
        GATConv(3)(keras.Input((4,)), keras.Input((None,), batch_size=2))
    with pytest.raises(ValueError, match=r"node_features\.shape=\(None, 4, 2\)"):
        SAGEConv(3)(keras.Input((4, 2)), keras.Input((None,), batch_size=2, dtype="int32"))
    with pytest.raises(ValueError, match=r"edge_weight\.shape=\(4,\)"):
        layer(X, EDGE_INDEX, np.ones(4, "float32"))
    # Traced with unknown values, ids are not checked (XLA-friendly): no error at trace time.
    spec = (tf.TensorSpec((6, 4)), tf.TensorSpec((2, None), tf.int32))
    tf.function(lambda x, e: layer(x, e)).get_concrete_function(*spec)


def test_gated_graph_conv_input_errors():
    with pytest.raises(ValueError, match="units=3 for node_features with 4 features"):
        GatedGraphConv(3)(X, EDGE_INDEX)
    typed = GatedGraphConv(4, num_edge_types=2)
    with pytest.raises(ValueError, match="edge_type=None"):
        typed(X, EDGE_INDEX)
    bad = EDGE_TYPE.copy()
    bad[2] = 2
    with pytest.raises(ValueError, match="edge_type with value 2"):
        typed(X, EDGE_INDEX, bad)
    with pytest.raises(ValueError, match=r"edge_type\.dtype=float32"):
        typed(X, EDGE_INDEX, EDGE_TYPE.astype("float32"))
    with pytest.raises(ValueError, match="num_edge_types=1"):
        GatedGraphConv(4)(X, EDGE_INDEX, EDGE_TYPE)


def test_readout_input_errors():
    pool = GraphPooling()
    with pytest.raises(ValueError, match="num_graphs=None"):
        pool(X, GRAPH_IDS)
    with pytest.raises(ValueError, match="num_graphs=-1"):
        pool(X, GRAPH_IDS, -1)
    with pytest.raises(ValueError, match="graph_ids with value 2"):
        pool(X, GRAPH_IDS, 2)
    with pytest.raises(ValueError, match=r"graph_ids\.dtype=float32"):
        pool(X, GRAPH_IDS.astype("float32"), 3)
    with pytest.raises(ValueError, match=r"graph_ids\.shape=\(5,\)"):
        pool(X, GRAPH_IDS[:5], 3)
    with pytest.raises(ValueError, match="a list of 3 inputs"):
        pool([X, GRAPH_IDS, GRAPH_IDS], num_graphs=3)
