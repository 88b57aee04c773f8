import numpy as np
import pytest

from zoo.rl.buffers import ReplayBuffer, RolloutBuffer, compute_gae


def gae(starts, last_start):
    return compute_gae(
        rewards=np.array([[1.0], [1.0]], np.float32),
        values=np.array([[0.5], [0.4]], np.float32),
        episode_starts=np.array([[1.0], [starts]], np.float32),
        last_values=np.array([0.3], np.float32),
        last_episode_starts=np.array([last_start], np.float32),
        gamma=0.9,
        gae_lambda=0.8,
    )


def test_gae_matches_hand_computation():
    advantages, returns = gae(starts=0.0, last_start=0.0)
    # delta_1 = 1 + 0.9 * 0.3 - 0.4 = 0.87; delta_0 = 1 + 0.9 * 0.4 - 0.5 = 0.86
    # A_1 = 0.87; A_0 = 0.86 + 0.9 * 0.8 * 0.87 = 1.4864
    np.testing.assert_allclose(advantages[:, 0], [1.4864, 0.87], rtol=1e-6)
    np.testing.assert_allclose(returns[:, 0], [1.9864, 1.27], rtol=1e-6)


def test_gae_stops_at_episode_boundaries():
    advantages, _ = gae(starts=1.0, last_start=1.0)
    # Step 1 starts a new episode: nothing flows back into step 0; no bootstrap after step 1.
    np.testing.assert_allclose(advantages[:, 0], [0.5, 0.6], rtol=1e-6)


def test_rollout_flat_is_step_major():
    buffer = RolloutBuffer(4, 2, (3,), (), np.int64)
    for t in range(4):
        buffer.add(np.full((2, 3), t), [t, 10 + t], [1.0, 1.0], [0, 0], [0.0, 0.0], [0.0, 0.0])
    assert buffer.full
    with pytest.raises(RuntimeError, match="full"):
        buffer.add(np.zeros((2, 3)), [0, 0], [0, 0], [0, 0], [0, 0], [0, 0])
    buffer.finish(np.zeros(2), np.zeros(2), 0.99, 0.95)
    rollout = buffer.flat()
    np.testing.assert_array_equal(rollout.actions, [0, 10, 1, 11, 2, 12, 3, 13])
    assert rollout.observations.shape == (8, 3)
    np.testing.assert_array_equal(rollout.returns, buffer.returns.reshape(8))
    assert rollout._fields == (
        "observations",
        "actions",
        "log_probs",
        "advantages",
        "returns",
        "values",
    )


def test_replay_buffer_wraps_and_samples():
    buffer = ReplayBuffer(3, (2,), (1,))
    for i in range(5):
        buffer.add([[i, i]], [[i]], [float(i)], [[i + 1, i + 1]], [0.0])
    assert buffer.size == 3
    np.testing.assert_array_equal(np.sort(buffer.rewards), [2.0, 3.0, 4.0])
    batch = buffer.sample(8, np.random.default_rng(0))
    assert batch.observations.shape == (8, 2)
    np.testing.assert_array_equal(batch.next_observations[:, 0], batch.observations[:, 0] + 1)
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0, (2,), (1,))
