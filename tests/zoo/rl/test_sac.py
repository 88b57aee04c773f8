import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.rl import SAC
from zoo.rl.networks import fan_in_uniform, mlp, q_network
from zoo.rl.optimizers import check_fusable, fused_adam_apply

TINY = dict(learning_starts=20, batch_size=16, buffer_size=1_000, hidden_sizes=(16,), verbose=0)


def weights(agent):
    return [np.asarray(v) for v in agent._state_variables()]


def test_fused_adam_matches_keras_adam():
    rng = np.random.default_rng(0)
    init = [rng.normal(size=(5, 3)).astype("float32"), rng.normal(size=(3,)).astype("float32")]
    ours = [keras.Variable(w) for w in init]
    reference = [keras.Variable(w) for w in init]
    fused = keras.optimizers.Adam(1e-2, epsilon=1e-8)
    keras_adam = keras.optimizers.Adam(1e-2, epsilon=1e-8)
    fused.build(ours)
    keras_adam.build(reference)
    step = tf.function(lambda g: fused_adam_apply(fused, g, ours))
    for _ in range(5):
        grads = [tf.constant(rng.normal(size=w.shape).astype("float32")) for w in init]
        step(grads)
        keras_adam.apply_gradients(zip(grads, reference, strict=True))
    for a, b in zip(fused.variables + ours, keras_adam.variables + reference, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-7)
    assert int(fused.iterations) == 5
    with pytest.raises(ValueError, match="plain Adam"):
        check_fusable(keras.optimizers.Adam(amsgrad=True))
    with pytest.raises(ValueError, match="plain Adam"):
        check_fusable(keras.optimizers.SGD())


def test_fan_in_uniform_is_torch_linear_default():
    kernel, bias = fan_in_uniform(64)
    w = np.asarray(kernel((64, 512)))
    b = np.asarray(bias((512,)))
    # PyTorch nn.Linear: weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    assert np.abs(w).max() <= 1 / 8 and np.abs(b).max() <= 1 / 8
    np.testing.assert_allclose(w.std(), (1 / 8) / np.sqrt(3), rtol=0.05)
    np.testing.assert_allclose(b.std(), (1 / 8) / np.sqrt(3), rtol=0.2)
    critic = q_network(3, 1, (32,), "q", initializer="fan_in_uniform")
    hidden = critic.get_layer("hidden_0")
    assert np.abs(np.asarray(hidden.kernel)).max() <= 0.5  # fan_in 3 + 1 = 4
    assert np.any(np.asarray(hidden.bias) != 0)
    legacy = mlp(3, (32,), 2)  # PPO's default stays orthogonal with zero biases
    assert not np.any(np.asarray(legacy.get_layer("hidden_0").bias))
    with pytest.raises(ValueError, match="initializer='he'"):
        mlp(3, (8,), 2, initializer="he")
    with pytest.raises(ValueError, match="initializer='he'"):
        SAC("Pendulum-v1", initializer="he", verbose=0)


def test_fused_update_and_act_equals_update_then_sample():
    # Identical agents: the fused call draws the same random numbers in the same order.
    fused, split = SAC("Pendulum-v1", seed=3, **TINY), SAC("Pendulum-v1", seed=3, **TINY)
    for a, b in zip(weights(fused), weights(split), strict=True):
        np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(0)
    batch = [
        rng.normal(size=(16, 3)).astype("float32"),
        rng.uniform(-1, 1, (16, 1)).astype("float32"),
        rng.normal(size=16).astype("float32"),
        rng.normal(size=(16, 3)).astype("float32"),
        np.zeros(16, "float32"),
    ]
    current = rng.normal(size=(1, 3)).astype("float32")
    logs_fused, action_fused = fused._update_and_act(*batch, current)
    logs_split = split._update(*batch)
    action_split = split._sample(current)
    np.testing.assert_allclose(action_fused, action_split, rtol=1e-6)
    np.testing.assert_allclose(float(logs_fused["loss"]), float(logs_split["loss"]), rtol=1e-6)
    for a, b in zip(weights(fused), weights(split), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_several_gradient_steps_and_target_update():
    agent = SAC("Pendulum-v1", seed=0, gradient_steps=2, tau=0.5, **TINY)
    start = [np.asarray(w) for w in agent.q1_target.weights]
    agent.learn(24)  # 5 environment steps with updates, 2 each
    assert int(agent.critic_optimizer.iterations) == 2 * 5
    assert int(agent.actor_optimizer.iterations) == 2 * 5
    assert agent._next_actions is not None and agent._next_actions.shape == (1, 1)
    # Polyak averaging: the targets moved from their start but trail the critics.
    for w, t, s in zip(agent.q1.weights, agent.q1_target.weights, start, strict=True):
        assert not np.array_equal(np.asarray(t), s)
        assert not np.array_equal(np.asarray(w), np.asarray(t))
