"""Rollout buffer with generalised advantage estimation (PPO) and a uniform replay buffer (SAC)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from layers.validation import check_positive_int


class RolloutBatch(NamedTuple):
    """One minibatch of on-policy data, flat over steps and environments."""

    observations: np.ndarray
    actions: np.ndarray
    log_probs: np.ndarray
    advantages: np.ndarray
    returns: np.ndarray
    values: np.ndarray


class ReplayBatch(NamedTuple):
    """One sampled minibatch of transitions; `dones` is 1 where the episode terminated."""

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_observations: np.ndarray
    dones: np.ndarray


def compute_gae(
    rewards: np.ndarray,
    values: np.ndarray,
    episode_starts: np.ndarray,
    last_values: np.ndarray,
    last_episode_starts: np.ndarray,
    gamma: float,
    gae_lambda: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Generalised advantage estimation over a `(n_steps, n_envs)` rollout.

    `episode_starts[t]` is 1 where the observation at step `t` begins a new episode, so the
    value of step `t + 1` is not bootstrapped into step `t` (`last_episode_starts` plays that
    role for the observation after the rollout). Truncated episodes are handled by the caller,
    which adds `gamma * V(final observation)` to the last reward.

    Returns:
        `(advantages, returns)`, both `(n_steps, n_envs)`, with `returns = advantages + values`.

    Reference: Schulman et al., "High-Dimensional Continuous Control Using Generalized
    Advantage Estimation" (2016).
    """
    n_steps = rewards.shape[0]
    advantages = np.zeros_like(rewards, dtype=np.float32)
    last_gae = np.zeros_like(last_values, dtype=np.float32)
    for t in reversed(range(n_steps)):
        if t == n_steps - 1:
            next_non_terminal = 1.0 - last_episode_starts
            next_values = last_values
        else:
            next_non_terminal = 1.0 - episode_starts[t + 1]
            next_values = values[t + 1]
        delta = rewards[t] + gamma * next_values * next_non_terminal - values[t]
        last_gae = delta + gamma * gae_lambda * next_non_terminal * last_gae
        advantages[t] = last_gae
    return advantages, (advantages + values).astype(np.float32)


class RolloutBuffer:
    """Stores `n_steps` steps of `n_envs` environments and their advantage estimates.

    Args:
        n_steps: steps per environment per rollout.
        n_envs: number of environments.
        observation_shape: shape of one observation.
        action_shape: shape of one action (`()` for discrete actions).
        action_dtype: NumPy dtype of actions.
    """

    def __init__(self, n_steps, n_envs, observation_shape, action_shape, action_dtype):
        self.n_steps, self.n_envs = n_steps, n_envs
        self.observations = np.zeros((n_steps, n_envs, *observation_shape), np.float32)
        self.actions = np.zeros((n_steps, n_envs, *action_shape), action_dtype)
        self.rewards = np.zeros((n_steps, n_envs), np.float32)
        self.episode_starts = np.zeros((n_steps, n_envs), np.float32)
        self.values = np.zeros((n_steps, n_envs), np.float32)
        self.log_probs = np.zeros((n_steps, n_envs), np.float32)
        self.advantages = np.zeros((n_steps, n_envs), np.float32)
        self.returns = np.zeros((n_steps, n_envs), np.float32)
        self.pos = 0

    @property
    def full(self) -> bool:
        return self.pos == self.n_steps

    def reset(self) -> None:
        self.pos = 0

    def add(self, observation, action, reward, episode_start, value, log_prob) -> None:
        if self.full:
            raise RuntimeError("The rollout buffer is full; call `reset()` after training on it.")
        t = self.pos
        self.observations[t] = observation
        self.actions[t] = action
        self.rewards[t] = reward
        self.episode_starts[t] = episode_start
        self.values[t] = value
        self.log_probs[t] = log_prob
        self.pos += 1

    def finish(self, last_values, last_episode_starts, gamma: float, gae_lambda: float) -> None:
        """Computes advantages and returns once the rollout is complete."""
        self.advantages, self.returns = compute_gae(
            self.rewards,
            self.values,
            self.episode_starts,
            np.asarray(last_values, np.float32),
            np.asarray(last_episode_starts, np.float32),
            gamma,
            gae_lambda,
        )

    def flat(self) -> RolloutBatch:
        """The whole rollout, flattened over steps and environments (step-major)."""
        size = self.n_steps * self.n_envs

        def flat(x):
            return x.reshape((size, *x.shape[2:]))

        return RolloutBatch(
            flat(self.observations),
            flat(self.actions),
            flat(self.log_probs),
            flat(self.advantages),
            flat(self.returns),
            flat(self.values),
        )


class ReplayBuffer:
    """A fixed-size ring buffer of transitions, sampled uniformly.

    Args:
        capacity: the most transitions kept; the oldest are overwritten.
        observation_shape: shape of one observation.
        action_shape: shape of one action.
    """

    def __init__(self, capacity: int, observation_shape, action_shape):
        check_positive_int("capacity", capacity, allow_numpy=True)
        self.capacity = int(capacity)
        self.observations = np.zeros((capacity, *observation_shape), np.float32)
        self.next_observations = np.zeros((capacity, *observation_shape), np.float32)
        self.actions = np.zeros((capacity, *action_shape), np.float32)
        self.rewards = np.zeros((capacity,), np.float32)
        self.dones = np.zeros((capacity,), np.float32)
        self.pos = 0
        self.size = 0

    def add(self, observations, actions, rewards, next_observations, dones) -> None:
        """Adds a batch of transitions (one per environment)."""
        for i in range(len(rewards)):
            p = self.pos
            self.observations[p] = observations[i]
            self.actions[p] = actions[i]
            self.rewards[p] = rewards[i]
            self.next_observations[p] = next_observations[i]
            self.dones[p] = dones[i]
            self.pos = (p + 1) % self.capacity
            self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> ReplayBatch:
        if self.size == 0:
            raise RuntimeError("Cannot sample from an empty replay buffer.")
        index = rng.integers(0, self.size, size=batch_size)
        return ReplayBatch(
            self.observations[index],
            self.actions[index],
            self.rewards[index],
            self.next_observations[index],
            self.dones[index],
        )
