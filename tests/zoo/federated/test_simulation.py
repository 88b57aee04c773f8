"""Flower's simulation engine (Ray) with `KerasClient`s: the FedAvg aggregate against NumPy,
a crashing client, SecAgg+ (masked uploads, the same aggregate, a drop-out within threshold)."""

import functools

import numpy as np
import pytest
from flwr.common import bytes_to_ndarray, parameters_to_ndarrays
from flwr.common.secure_aggregation.secaggplus_constants import Key
from flwr.compat.common.recorddict_compat import arrayrecord_to_parameters
from flwr.server import LegacyContext, ServerApp, ServerConfig
from flwr.server.workflow import DefaultWorkflow
from flwr.server.workflow.constant import MAIN_PARAMS_RECORD
from flwr.simulation import run_simulation

import zoo
from zoo.federated import (
    CLIENT_MODS,
    KerasClient,
    client_app,
    get_weights,
    make_strategy,
    partition,
    secagg_workflow,
    simulate,
)

pytestmark = pytest.mark.slow

# Partial of a module-level function: picklable by reference into Ray's workers.
MODEL_FN = functools.partial(zoo.create, "mlp_digits", hidden_units=(8,), dropout=0.0)
BACKEND = {"client_resources": {"num_cpus": 1.0, "num_gpus": 0.0}, "init_args": {"num_cpus": 1}}


def _shards(num_clients, size=40):
    digits = zoo.datasets.load_digits(dtype="float32")
    x, y = digits.train.x.reshape(-1, 64)[: num_clients * size], digits.train.y
    shards = partition(x, y[: len(x)], num_clients, seed=0)
    # The last client's data does not fit the model (63 features): its fit raises.
    broken_x, broken_y = shards[-1]
    shards[-1] = (broken_x[:, :63], broken_y)
    return shards


def _fedavg_round(weights, shards):
    """One FedAvg round in NumPy over the clients' real local fits (full batch: no shuffle)."""
    client = KerasClient(MODEL_FN(), shards[0])
    updates, counts = [], []
    for shard in shards:
        client.train = shard
        new, n, _ = client.fit(weights, {"batch_size": 64})
        updates.append(new)
        counts.append(n)
    counts = np.array(counts, np.float64)
    return [
        sum(c * u[i] for c, u in zip(counts, updates, strict=True)) / counts.sum()
        for i in range(len(weights))
    ]


def test_fedavg_rounds_equal_numpy_fedavg_and_a_crashing_client_is_left_out():
    shards = _shards(3)
    start = get_weights(MODEL_FN())
    history = simulate(
        MODEL_FN,
        shards,
        num_rounds=2,
        batch_size=64,
        min_clients=3,
        initial_weights=start,
        cpus=1,
    )
    expected = _fedavg_round(_fedavg_round(start, shards[:2]), shards[:2])
    for got, want in zip(history.weights, expected, strict=True):
        np.testing.assert_allclose(got, want, atol=2e-5)
    assert [r["round"] for r in history.rounds] == [1, 2]
    assert all(np.isfinite(r["fit_loss"]) and np.isfinite(r["loss"]) for r in history.rounds)


class RecordingGrid:
    """Flower's grid, recording every reply the server receives."""

    def __init__(self, grid):
        self._grid = grid
        self.replies = []

    def send_and_receive(self, messages, *args, **kwargs):
        replies = list(self._grid.send_and_receive(messages, *args, **kwargs))
        self.replies.extend(replies)
        return replies

    def __getattr__(self, name):
        return getattr(self._grid, name)


def test_secagg_plus_aggregate_equals_fedavg_and_the_server_sees_only_masked_vectors():
    shards = _shards(4)  # the 4th client drops out in the masked-upload stage
    start = get_weights(MODEL_FN())
    strategy = make_strategy(
        "fedavg",
        min_clients=4,
        batch_size=64,
        fraction_evaluate=0.0,
        initial_weights=start,
    )
    workflow = secagg_workflow(num_shares=4, reconstruction_threshold=3)
    result, grids = {}, []
    app = ServerApp()

    @app.main()
    def main(grid, context):
        grids.append(RecordingGrid(grid))
        legacy = LegacyContext(context, config=ServerConfig(num_rounds=1), strategy=strategy)
        DefaultWorkflow(fit_workflow=workflow)(grids[0], legacy)
        record = legacy.state.array_records[MAIN_PARAMS_RECORD]
        params = arrayrecord_to_parameters(record, keep_input=True)
        result["weights"] = parameters_to_ndarrays(params)

    clients = client_app(MODEL_FN, shards, batch_size=64, mods=CLIENT_MODS)
    run_simulation(app, clients, num_supernodes=4, backend_config=BACKEND)

    masked = []
    for reply in grids[0].replies:
        if reply.has_error():
            continue
        # No plain weights ever reach the server: the fit replies' parameter records are empty.
        assert all(len(r) == 0 for r in reply.content.array_records.values())
        for record in reply.content.config_records.values():
            if Key.MASKED_PARAMETERS in record:
                masked.append([bytes_to_ndarray(b) for b in record[Key.MASKED_PARAMETERS]])
    assert len(masked) == 3  # three uploads; the fourth client dropped out
    # The uploads are uniform over [0, 2**32) (the masks), while an unmasked upload (weight
    # factor and values quantised into [0, 2**22)) would stay below 2**23.
    values = np.concatenate([a.ravel() for vectors in masked for a in vectors]).astype(float)
    assert np.mean(values > 2**23) > 0.99
    np.testing.assert_allclose(values.mean() / 2**32, 0.5, atol=0.02)

    # The unmasked aggregate is FedAvg of the three survivors, up to the quantisation step.
    got = result["weights"]
    expected = _fedavg_round(start, shards[:3])
    counts = np.array([len(s[1]) for s in shards[:3]], np.float64)
    step = 2 * 8.0 / 2**22  # clipping_range 8, quantization_range 2**22
    tolerance = 3 * step * 1000.0 / counts.sum() + 1e-6  # 3 clients, max_weight 1000
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, atol=tolerance)
    assert any(not np.allclose(g, s0) for g, s0 in zip(got, start, strict=True))
