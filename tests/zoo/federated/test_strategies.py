"""Flower's strategies on `KerasClient` results: FedAvg equals a NumPy weighted average,
failures, metrics averaging, DP-FedAvg clipping and noise, bad arguments."""

import keras
import numpy as np
import pytest
from flwr.common import Code, FitRes, Status, ndarrays_to_parameters, parameters_to_ndarrays

from zoo.federated import (
    KerasClient,
    get_weights,
    make_strategy,
    weighted_average,
    with_differential_privacy,
)


def _model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", run_eagerly=True)
    return model


def _shards(sizes=(8, 24, 40)):
    rng = np.random.default_rng(0)
    return [
        (rng.normal(size=(n, 4)).astype("float32"), rng.normal(size=(n, 3)).astype("float32"))
        for n in sizes
    ]


def _fits(start, shards):
    """Each client's real fit from `start`: `(weights, num_examples, metrics)`."""
    client = KerasClient(_model(), shards[0], batch_size=64)
    fits = []
    for shard in shards:
        client.train = shard
        fits.append(client.fit(start, {}))
    return fits


def _results(fits):
    """The fits as Flower's `FitRes` (fresh objects: strategies may modify them)."""
    return [
        (None, FitRes(Status(Code.OK, ""), ndarrays_to_parameters(w), n, metrics))
        for w, n, metrics in fits
    ]


@pytest.fixture(scope="module")
def start():
    return get_weights(_model())


@pytest.fixture(scope="module")
def fits(start):
    return _fits(start, _shards())


def _arrays(results):
    return [parameters_to_ndarrays(r.parameters) for _, r in results]


def test_fedavg_aggregate_is_the_example_weighted_mean_of_client_weights(fits):
    results = _results(fits)
    aggregated, metrics = make_strategy("fedavg").aggregate_fit(1, results, [])
    counts = np.array([r.num_examples for _, r in results], np.float64)
    for i, got in enumerate(parameters_to_ndarrays(aggregated)):
        expected = (
            sum(c * w[i] for c, w in zip(counts, _arrays(results), strict=True)) / counts.sum()
        )
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    losses = [r.metrics["loss"] for _, r in results]
    np.testing.assert_allclose(metrics["loss"], np.dot(counts, losses) / counts.sum())


def test_a_failed_client_is_left_out_when_failures_are_accepted(fits):
    results = _results(fits)
    failure = RuntimeError("client crashed")
    aggregated, _ = make_strategy("fedavg").aggregate_fit(1, results[:2], [failure])
    survivors = _arrays(results[:2])
    counts = [r.num_examples for _, r in results[:2]]
    expected = (counts[0] * survivors[0][0] + counts[1] * survivors[1][0]) / sum(counts)
    np.testing.assert_allclose(parameters_to_ndarrays(aggregated)[0], expected, rtol=1e-6)
    strict = make_strategy("fedavg", accept_failures=False)
    assert strict.aggregate_fit(1, results[:2], [failure])[0] is None


def test_weighted_average():
    got = weighted_average([(10, {"accuracy": 1.0, "loss": 2.0}), (30, {"accuracy": 0.0})])
    assert got == {"accuracy": 0.25, "loss": 2.0}


def test_server_side_dp_clips_each_update_then_adds_the_stated_noise(start, fits):
    clip = 0.05

    def aggregate(noise):
        strategy = with_differential_privacy(
            make_strategy("fedavg"),
            noise_multiplier=noise,
            clipping_norm=clip,
            num_sampled_clients=3,
        )
        # What `configure_fit` records when clients are connected: the round's global weights.
        strategy.current_round_params = start
        aggregated, _ = strategy.aggregate_fit(1, _results(fits), [])
        return parameters_to_ndarrays(aggregated)

    clipped = []
    for weights, _, _ in fits:
        update = [w - s for w, s in zip(weights, start, strict=True)]
        norm = np.sqrt(sum(float(np.sum(u**2)) for u in update))
        assert norm > clip  # the bound binds
        clipped.append([s + u * clip / norm for s, u in zip(start, update, strict=True)])
    counts = np.array([8, 24, 40], np.float64)
    for i, got in enumerate(aggregate(0.0)):
        expected = sum(c * w[i] for c, w in zip(counts, clipped, strict=True)) / counts.sum()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    keras.utils.set_random_seed(1)
    noisy = np.concatenate([a.ravel() for a in aggregate(2.0)])
    clean = np.concatenate([a.ravel() for a in aggregate(0.0)])
    std = 2.0 * clip / 3
    assert abs(np.std(noisy - clean) / std - 1) < 0.5  # 15 weights: a loose check on the scale


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="name='fedsgd'"):
        make_strategy("fedsgd")
    with pytest.raises(ValueError, match="initial_weights=None"):
        make_strategy("fedadam")
    with pytest.raises(ValueError, match="clipping_norm=0"):
        with_differential_privacy(
            make_strategy(), noise_multiplier=1.0, clipping_norm=0, num_sampled_clients=2
        )
    with pytest.raises(ValueError, match="noise_multiplier=-1"):
        with_differential_privacy(
            make_strategy(), noise_multiplier=-1, clipping_norm=1.0, num_sampled_clients=2
        )
    with pytest.raises(ValueError, match="proximal_mu=-0.5"):
        make_strategy("fedprox", proximal_mu=-0.5)


def test_the_command_line_offers_every_strategy():
    from zoo.cli.federated import STRATEGIES as CLI_STRATEGIES
    from zoo.federated import STRATEGIES

    assert CLI_STRATEGIES == STRATEGIES


def test_an_update_of_the_wrong_shape_is_rejected_by_name_and_the_rest_averaged(start, fits):
    results = _results(fits)
    bad = [w.copy() for w in fits[2][0]]
    bad[0] = np.zeros((5, 3), np.float32)
    results[2] = _results([(bad, fits[2][1], fits[2][2])])[0]
    strategy = make_strategy("fedavg", weight_names=["dense/kernel", "dense/bias"])
    # What `configure_fit` records when clients are connected: the round's global shapes.
    strategy.shapes = [w.shape for w in start]
    aggregated, _ = strategy.aggregate_fit(1, results, [])
    assert "`dense/kernel` has shape (4, 3) but the client sent (5, 3)" in strategy.rejected[0]
    survivors = _arrays(results[:2])
    counts = [r.num_examples for _, r in results[:2]]
    expected = (counts[0] * survivors[0][0] + counts[1] * survivors[1][0]) / sum(counts)
    np.testing.assert_allclose(parameters_to_ndarrays(aggregated)[0], expected, rtol=1e-6)
    strict = make_strategy("fedavg", accept_failures=False)
    strict.shapes = [w.shape for w in start]
    assert strict.aggregate_fit(1, _results(fits[:1]) + results[2:], [])[0] is None
