"""Optimizers: parity with PyTorch's RAdam and with the papers' algorithms in NumPy; harness."""

import json
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.optimizers import LARS, GradientCentralization, Lookahead, RAdam, Ranger
from layers.optimizers.gradient_centralization import centralize_gradient
from tests import harness

FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures"
RADAM_FIXTURE = json.loads((FIXTURES / "torch_radam.json").read_text())
PROBLEM = {k: np.asarray(v, np.float64) for k, v in RADAM_FIXTURE["problem"].items()}


# ---------------------------------------------------------------------------------------------
# The objective every parity test trains: mean((x @ w + b - y) ** 2), in TF and in NumPy.
# ---------------------------------------------------------------------------------------------


def numpy_gradients(w, b):
    residual = PROBLEM["x"] @ w + b - PROBLEM["y"]
    scale = 2.0 / residual.size
    return scale * PROBLEM["x"].T @ residual, scale * residual.sum(axis=0)


def train(optimizer, steps: int, gradient_transform=None):
    """Full-batch steps on the objective with `optimizer.apply`; returns [(w, b)] per step."""
    x = tf.constant(PROBLEM["x"], tf.float32)
    y = tf.constant(PROBLEM["y"], tf.float32)
    w = keras.Variable(PROBLEM["w0"].astype("float32"), name="kernel")
    b = keras.Variable(PROBLEM["b0"].astype("float32"), name="bias")
    trajectory = []
    for step in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.matmul(x, w.value) + b.value - y))
        grads = tape.gradient(loss, [w.value, b.value])
        if gradient_transform is not None:
            grads = gradient_transform(step, grads)
        optimizer.apply(grads, [w, b])
        trajectory.append((w.numpy().copy(), b.numpy().copy()))
    return trajectory


def assert_trajectories_close(actual, expected, atol=1e-5):
    for step, ((w, b), (w_ref, b_ref)) in enumerate(zip(actual, expected, strict=True)):
        np.testing.assert_allclose(w, w_ref, atol=atol, rtol=0, err_msg=f"kernel, step {step + 1}")
        np.testing.assert_allclose(b, b_ref, atol=atol, rtol=0, err_msg=f"bias, step {step + 1}")


def sgd_reference(learning_rate, momentum):
    """Keras's SGD: velocity = momentum * velocity - lr * g; w += velocity."""

    def step(params, grads, state):
        state = state or [np.zeros_like(p) for p in params]
        state = [momentum * v - learning_rate * g for v, g in zip(state, grads, strict=True)]
        return [p + v for p, v in zip(params, state, strict=True)], state

    return step


def lookahead_reference(inner_step, steps, sync_period, slow_step_size, accumulate=1):
    """Zhang et al. 2019, Algorithm 1, around any inner step (NumPy)."""
    fast = [PROBLEM["w0"].copy(), PROBLEM["b0"].copy()]
    slow = [p.copy() for p in fast]
    state, pending, updates, trajectory = None, [], 0, []
    for _ in range(steps):
        pending.append(numpy_gradients(*fast))
        if len(pending) == accumulate:
            grads = [np.mean([g[i] for g in pending], axis=0) for i in range(2)]
            pending = []
            fast, state = inner_step(fast, grads, state)
            updates += 1
            if updates % sync_period == 0:
                slow = [s + slow_step_size * (f - s) for s, f in zip(slow, fast, strict=True)]
                fast = [s.copy() for s in slow]
        trajectory.append(tuple(p.copy() for p in fast))
    return trajectory


# ---------------------------------------------------------------------------------------------
# RAdam and Ranger
# ---------------------------------------------------------------------------------------------


def radam_from_torch(torch_kwargs: dict, **extra) -> RAdam:
    beta_1, beta_2 = torch_kwargs["betas"]
    return RAdam(
        learning_rate=torch_kwargs["lr"],
        beta_1=beta_1,
        beta_2=beta_2,
        epsilon=torch_kwargs["eps"],
        weight_decay=torch_kwargs.get("weight_decay"),
        **extra,
    )


