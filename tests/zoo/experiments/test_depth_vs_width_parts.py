"""Depth vs width: the equal-parameter width solver, the sawtooth, Telgarsky's construction and
the parallel MLP layer."""

import keras
import numpy as np
import pytest

from zoo.experiments.parallel_mlp import ParallelDense
from zoo.experiments.parameter_budget import mlp_parameter_count, width_for_budget
from zoo.experiments.sawtooth_construction import constructed_sawtooth_network
from zoo.experiments.targets import all_targets, count_linear_pieces, sawtooth, tent


def dense_mlp(depth, width):
    return keras.Sequential(
        [keras.Input((1,))]
        + [keras.layers.Dense(width, activation="relu") for _ in range(depth)]
        + [keras.layers.Dense(1)]
    )


@pytest.mark.parametrize("depth,width", [(1, 1), (1, 66), (2, 12), (3, 9), (6, 4)])
def test_parameter_count_equals_keras_count_params(depth, width):
    assert mlp_parameter_count(depth, width) == dense_mlp(depth, width).count_params()


def test_parameter_count_with_wider_inputs_and_outputs():
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(5), keras.layers.Dense(5), keras.layers.Dense(2)]
    )
    assert mlp_parameter_count(2, 5, input_dim=3, output_dim=2) == model.count_params() == 62


@pytest.mark.parametrize("budget", [30, 61, 200, 300, 1000])
@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5, 6])
def test_width_for_budget_is_the_closest_count(depth, budget):
    width = width_for_budget(depth, budget)
    best = min(range(1, budget + 1), key=lambda w: (abs(mlp_parameter_count(depth, w) - budget), w))
    assert width == best


def test_width_for_budget_hits_exact_budgets():
    assert width_for_budget(1, 301) == 100  # 3 * 100 + 1
    assert mlp_parameter_count(3, 9) == 208 and width_for_budget(3, 208) == 9


def test_width_for_budget_rejects_a_budget_below_width_one():
    with pytest.raises(ValueError, match="Received: budget=5"):
        width_for_budget(3, 5)  # width 1 already needs 8 parameters
    with pytest.raises(ValueError, match="Received: depth=0"):
        width_for_budget(0, 100)


@pytest.mark.parametrize("k", [1, 2, 3, 5, 7])
def test_sawtooth_has_two_to_the_k_pieces(k):
    x = np.linspace(0.0, 1.0, 2 ** (k + 3) + 1)  # dyadic: holds every breakpoint
    assert count_linear_pieces(x, sawtooth(x, k)) == 2**k


def test_sawtooth_values_and_the_tent_map():
    np.testing.assert_allclose(tent(np.array([0.0, 0.25, 0.5, 1.0])), [0.0, 0.5, 1.0, 0.0])
    np.testing.assert_allclose(sawtooth(np.array([0.0, 0.125, 0.25, 0.375]), 2), [0, 0.5, 1, 0.5])
    x = np.random.default_rng(0).random(100)
    np.testing.assert_allclose(sawtooth(x, 3), tent(tent(tent(x))))


def test_smooth_targets_have_one_piece_less_than_a_sawtooth():
    x = np.linspace(0.0, 1.0, 65)
    line = 0.5 * x + 0.1
    assert count_linear_pieces(x, line) == 1
    assert set(all_targets(4)) == {"sin", "gaussian_bump", "polynomial", "sawtooth_4"}
    with pytest.raises(ValueError, match="Received: sawtooth_k=0"):
        all_targets(0)


@pytest.mark.parametrize("k", [1, 4, 6])
def test_telgarsky_construction_is_the_sawtooth(k):
    network = constructed_sawtooth_network(k)
    x = np.linspace(0.0, 1.0, 1025)[:, None].astype("float32")
    np.testing.assert_allclose(np.asarray(network(x))[:, 0], sawtooth(x[:, 0], k), atol=1e-5)
    assert network.count_params() == mlp_parameter_count(k, 2)


def test_parallel_dense_members_are_independent_dense_layers(tmp_path):
    inputs = keras.Input((3,))
    hidden = ParallelDense(4, 5, activation="relu")(inputs)
    outputs = ParallelDense(4, 2)(hidden)
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(1).normal(size=(7, 3)).astype("float32")
    got = np.asarray(model(x))
    (k1, b1), (k2, b2) = (layer.get_weights() for layer in model.layers[1:])
    for member in range(4):
        h = np.maximum(x @ k1[member] + b1[member], 0.0)
        np.testing.assert_allclose(
            got[:, member], h @ k2[member] + b2[member], rtol=1e-5, atol=1e-5
        )
    # each member's kernel is initialised on its own (not one draw repeated)
    assert not np.allclose(k1[0], k1[1])
    model.save(tmp_path / "parallel.keras")
    reloaded = keras.saving.load_model(tmp_path / "parallel.keras")
    np.testing.assert_allclose(np.asarray(reloaded(x)), got, rtol=1e-6)


def test_parallel_dense_rejects_a_wrong_member_axis():
    with pytest.raises(ValueError, match="member axis must have 3"):
        ParallelDense(3, 2)(keras.Input((4, 5)))
    with pytest.raises(ValueError, match="Received: members=0"):
        ParallelDense(0, 2)
