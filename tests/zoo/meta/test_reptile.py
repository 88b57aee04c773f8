"""Reptile: outer updates against closed forms, Adam inner loop, saving, XLA, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.meta.reptile import Reptile

INNER_LR = 0.1
EPSILON = 0.5


def linear_model(dtype="float64", inputs=3):
    init = keras.initializers.RandomNormal(seed=0)
    return keras.Sequential(
        [
            keras.Input((inputs,), dtype=dtype),
            keras.layers.Dense(1, kernel_initializer=init, bias_initializer=init, dtype=dtype),
        ]
    )


def episodes(tasks, support=5, query=7, inputs=3, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(support, inputs), (support, 1), (query, inputs), (query, 1)]
    return tuple(rng.normal(size=(tasks, *s)).astype(dtype) for s in shapes)


def theta(model):
    kernel, bias = (v.numpy() for v in model.trainable_variables)
    return np.concatenate([kernel.ravel(), bias])


def mse_gradient(params, x, y):
    a = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    return 2.0 / len(x) * a.T @ (a @ params - y.ravel())


def one_step(reptile, data):
    reptile.fit(tf.data.Dataset.from_tensors(data), epochs=1, verbose=0)


def test_one_inner_step_on_one_task_is_a_scaled_sgd_step():
    reptile = Reptile(linear_model(), INNER_LR, 1, EPSILON)
    reptile.compile(loss="mse")
    data = episodes(tasks=1)
    params = theta(reptile.model)
    one_step(reptile, data)
    expected = params - EPSILON * INNER_LR * mse_gradient(params, data[0][0], data[1][0])
    np.testing.assert_allclose(theta(reptile.model), expected, rtol=1e-10)


def test_batched_update_moves_toward_the_mean_adapted_weights():
    reptile = Reptile(linear_model(), INNER_LR, 3, EPSILON)
    reptile.compile(loss="mse")
    data = episodes(tasks=3)
    params = theta(reptile.model)
    adapted = []
    for sx, sy in zip(data[0], data[1], strict=True):
        phi = params
        for _ in range(3):
            phi = phi - INNER_LR * mse_gradient(phi, sx, sy)
        adapted.append(phi)
    one_step(reptile, data)
    expected = params + EPSILON * (np.mean(adapted, axis=0) - params)
    np.testing.assert_allclose(theta(reptile.model), expected, rtol=1e-10)


def test_adam_inner_loop_first_step_is_the_gradient_sign():
    # Adam with beta_1 = 0: the first step is lr * g / (|g| + eps).
    reptile = Reptile(linear_model(), INNER_LR, 1, 1.0, inner_optimizer="adam")
    reptile.compile(loss="mse")
    sx, sy = episodes(tasks=1)[:2]
    g = mse_gradient(theta(reptile.model), sx[0], sy[0])
    adapted = reptile.adapt(sx[0], sy[0])
    expected = theta(reptile.model) - INNER_LR * g / (np.abs(g) + 1e-7)
    np.testing.assert_allclose(theta(adapted), expected, rtol=1e-8)


def test_adapt_takes_inner_steps_on_the_support_set():
    reptile = Reptile(linear_model(), INNER_LR, 2, EPSILON)
    reptile.compile(loss="mse")
    sx, sy = (part[0] for part in episodes(tasks=1)[:2])
    phi = theta(reptile.model)
    for _ in range(2):
        phi = phi - INNER_LR * mse_gradient(phi, sx, sy)
    np.testing.assert_allclose(theta(reptile.adapt(sx, sy)), phi, rtol=1e-10)


def test_xla_step_equals_graph_step_and_save_load_round_trip(tmp_path):
    data = episodes(tasks=2, dtype="float32")
    schedule = keras.optimizers.schedules.PolynomialDecay(EPSILON, 10, 0.0)
    results = []
    for jit in (True, False):
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((3,)), keras.layers.Dense(4, "relu"), keras.layers.Dense(1)]
        )
        reptile = Reptile(model, INNER_LR, 2, schedule, inner_optimizer="adam")
        reptile.compile(loss="mse", jit_compile=jit)
        one_step(reptile, data)
        results.append(reptile)
    for a, b in zip(results[0].meta_variables, results[1].meta_variables, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    path = tmp_path / "reptile.keras"
    results[0].save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.get_config()["inner_optimizer"] == "adam"
    assert isinstance(loaded.meta_step_size, keras.optimizers.schedules.PolynomialDecay)
    sx, sy, qx, _ = (part[0] for part in data)
    np.testing.assert_allclose(
        loaded.adapt(sx, sy).predict(qx, verbose=0),
        results[0].adapt(sx, sy).predict(qx, verbose=0),
    )
    for a, b in zip(loaded.optimizer.variables, results[0].optimizer.variables, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"inner_steps": 0}, "inner_steps=0"),
        ({"inner_lr": 0}, "inner_lr=0"),
        ({"meta_step_size": -1.0}, "meta_step_size=-1.0"),
        ({"inner_optimizer": "rmsprop"}, "inner_optimizer='rmsprop'"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Reptile(linear_model(), **kwargs)
