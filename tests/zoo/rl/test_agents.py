import gymnasium as gym
import numpy as np
import pytest

import serving
from zoo.rl import PPO, SAC

TINY_PPO = dict(n_envs=2, n_steps=16, batch_size=16, n_epochs=2, hidden_sizes=(8,), verbose=0)
TINY_SAC = dict(learning_starts=20, batch_size=16, buffer_size=1_000, hidden_sizes=(16,), verbose=0)


def weights(agent):
    return [np.asarray(v) for v in agent._state_variables()]


def test_ppo_return_improves_on_cartpole():
    agent = PPO("CartPole-v1", seed=0, verbose=0)
    before, _ = agent.evaluate(5)
    agent.learn(6_000)
    after, _ = agent.evaluate(5)
    assert after > before + 50, (before, after)


def test_ppo_continuous_actions_stay_in_bounds(tmp_path):
    agent = PPO(
        "Pendulum-v1",
        seed=0,
        normalize_observations=True,
        tensorboard_log=str(tmp_path / "tb"),
        **TINY_PPO,
    )
    agent.learn(64)
    actions = agent.predict(np.zeros((5, 3)), deterministic=False)
    assert actions.shape == (5, 1) and np.all(np.abs(actions) <= 2.0)
    assert float(agent.obs_rms.count) > 60
    assert list((tmp_path / "tb").iterdir())


def test_ppo_update_runs_every_minibatch_including_a_smaller_last_one():
    # 2 envs x 16 steps = 32 samples in minibatches of 12: 12, 12 and 8, over 3 epochs.
    agent = PPO("CartPole-v1", seed=0, **dict(TINY_PPO, batch_size=12, n_epochs=3))
    logs = agent.learn(32)._train_iteration()
    assert int(agent.optimizer.iterations) == 2 * 3 * 3
    assert set(logs) == {
        "loss",
        "policy_loss",
        "value_loss",
        "entropy",
        "approx_kl",
        "clip_fraction",
    }
    assert all(np.isfinite(v) for v in logs.values())


@pytest.mark.parametrize(
    "cls,env,kwargs",
    [
        (PPO, "CartPole-v1", dict(TINY_PPO, normalize_observations=True)),
        (SAC, "Pendulum-v1", TINY_SAC),
    ],
)
def test_save_load_resume(tmp_path, cls, env, kwargs):
    agent = cls(env, seed=1, **kwargs)
    agent.learn(64)
    agent.save(tmp_path / "agent")
    restored = cls.load(tmp_path / "agent")
    for a, b in zip(weights(agent), weights(restored), strict=True):
        np.testing.assert_array_equal(a, b)
    assert restored.num_timesteps == agent.num_timesteps
    obs = np.random.default_rng(0).normal(size=(4, *agent.observation_shape))
    np.testing.assert_allclose(agent.predict(obs), restored.predict(obs), rtol=1e-6)
    # Resuming is deterministic: two restorations trained on equally continue identically.
    twin = cls.load(tmp_path / "agent")
    restored.learn(64)
    twin.learn(64)
    assert restored.num_timesteps == agent.num_timesteps + 64
    for a, b, _c in zip(weights(restored), weights(twin), weights(agent), strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(
        not np.array_equal(a, c) for a, c in zip(weights(restored), weights(agent), strict=True)
    )


def test_sac_updates_and_entropy_tuning():
    agent = SAC("Pendulum-v1", seed=0, **TINY_SAC)
    alpha = float(np.exp(agent.log_alpha))
    agent.learn(60)
    assert len(agent.replay.rewards[: agent.replay.size]) == 60
    assert float(np.exp(agent.log_alpha)) != alpha
    assert np.all(np.abs(agent.predict(np.zeros((3, 3)))) <= 2.0)


def test_export_and_served_prediction(tmp_path):
    agent = PPO("CartPole-v1", seed=0, normalize_observations=True, **TINY_PPO)
    agent.learn(32)
    agent.export_policy(tmp_path, "cartpole")
    obs = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    with serving.local_server(tmp_path) as server:
        served = serving.Client(server.url, "cartpole").predict({"observation": obs})
    np.testing.assert_array_equal(np.ravel(served), agent.predict(obs))


class MultiBinaryEnv(gym.Env):
    observation_space = gym.spaces.Box(-1, 1, (2,))
    action_space = gym.spaces.MultiBinary(2)


def test_errors():
    with pytest.raises(ValueError, match="action_space"):
        PPO(MultiBinaryEnv(), n_envs=1, verbose=0)
    with pytest.raises(ValueError, match="action_space"):
        SAC("CartPole-v1", verbose=0)
    with pytest.raises(ValueError, match="n_steps=0"):
        PPO("CartPole-v1", n_steps=0)
    with pytest.raises(ValueError, match="gymnasium id"):
        PPO("NoSuchEnv-v0")
    with pytest.raises(ValueError, match="policy"):
        PPO("CartPole-v1", policy="cnn")
    with pytest.raises(ValueError, match="SAME_STEP"):
        PPO(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"))
    agent = PPO("CartPole-v1", **TINY_PPO)
    with pytest.raises(ValueError, match=r"obs.shape=\(3,\)"):
        agent.predict(np.zeros(3))
    with pytest.raises(ValueError, match="total_timesteps"):
        agent.learn(0)


@pytest.mark.slow
def test_ppo_solves_cartpole_with_defaults():
    agent = PPO("CartPole-v1", seed=0, verbose=0).learn(50_000)
    assert agent.evaluate(10)[0] >= 475


@pytest.mark.slow
def test_sac_learns_pendulum_with_defaults():
    agent = SAC("Pendulum-v1", seed=0, verbose=0).learn(5_000)
    assert agent.evaluate(5)[0] >= -400
