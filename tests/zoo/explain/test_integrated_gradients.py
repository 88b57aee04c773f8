"""Integrated gradients: the closed form on a linear model, completeness on a nonlinear one,
batching, the quadrature rules and bad input."""

import keras
import numpy as np
import pytest

from zoo.explain import completeness_gap, integrated_gradients
from zoo.explain.integrated_gradients import path_points

WEIGHTS = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0], [-0.5, 1.5, 2.0], [2.0, 1.0, 0.0]])


def linear_model() -> keras.Model:
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.layers[0].set_weights([WEIGHTS.astype("float32"), np.array([0.1, -0.2, 0.3], "f")])
    return model


def smooth_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(16, activation="tanh"),
            keras.layers.Dense(8, activation="softplus"),
            keras.layers.Dense(3),
        ]
    )


@pytest.mark.parametrize("method", ["gauss_legendre", "riemann_trapezoid"])
def test_a_linear_model_gets_the_closed_form(method):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 4)).astype("float32")
    baseline = rng.normal(size=(4,)).astype("float32")
    attributions = integrated_gradients(
        linear_model(), x, target=1, baseline=baseline, steps=7, method=method
    )
    np.testing.assert_allclose(attributions, (x - baseline) * WEIGHTS[:, 1], rtol=1e-5, atol=1e-6)


def test_attributions_add_up_to_the_change_of_the_output():
    model = smooth_model()
    x = np.random.default_rng(1).normal(size=(4, 6)).astype("float32")
    targets = [0, 2, 1, 2]
    attributions = integrated_gradients(model, x, target=targets, steps=20)
    assert attributions.shape == x.shape
    gaps = completeness_gap(model, x, attributions, target=targets)
    assert np.max(np.abs(gaps)) < 1e-4
    trapezoid = integrated_gradients(model, x, targets, steps=20, method="riemann_trapezoid")
    trapezoid_gaps = completeness_gap(model, x, trapezoid, target=targets)
    assert np.max(np.abs(trapezoid_gaps)) < 2e-2  # second-order rule: coarser than Gauss


def test_completeness_gap_sees_wrong_attributions():
    model = smooth_model()
    x = np.ones((1, 6), "float32")
    attributions = integrated_gradients(model, x, target=0, steps=20)
    gap = completeness_gap(model, x, attributions + 0.25, target=0)
    np.testing.assert_allclose(gap, 6 * 0.25, atol=1e-4)


def test_batches_give_the_same_attributions_as_one_call():
    model = smooth_model()
    x = np.random.default_rng(2).normal(size=(3, 6)).astype("float32")
    whole = integrated_gradients(model, x, target=1, baseline=0.5, steps=10)
    chunked = integrated_gradients(model, x, target=1, baseline=0.5, steps=10, batch_size=4)
    np.testing.assert_allclose(chunked, whole, atol=1e-6)


def test_image_inputs_keep_their_shape():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((4, 4, 1)),
            keras.layers.Conv2D(2, 3, activation="tanh"),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    x = np.random.default_rng(3).uniform(size=(2, 4, 4, 1)).astype("float32")
    attributions = integrated_gradients(model, x, target=1, steps=16)
    assert attributions.shape == x.shape
    assert np.max(np.abs(completeness_gap(model, x, attributions, 1))) < 1e-4


def test_path_points_weights_sum_to_one():
    for method in ("gauss_legendre", "riemann_trapezoid"):
        alphas, weights = path_points(9, method)
        assert weights.sum() == pytest.approx(1.0) and 0.0 <= alphas.min() < alphas.max() <= 1.0
    np.testing.assert_allclose(path_points(3, "riemann_trapezoid")[1], [0.25, 0.5, 0.25])


def test_a_target_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"in \[0, 3\).*Received: target=3"):
        integrated_gradients(linear_model(), np.zeros((2, 4)), target=3)


def test_a_baseline_of_another_shape_is_refused():
    with pytest.raises(ValueError, match=r"Received: baseline.shape=\(3,\)"):
        integrated_gradients(linear_model(), np.zeros((2, 4)), target=0, baseline=np.zeros(3))


def test_inputs_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match=r"\(batch, 4\).*Received: inputs.shape=\(2, 5\)"):
        integrated_gradients(linear_model(), np.zeros((2, 5)), target=0)


def test_zero_steps_are_refused():
    with pytest.raises(ValueError, match="Received: steps=0"):
        integrated_gradients(linear_model(), np.zeros((1, 4)), target=0, steps=0)


def test_one_trapezoid_step_is_refused():
    with pytest.raises(ValueError, match="at least 2 .*Received: steps=1"):
        path_points(1, "riemann_trapezoid")


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError, match="Received: method='simpson'"):
        integrated_gradients(linear_model(), np.zeros((1, 4)), target=0, method="simpson")


def test_attributions_of_another_shape_are_refused():
    with pytest.raises(ValueError, match=r"Received: attributions.shape=\(1, 3\)"):
        completeness_gap(linear_model(), np.zeros((1, 4)), np.zeros((1, 3)), target=0)