def torch_trajectory(case: str):
    fixture = RADAM_FIXTURE["cases"][case]
    return [(np.array(w), np.array(b)) for w, b in zip(fixture["w"], fixture["b"], strict=True)]


@pytest.mark.parametrize("case", sorted(RADAM_FIXTURE["cases"]))
def test_radam_follows_torch_radam(case):
    torch_kwargs = RADAM_FIXTURE["cases"][case]["torch_kwargs"]
    expected = torch_trajectory(case)
    # The first steps (rho_t <= 5) are un-adapted momentum steps; the rest are rectified.
    assert_trajectories_close(train(radam_from_torch(torch_kwargs), len(expected)), expected)


def test_radam_passes_the_harness():
    harness.run_optimizer_test(RAdam, {"learning_rate": 0.05, "beta_2": 0.99, "epsilon": 1e-6})


def test_radam_gradient_accumulation_passes_through():
    torch_kwargs = RADAM_FIXTURE["cases"]["default"]["torch_kwargs"]
    accumulating = radam_from_torch(torch_kwargs, gradient_accumulation_steps=2)
    # The weights only move on the second step of a pair, so both gradients of a pair are the
    # same and average to it: every second step is one RAdam step, the torch trajectory.
    trajectory = train(accumulating, 20)
    previous = PROBLEM["w0"].astype("float32")
    for pair in range(10):
        np.testing.assert_array_equal(trajectory[2 * pair][0], previous)
        previous = trajectory[2 * pair + 1][0]
    assert_trajectories_close(trajectory[1::2], torch_trajectory("default")[:10])
    assert int(accumulating.iterations) == 10


def test_radam_use_ema_averages_the_torch_trajectory():
    torch_kwargs = RADAM_FIXTURE["cases"]["default"]["torch_kwargs"]
    optimizer = radam_from_torch(torch_kwargs, use_ema=True, ema_momentum=0.8)
    train(optimizer, 10)
    # Keras's EMA: the first step copies the weights, later ones average with `ema_momentum`.
    average = None
    for w, _ in torch_trajectory("default")[:10]:
        average = w.copy() if average is None else 0.8 * average + 0.2 * w
    ema_kernel = optimizer._model_variables_moving_average[0].numpy()
    np.testing.assert_allclose(ema_kernel, average, atol=1e-5)


def test_ranger_equals_lookahead_around_radam():
    kwargs = {"learning_rate": 0.05, "beta_1": 0.9, "beta_2": 0.99, "epsilon": 1e-7}
    ranger = train(Ranger(**kwargs, sync_period=4, slow_step_size=0.3), 14)
    composed = train(Lookahead(RAdam(**kwargs), sync_period=4, slow_step_size=0.3), 14)
    assert_trajectories_close(ranger, composed, atol=1e-6)


def test_ranger_passes_the_harness():
    harness.run_optimizer_test(
        Ranger, {"learning_rate": 0.05, "beta_2": 0.99, "sync_period": 3, "slow_step_size": 0.5}
    )


# ---------------------------------------------------------------------------------------------
# Lookahead
# ---------------------------------------------------------------------------------------------


def test_lookahead_matches_the_paper_around_sgd():
    optimizer = Lookahead(keras.optimizers.SGD(0.05, momentum=0.9), sync_period=3)
    expected = lookahead_reference(sgd_reference(0.05, 0.9), 13, sync_period=3, slow_step_size=0.5)
    assert_trajectories_close(train(optimizer, 13), expected)


def test_lookahead_counts_real_updates_under_gradient_accumulation():
    inner = keras.optimizers.SGD(0.05, momentum=0.5, gradient_accumulation_steps=2)
    optimizer = Lookahead(inner, sync_period=2, slow_step_size=0.4)
    expected = lookahead_reference(
        sgd_reference(0.05, 0.5), 12, sync_period=2, slow_step_size=0.4, accumulate=2
    )
    assert_trajectories_close(train(optimizer, 12), expected)


