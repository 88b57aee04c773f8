"""Sinusoid tasks of the MAML paper, the fine-tuning curve, and the MAML/Reptile comparison."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.meta.functional import adaptation_curve
from zoo.meta.maml import MAML
from zoo.meta.sinusoid import SinusoidTasks, compare_on_sinusoids, sinusoid_mlp


def test_tasks_are_sinusoids_within_the_paper_ranges():
    support_x, support_y, query_x, query_y = SinusoidTasks(seed=3).sample(20, 10, 30)
    assert support_x.shape == (20, 10, 1) and query_y.shape == (20, 30, 1)
    assert np.all(np.abs(support_x) <= 5) and np.all(np.abs(query_x) <= 5)
    for sx, sy, qx, qy in zip(support_x, support_y, query_x, query_y, strict=True):
        # A sin(x - phase) = a sin x + b cos x: fit (a, b) on the support set, check the query.
        basis = lambda x: np.concatenate([np.sin(x), np.cos(x)], axis=1)  # noqa: E731
        (a, b), *_ = np.linalg.lstsq(basis(sx), sy.ravel(), rcond=None)
        np.testing.assert_allclose(basis(qx) @ [a, b], qy.ravel(), atol=1e-4)
        amplitude, phase = np.hypot(a, b), np.arctan2(-b, a)
        assert 0.1 - 1e-4 <= amplitude <= 5 + 1e-4 and -1e-4 <= phase <= np.pi + 1e-4


def test_sampling_is_seeded():
    first, second = SinusoidTasks(seed=1).sample(4, 5, 5), SinusoidTasks(seed=1).sample(4, 5, 5)
    other = SinusoidTasks(seed=2).sample(4, 5, 5)
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.allclose(first[1], other[1])


def test_paper_regressor_has_two_hidden_layers_of_40():
    assert sinusoid_mlp().count_params() == (1 * 40 + 40) + (40 * 40 + 40) + (40 + 1)


def test_adaptation_curve_agrees_with_maml_evaluation():
    model = sinusoid_mlp(hidden_units=(8,), seed=0)
    episodes = SinusoidTasks(seed=0).sample(3, 5, 6)
    curve = adaptation_curve(model, "mse", episodes, 0.05, 2)
    predictions = model.predict(episodes[2].reshape(-1, 1), verbose=0).reshape(3, 6, 1)
    np.testing.assert_allclose(curve[0], np.mean((predictions - episodes[3]) ** 2), rtol=1e-5)
    maml = MAML(model, inner_lr=0.05, inner_steps=2)
    maml.compile(keras.optimizers.SGD(0.0), loss="mse")
    evaluated = maml.evaluate(tf.data.Dataset.from_tensors(episodes), verbose=0)
    np.testing.assert_allclose(curve[2], evaluated, rtol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"amplitude_range": (1.0,)}, "amplitude_range"), ({"x_range": "wide"}, "x_range='wide'")],
)
def test_bad_ranges_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SinusoidTasks(**kwargs)


@pytest.mark.slow
def test_maml_and_reptile_adapt_better_than_joint_pretraining():
    curves = compare_on_sinusoids(k_shot=10, iterations=1000, tasks_per_step=10, num_test_tasks=50)
    pretrained = curves["pretrained"]
    for name in ("maml", "reptile"):
        assert np.all(curves[name][[1, 5, 10]] < 0.8 * pretrained[[1, 5, 10]]), (name, curves)
