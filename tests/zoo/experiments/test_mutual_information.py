"""The binning and KDE mutual-information estimators against hand-computed values."""

import numpy as np
import pytest

from zoo.experiments.mutual_information import (
    bin_activations,
    binning_information,
    discrete_entropy,
    discrete_mutual_information,
    kde_information,
)


def test_discrete_entropy_of_uniform_and_constant_variables():
    assert discrete_entropy(np.arange(16)) == pytest.approx(4.0)
    assert discrete_entropy(np.zeros(16)) == pytest.approx(0.0)
    assert discrete_entropy(np.array([0, 0, 0, 1])) == pytest.approx(
        -(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25))
    )
    rows = np.array([[0, 1], [0, 1], [1, 0], [1, 1]])  # 3 distinct rows: 1/2, 1/4, 1/4
    assert discrete_entropy(rows) == pytest.approx(1.5)


def test_binning_deterministic_identity_gives_h_x_and_constant_gives_zero():
    n = 4096
    labels = np.arange(n) % 2
    identity = np.linspace(-1.0, 1.0, n)[:, None] * np.ones((1, 2))  # T = X: distinct rows
    i_xt, i_ty = binning_information(identity, labels, bins=n, value_range=(-1.0, 1.0))
    assert i_xt == pytest.approx(12.0)  # H(X) = log2 4096
    assert i_ty == pytest.approx(1.0)  # T determines Y; H(Y) = 1 bit
    constant = np.full((n, 3), 0.3)
    assert binning_information(constant, labels, bins=30) == (0.0, 0.0)


def test_binning_counts_by_hand():
    # 8 inputs, one unit, 2 bins over [0, 1]: T = [x >= 0.5]; Y = T for the first 6 rows
    activations = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9])[:, None]
    labels = np.array([0, 0, 0, 0, 1, 1, 0, 0])
    i_xt, i_ty = binning_information(activations, labels, bins=2, value_range=(0.0, 1.0))
    assert i_xt == pytest.approx(1.0)  # H(T) of a fair bit
    h_y = -(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25))
    h_y_given_t = 0.5 * 1.0  # T=1: Y is a fair bit; T=0: Y=0
    assert i_ty == pytest.approx(h_y - h_y_given_t)


def test_bin_edges_and_repeated_inputs():
    codes = bin_activations(np.array([[-1.0], [-0.01], [0.01], [1.0]]), bins=2, value_range=(-1, 1))
    assert codes[:, 0].tolist() == [0, 0, 1, 1]
    # two rows per input: X has 2 bits; T = X's parity has 1 bit
    inputs = np.repeat(np.arange(4), 2)
    t = (inputs % 2).astype(float)[:, None]
    i_xt, _ = binning_information(t, np.zeros(8), input_ids=inputs, bins=2, value_range=(0, 1))
    assert i_xt == pytest.approx(1.0)


def test_discrete_mutual_information_of_independent_variables_is_zero():
    a = np.repeat(np.arange(4), 4)
    b = np.tile(np.arange(4), 4)
    assert discrete_mutual_information(a, b) == pytest.approx(0.0, abs=1e-12)
    assert discrete_mutual_information(a, a) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="same number of rows"):
        discrete_mutual_information(a, b[:3])


def test_kde_bounds_and_limits():
    rng = np.random.default_rng(0)
    n = 256
    spread = rng.normal(size=(n, 3))
    labels = rng.integers(0, 2, size=n)
    i_xt, i_ty = kde_information(spread, labels, noise_variance=1e-6)
    assert i_xt == pytest.approx(np.log2(n), abs=1e-3)  # well separated points: log2 n
    # with almost no noise and every point distinct, T identifies X, hence Y: I(T;Y) = H(Y)
    p = labels.mean()
    assert i_ty == pytest.approx(-(p * np.log2(p) + (1 - p) * np.log2(1 - p)), abs=1e-3)
    assert kde_information(np.zeros((n, 3)), labels) == (0.0, 0.0)


def test_kde_information_falls_as_the_noise_grows():
    rng = np.random.default_rng(1)
    activations = rng.uniform(-1, 1, size=(300, 4))
    labels = (activations[:, 0] > 0).astype(int)
    values = [kde_information(activations, labels, v) for v in (1e-4, 1e-3, 1e-2, 1e-1, 1.0)]
    i_xt = [v[0] for v in values]
    assert all(a > b for a, b in zip(i_xt, i_xt[1:], strict=False))
    assert all(0.0 <= v <= np.log2(300) + 1e-9 for v in i_xt)
    assert all(0.0 <= v[1] <= 1.0 + 1e-9 for v in values)  # I(T;Y) <= H(Y) = 1 bit here


def test_kde_information_matches_the_formula_on_two_points():
    # two points at squared distance d: I(X;T) = -log2((1 + exp(-d / 2v)) / 2)
    activations = np.array([[0.0, 0.0], [0.3, 0.4]])
    variance = 0.1
    expected = -np.log2((1.0 + np.exp(-0.25 / (2 * variance))) / 2.0)
    assert kde_information(activations, np.array([0, 0]), variance)[0] == pytest.approx(expected)
    with pytest.raises(ValueError, match="Received: noise_variance=0"):
        kde_information(activations, np.array([0, 0]), 0)