def test_lookahead_use_ema_passes_through():
    inner = keras.optimizers.SGD(0.05, use_ema=True, ema_momentum=0.5)
    optimizer = Lookahead(inner, sync_period=2)
    trajectory = train(optimizer, 4)
    # The EMA follows the fast weights as the wrapped optimizer leaves them, before each sync.
    fast = [PROBLEM["w0"].copy(), PROBLEM["b0"].copy()]
    slow = [p.copy() for p in fast]
    average = None
    for step in range(1, 5):
        grads = numpy_gradients(*fast)
        fast = [p - 0.05 * g for p, g in zip(fast, grads, strict=True)]
        average = fast[0].copy() if average is None else 0.5 * average + 0.5 * fast[0]
        if step % 2 == 0:
            slow = [s + 0.5 * (f - s) for s, f in zip(slow, fast, strict=True)]
            fast = [s.copy() for s in slow]
    np.testing.assert_allclose(trajectory[-1][0], fast[0], atol=1e-5)
    np.testing.assert_allclose(inner._model_variables_moving_average[0].numpy(), average, 1e-5)
    w = keras.Variable(trajectory[-1][0])
    b = keras.Variable(trajectory[-1][1])
    optimizer.finalize_variable_values([w, b])  # what `fit` calls at the end
    np.testing.assert_allclose(w.numpy(), average, atol=1e-5)


def test_lookahead_under_loss_scaling():
    plain = train(Lookahead(keras.optimizers.SGD(0.05), sync_period=2), 6)
    scaled = keras.optimizers.LossScaleOptimizer(
        Lookahead(keras.optimizers.SGD(0.05), sync_period=2), initial_scale=64.0
    )

    def scale_or_break(step, grads):
        # Step 2 overflows: the loss-scale optimizer skips it, and Lookahead must not count it.
        if step == 2:
            return [g * np.inf for g in grads]
        return [g * 64.0 if step < 2 else g * 32.0 for g in grads]

    skipped = train(scaled, 7, scale_or_break)
    assert_trajectories_close(skipped[:2] + skipped[3:], plain)
    assert float(scaled.dynamic_scale) == 32.0


@pytest.mark.parametrize("jit", [False, True])
def test_lookahead_slow_weights_start_at_the_weights_inside_fit(jit):
    # Without a distribution strategy Keras builds the optimizer inside the traced train step.
    x, y = harness._regression_problem()
    model = harness._regression_model()
    initial = model.get_weights()
    optimizer = Lookahead(keras.optimizers.SGD(0.01), sync_period=50)
    model.compile(optimizer=optimizer, loss="mse", jit_compile=jit)
    model.fit(x, y, batch_size=len(x), epochs=2, verbose=0)
    harness.assert_allclose([s.numpy() for s in optimizer._slow_weights], initial, 0, 0, "slow")
    assert not np.allclose(model.get_weights()[0], initial[0])


def test_lookahead_passes_the_harness():
    inner = keras.optimizers.serialize(keras.optimizers.SGD(0.05, momentum=0.9))
    harness.run_optimizer_test(Lookahead, {"optimizer": inner, "sync_period": 3})


def test_lookahead_under_mirrored_strategy_equals_one_device():
    x, y = harness._regression_problem()

    def fit(model):
        model.compile(optimizer=Lookahead(keras.optimizers.Adam(0.02), sync_period=2), loss="mse")
        # Five full-batch steps in one epoch: an epoch per step would start five (distributed)
        # input iterators.
        model.fit(
            tf.data.Dataset.from_tensors((x, y)).repeat(5), epochs=1, verbose=0, shuffle=False
        )
        return model.get_weights()

    single = fit(harness._regression_model())
    mirrored = harness.run_in_mirrored_strategy(lambda _: fit(harness._regression_model()))
    harness.assert_allclose(mirrored, single, 1e-5, 1e-5, "MirroredStrategy vs one device")


# ---------------------------------------------------------------------------------------------
# LARS
# ---------------------------------------------------------------------------------------------


