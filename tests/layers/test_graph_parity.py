"""Graph layers against PyTorch Geometric: the outputs of `tests/fixtures/pyg/`, to 1e-5.

`tests/fixtures/pyg/make_pyg_fixtures.py` wrote one `<case>.npz` per case with real PyG
(`versions.json`): inputs, the PyG module's parameters in torch layout (`param/<state_dict
key>`) and its output. Each test builds our layer, copies the parameters over (torch's
`Linear.weight` `[out, in]` becomes a keras kernel `[in, out]`) and compares outputs. The
graphs have isolated nodes, pre-existing self-loops, duplicate and one-way edges.
"""

import json
import os

import keras
import numpy as np
import pytest

from layers.graph import (
    AttentionGraphPooling,
    GATConv,
    GatedGraphConv,
    GCNConv,
    GraphPooling,
    SAGEConv,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "pyg")
with open(os.path.join(FIXTURES, "cases.json")) as f:
    CASES = json.load(f)
ATOL = 1e-5


def load(case: str):
    with np.load(os.path.join(FIXTURES, f"{case}.npz")) as data:
        arrays = {key: data[key] for key in data.files}
    params = {key[len("param/") :]: arrays.pop(key) for key in list(arrays) if "/" in key}
    return arrays, params, CASES[case]["kwargs"]


def assign(variable, value):
    assert tuple(variable.shape) == value.shape, (variable.path, variable.shape, value.shape)
    variable.assign(value)


def assert_matches(output, data):
    np.testing.assert_allclose(keras.ops.convert_to_numpy(output), data["output"], atol=ATOL)


# ----------------------------------------------------------------------------- GCNConv


@pytest.mark.parametrize(
    "case", ["gcn_default", "gcn_undirected", "gcn_edge_weight", "gcn_no_self_loops"]
)
def test_gcn_conv(case):
    data, params, kwargs = load(case)
    layer = GCNConv(kwargs["out_channels"], add_self_loops=kwargs.get("add_self_loops", True))
    inputs = [data["x"], data["edge_index"]]
    if "edge_weight" in data:
        inputs.append(data["edge_weight"])
    layer(*inputs)
    assign(layer.kernel, params["lin.weight"].T)
    assign(layer.bias, params["bias"])
    assert_matches(layer(*inputs), data)


# ----------------------------------------------------------------------------- GATConv


@pytest.mark.parametrize("case", ["gat_concat", "gat_mean", "gatv2_concat"])
def test_gat_conv(case):
    data, params, kwargs = load(case)
    v2 = CASES[case]["module"] == "GATv2Conv"
    layer = GATConv(kwargs["out_channels"], heads=kwargs["heads"], concat=kwargs["concat"], v2=v2)
    layer(data["x"], data["edge_index"])
    if v2:
        assign(layer.source_kernel, params["lin_l.weight"].T)
        assign(layer.source_bias, params["lin_l.bias"])
        assign(layer.target_kernel, params["lin_r.weight"].T)
        assign(layer.target_bias, params["lin_r.bias"])
        assign(layer.attention, params["att"][0])
    else:
        assign(layer.kernel, params["lin.weight"].T)
        assign(layer.attention_source, params["att_src"][0])
        assign(layer.attention_target, params["att_dst"][0])
    assign(layer.bias, params["bias"])
    assert_matches(layer(data["x"], data["edge_index"]), data)


# ----------------------------------------------------------------------------- SAGEConv

SAGE_AGGREGATORS = {("mean", False): "mean", ("max", True): "max_pool", ("lstm", False): "lstm"}


@pytest.mark.parametrize(
    "case", ["sage_mean", "sage_max_pool", "sage_lstm", "sage_mean_normalize_no_root"]
)
def test_sage_conv(case):
    data, params, kwargs = load(case)
    aggregator = SAGE_AGGREGATORS[kwargs["aggr"], kwargs.get("project", False)]
    layer = SAGEConv(
        kwargs["out_channels"],
        aggregator=aggregator,
        normalize=kwargs.get("normalize", False),
        root_weight=kwargs.get("root_weight", True),
    )
    layer(data["x"], data["edge_index"])
    assign(layer.neighbor_kernel, params.pop("lin_l.weight").T)
    assign(layer.bias, params.pop("lin_l.bias"))
    if layer.root_weight:
        assign(layer.root_kernel, params.pop("lin_r.weight").T)
    if aggregator == "max_pool":
        assign(layer.projection_kernel, params.pop("lin.weight").T)
        assign(layer.projection_bias, params.pop("lin.bias"))
    if aggregator == "lstm":
        # torch's gate order (i, f, g, o) is keras's (i, f, c, o); its two biases add up.
        lstm = {k.split(".")[-1]: params.pop(k) for k in list(params) if "lstm" in k}
        cell = layer.lstm.cell
        assign(cell.kernel, lstm["weight_ih_l0"].T)
        assign(cell.recurrent_kernel, lstm["weight_hh_l0"].T)
        assign(cell.bias, lstm["bias_ih_l0"] + lstm["bias_hh_l0"])
    assert not params, f"parameters left unused: {sorted(params)}"
    assert_matches(layer(data["x"], data["edge_index"]), data)


# ----------------------------------------------------------------------------- GatedGraphConv


@pytest.mark.parametrize("case", ["gated", "gated_undirected"])
def test_gated_graph_conv(case):
    data, params, kwargs = load(case)
    layer = GatedGraphConv(kwargs["out_channels"], num_steps=kwargs["num_layers"])
    layer(data["x"], data["edge_index"])
    # PyG's `weight[t]` is used as `h @ weight[t]`: no transpose; one edge type.
    assign(layer.kernel, params["weight"][:, None])
    # torch's GRUCell gates (r, z, n) are ours, in the same order.
    assign(layer.gru_kernel, params["rnn.weight_ih"].T)
    assign(layer.gru_recurrent_kernel, params["rnn.weight_hh"].T)
    assign(layer.gru_bias, params["rnn.bias_ih"])
    assign(layer.gru_recurrent_bias, params["rnn.bias_hh"])
    assert_matches(layer(data["x"], data["edge_index"]), data)


# ----------------------------------------------------------------------------- readouts


@pytest.mark.parametrize(
    "case, mode", [("pool_sum", "sum"), ("pool_mean", "mean"), ("pool_max", "max")]
)
def test_graph_pooling(case, mode):
    data, _, _ = load(case)
    num_graphs = int(data["num_graphs"])
    assert_matches(GraphPooling(mode)(data["x"], data["batch"], num_graphs), data)


def test_attention_graph_pooling():
    data, params, _ = load("pool_attention")
    layer = AttentionGraphPooling()
    num_graphs = int(data["num_graphs"])
    layer(data["x"], data["batch"], num_graphs)
    assign(layer.gate_kernel, params["gate_nn.weight"].T)
    assign(layer.gate_bias, params["gate_nn.bias"])
    assert_matches(layer(data["x"], data["batch"], num_graphs), data)


def test_every_fixture_case_is_tested():
    tested = {
        "gcn_default", "gcn_undirected", "gcn_edge_weight", "gcn_no_self_loops",
        "gat_concat", "gat_mean", "gatv2_concat",
        "sage_mean", "sage_max_pool", "sage_lstm", "sage_mean_normalize_no_root",
        "gated", "gated_undirected",
        "pool_sum", "pool_mean", "pool_max", "pool_attention",
    }  # fmt: skip
    assert set(CASES) == tested
