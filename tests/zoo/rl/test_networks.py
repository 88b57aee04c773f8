import numpy as np
import pytest
import tensorflow as tf

from tests.harness import run_layer_test
from zoo.rl.base import GreedyAction
from zoo.rl.networks import squashed_gaussian, squashed_log_prob
from zoo.rl.normalization import RunningMeanStd


def normal_log_pdf(x, mean, std):
    return -0.5 * ((x - mean) / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi)


def test_squashed_log_prob_matches_numpy_with_tanh_correction():
    mean = np.array([[0.1, -0.3], [1.0, 0.0]], np.float32)
    log_std = np.array([[-0.5, 0.2], [0.0, -1.0]], np.float32)
    pre_tanh = np.array([[0.4, -2.0], [3.0, 0.05]], np.float32)
    expected = np.sum(
        normal_log_pdf(pre_tanh, mean, np.exp(log_std)) - np.log(1 - np.tanh(pre_tanh) ** 2),
        axis=-1,
    )
    actual = squashed_log_prob(tf.constant(mean), tf.constant(log_std), tf.constant(pre_tanh))
    np.testing.assert_allclose(actual, expected, rtol=1e-5)
    # Where atanh is exact, the transformed distribution agrees from the squashed value.
    direct = squashed_gaussian(mean[:1], log_std[:1]).log_prob(np.tanh(pre_tanh[:1]))
    np.testing.assert_allclose(direct, expected[:1], rtol=1e-4)


def test_running_mean_std_matches_numpy():
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0, 2.0, (n, 2)) for n in (5, 17, 9)]
    norm = RunningMeanStd((2,), clip=100.0)
    for batch in batches:
        norm.update(batch)
    data = np.concatenate(batches)
    np.testing.assert_allclose(norm.mean, data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(norm.var, data.var(0), rtol=1e-4)
    x = np.ones((1, 2), np.float32)
    np.testing.assert_allclose(norm(x), (x - data.mean(0)) / np.sqrt(data.var(0) + 1e-8), rtol=1e-4)


def test_running_mean_std_layer_contract():
    run_layer_test(
        RunningMeanStd,
        {"shape": (3,), "clip": 5.0},
        np.random.default_rng(0).normal(size=(4, 3)).astype("float32"),
        expected_output_shape=(4, 3),
        run_training=False,
        expected_mixed_dtype="float16",
    )


def test_greedy_action_layer_contract():
    x = np.array([[0.5, -3.0], [2.0, 0.0]], np.float32)
    run_layer_test(
        GreedyAction,
        {"kind": "tanh", "low": [-2.0], "high": [2.0], "action_dim": 1},
        x,
        expected_output=2.0 * np.tanh(x[:, :1]),
        run_training=False,
    )


def test_errors():
    with pytest.raises(ValueError, match="clip"):
        RunningMeanStd((2,), clip=0.0)
    with pytest.raises(ValueError, match="kind"):
        GreedyAction("softmax")