def lars_reference(steps, learning_rate, momentum, weight_decay, eta, adapted, clipnorm=None):
    """You et al. 2017, Algorithm 1 (NumPy); excluded variables take plain momentum SGD."""
    params = [PROBLEM["w0"].copy(), PROBLEM["b0"].copy()]
    velocities = [np.zeros_like(p) for p in params]
    trajectory = []
    for _ in range(steps):
        grads = list(numpy_gradients(*params))
        if clipnorm is not None:
            grads = [g * min(1.0, clipnorm / np.linalg.norm(g)) for g in grads]
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            local_lr = learning_rate
            if adapted[i]:
                w_norm, g_norm = np.linalg.norm(p), np.linalg.norm(g)
                local_lr = learning_rate * eta * w_norm / (g_norm + weight_decay * w_norm)
                g = g + weight_decay * p
            velocities[i] = momentum * velocities[i] + local_lr * g
            params[i] = p - velocities[i]
        trajectory.append(tuple(p.copy() for p in params))
    return trajectory


def test_lars_matches_the_paper_and_skips_the_bias_by_default():
    optimizer = LARS(0.5, momentum=0.9, weight_decay=0.01, trust_coefficient=0.02)
    expected = lars_reference(10, 0.5, 0.9, 0.01, 0.02, adapted=[True, False])
    assert_trajectories_close(train(optimizer, 10), expected)


def test_lars_exclusion_patterns_replace_the_default():
    optimizer = LARS(0.5, trust_coefficient=0.02, exclude_from_layer_adaptation=["kernel"])
    expected = lars_reference(6, 0.5, 0.9, 0.0, 0.02, adapted=[False, True])
    assert_trajectories_close(train(optimizer, 6), expected)


def test_lars_clipnorm_passes_through():
    optimizer = LARS(0.5, weight_decay=0.01, trust_coefficient=0.02, clipnorm=0.1)
    expected = lars_reference(6, 0.5, 0.9, 0.01, 0.02, adapted=[True, False], clipnorm=0.1)
    assert_trajectories_close(train(optimizer, 6), expected)


def test_lars_falls_back_to_the_global_rate_for_zero_weights():
    weights = keras.Variable(np.zeros((2, 2), "float32"))
    optimizer = LARS(0.1, momentum=0.0, trust_coefficient=0.001)
    optimizer.apply([tf.ones((2, 2))], [weights])
    np.testing.assert_allclose(weights.numpy(), -0.1 * np.ones((2, 2)), atol=1e-7)


def test_lars_passes_the_harness():
    harness.run_optimizer_test(
        LARS, {"learning_rate": 0.2, "weight_decay": 1e-3, "trust_coefficient": 0.05}
    )


# ---------------------------------------------------------------------------------------------
# Gradient centralization
# ---------------------------------------------------------------------------------------------


