import gymnasium as gym
import numpy as np
import pytest

from zoo.rl import PPO
from zoo.rl.base import make_vector_env

TINY_PPO = dict(n_envs=2, n_steps=16, batch_size=16, n_epochs=2, hidden_sizes=(8,), verbose=0)


def collect(agent):
    agent._last_obs, _ = agent.env.reset(seed=agent.seed)
    agent._last_episode_starts = np.ones(agent.n_envs, np.float32)
    agent._collect_rollout()  # 2 x 48 steps: random CartPole episodes end and reset in it
    return agent.buffer


def test_async_collection_matches_sync():
    # Same seeds, same environments: worker processes must not change what is collected.
    kwargs = dict(TINY_PPO, n_steps=48)
    sync = PPO("CartPole-v1", seed=0, **kwargs)
    parallel = PPO("CartPole-v1", seed=0, vectorization_mode="async", **kwargs)
    try:
        assert isinstance(parallel.env, gym.vector.AsyncVectorEnv)
        ours, reference = collect(parallel), collect(sync)
        assert ours.episode_starts[1:].sum() > 0  # episodes ended inside the rollout
        for name in ("observations", "actions", "rewards", "episode_starts", "advantages"):
            np.testing.assert_array_equal(getattr(ours, name), getattr(reference, name))
        assert parallel.num_timesteps == sync.num_timesteps == 96
        assert parallel.hyperparameters["vectorization_mode"] == "async"
    finally:
        parallel.close()
        sync.close()


def test_vectorization_mode_errors():
    with pytest.raises(ValueError, match="vectorization_mode='threads'"):
        make_vector_env("CartPole-v1", 2, 0, vectorization_mode="threads")
    with pytest.raises(ValueError, match="vectorization_mode='async'"):
        make_vector_env(gym.make("CartPole-v1"), 1, 0, vectorization_mode="async")
    vec, env_id = make_vector_env("CartPole-v1", 2, 0)
    assert isinstance(vec, gym.vector.SyncVectorEnv) and env_id == "CartPole-v1"
    vec.close()