def test_centralize_gradient_over_all_axes_but_the_last():
    gradient = np.random.default_rng(0).normal(size=(3, 3, 4, 5)).astype("float32")
    expected = gradient - gradient.mean(axis=(0, 1, 2), keepdims=True)
    centred = keras.ops.convert_to_numpy(centralize_gradient(tf.constant(gradient)))
    np.testing.assert_allclose(centred, expected, atol=1e-6)
    np.testing.assert_allclose(centred.mean(axis=(0, 1, 2)), 0.0, atol=1e-6)
    bias = tf.constant([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(centralize_gradient(bias).numpy(), bias.numpy())


def test_centralize_gradient_densifies_sparse_gradients():
    sparse = tf.IndexedSlices(tf.constant([[1.0, 2.0]]), tf.constant([1]), tf.constant([3, 2]))
    centred = keras.ops.convert_to_numpy(centralize_gradient(sparse))
    expected = np.array([[0.0, 0.0], [1.0, 2.0], [0.0, 0.0]]) - np.array([[1.0, 2.0]]) / 3
    np.testing.assert_allclose(centred, expected, atol=1e-6)


def gc_reference(steps, learning_rate, clipnorm=None):
    """Yong et al. 2020: SGD on gradients centred over all axes but the last (NumPy)."""
    params = [PROBLEM["w0"].copy(), PROBLEM["b0"].copy()]
    trajectory = []
    for _ in range(steps):
        w_grad, b_grad = numpy_gradients(*params)
        grads = [w_grad - w_grad.mean(axis=0, keepdims=True), b_grad]
        if clipnorm is not None:
            grads = [g * min(1.0, clipnorm / np.linalg.norm(g)) for g in grads]
        params = [p - learning_rate * g for p, g in zip(params, grads, strict=True)]
        trajectory.append(tuple(p.copy() for p in params))
    return trajectory


def test_gradient_centralization_matches_the_paper_around_sgd():
    optimizer = GradientCentralization(keras.optimizers.SGD(0.1))
    assert_trajectories_close(train(optimizer, 8), gc_reference(8, 0.1))


def test_gradient_centralization_clipnorm_passes_through():
    optimizer = GradientCentralization(keras.optimizers.SGD(0.1, clipnorm=0.05))
    assert_trajectories_close(train(optimizer, 6), gc_reference(6, 0.1, clipnorm=0.05))


def test_gradient_centralization_passes_the_harness():
    inner = keras.optimizers.serialize(keras.optimizers.Adam(0.02))
    harness.run_optimizer_test(GradientCentralization, {"optimizer": inner})


# ---------------------------------------------------------------------------------------------
# Configuration and errors
# ---------------------------------------------------------------------------------------------


def test_wrapped_optimizer_is_serialised_inside_the_config():
    optimizer = Lookahead(RAdam(0.01, clipnorm=1.0), sync_period=4)
    config = optimizer.get_config()
    assert config["optimizer"]["class_name"] == "RAdam"
    assert config["optimizer"]["config"]["clipnorm"] == 1.0
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert isinstance(restored, Lookahead) and isinstance(restored.inner_optimizer, RAdam)
    assert restored.inner_optimizer.clipnorm == 1.0 and restored.sync_period == 4


def test_wrappers_accept_a_name_or_a_config():
    assert isinstance(GradientCentralization("adam").inner_optimizer, keras.optimizers.Adam)
    config = keras.optimizers.serialize(keras.optimizers.SGD(0.3))
    assert float(Lookahead(config).learning_rate) == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: Lookahead("sgd", sync_period=0), ValueError, "sync_period=0"),
        (lambda: Lookahead("sgd", slow_step_size=0.0), ValueError, "slow_step_size=0.0"),
        (lambda: Lookahead("sgd", clipnorm=1.0), ValueError, "clipnorm=1.0"),
        (lambda: GradientCentralization(3), TypeError, "optimizer=3"),
        (lambda: GradientCentralization("sgd", learning_rate=0.1), ValueError, "learning_rate"),
        (lambda: RAdam(beta_1=1.0), ValueError, "beta_1=1.0"),
        (lambda: RAdam(epsilon=-1.0), ValueError, "epsilon=-1.0"),
        (lambda: Ranger(sync_period=-2), ValueError, "sync_period=-2"),
        (lambda: LARS(0.1, momentum=1.5), ValueError, "momentum=1.5"),
        (lambda: LARS(0.1, weight_decay=-1.0), ValueError, "weight_decay=-1.0"),
        (lambda: LARS(0.1, exclude_from_layer_adaptation="bias"), TypeError, "'bias'"),
        (lambda: LARS(0.1, exclude_from_layer_adaptation=["("]), ValueError, "invalid"),
    ],
)
def test_bad_arguments_are_named(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_wrappers_step_plain_tf_variables():
    # Custom training loops written for TFA pass `tf.Variable`s, whose `value` is a method.
    for optimizer in (Lookahead(keras.optimizers.SGD(0.1), sync_period=1), Ranger()):
        variable = tf.Variable([1.0, 2.0])
        optimizer.apply_gradients([(tf.constant([1.0, 1.0]), variable)])
        assert np.all(variable.numpy() < [1.0, 2.0]), type(optimizer).__name__
