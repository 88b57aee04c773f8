"""n-step transition accumulation and a replay buffer with optional proportional prioritisation."""

from __future__ import annotations

import collections
from typing import NamedTuple

import numpy as np

from layers.validation import check_positive_int, check_unit_interval
from zoo.rl.dqn.sum_tree import SumTree


class NStepBatch(NamedTuple):
    """Sampled n-step transitions: the target is `returns + discounts * Q(next_observations)`.

    `discounts` is `gamma ** k` for a transition spanning `k` rewards, and 0 where the episode
    terminated inside them. `weights` are importance-sampling weights (ones when uniform) and
    `indices` the buffer slots (for priority updates).
    """

    observations: np.ndarray
    actions: np.ndarray
    returns: np.ndarray
    next_observations: np.ndarray
    discounts: np.ndarray
    weights: np.ndarray
    indices: np.ndarray


class NStepAccumulator:
    """Turns each environment's stream of 1-step transitions into n-step ones.

    Once `n` steps are pending, the oldest leaves as `(s_t, a_t, sum_k gamma^k r_{t+k},
    s_{t+n}, gamma^n)`. When an episode ends every pending step leaves, bootstrapping from the
    final observation with `gamma^k` if it was truncated and with discount 0 if it terminated.

    Args:
        n_step: number of rewards summed per transition.
        gamma: discount factor.
        n_envs: number of environments streamed side by side.

    Example:

    ```python
    acc = NStepAccumulator(n_step=2, gamma=0.5, n_envs=1)
    out = acc.add(obs, actions, rewards, next_obs, terminated, truncated)
    ```

    Reference: Sutton, "Learning to predict by the methods of temporal differences" (1988);
    Hessel et al., "Rainbow" (2018), section 2 (multi-step learning).
    """

    def __init__(self, n_step: int, gamma: float, n_envs: int):
        self.n_step = check_positive_int("n_step", n_step, allow_numpy=True)
        self.gamma = float(gamma)
        self.pending = [collections.deque() for _ in range(n_envs)]

    def reset(self) -> None:
        for queue in self.pending:
            queue.clear()

    def _emit(self, queue, next_obs, terminated: bool, out: list) -> None:
        rewards = [step[2] for step in queue]
        ret = 0.0
        for reward in reversed(rewards):
            ret = reward + self.gamma * ret
        discount = 0.0 if terminated else self.gamma ** len(rewards)
        obs, action, _ = queue.popleft()
        out.append((obs, action, ret, next_obs, discount))

    def add(self, observations, actions, rewards, next_observations, terminated, truncated):
        """Adds one vector step; returns the finished n-step transitions as a list of tuples
        `(observation, action, return, next_observation, discount)`."""
        out: list = []
        for i, queue in enumerate(self.pending):
            queue.append((observations[i], actions[i], float(rewards[i])))
            if terminated[i] or truncated[i]:
                while queue:
                    self._emit(queue, next_observations[i], bool(terminated[i]), out)
            elif len(queue) == self.n_step:
                self._emit(queue, next_observations[i], False, out)
        return out


class DQNReplayBuffer:
    """A ring buffer of n-step transitions, sampled uniformly or by priority.

    With `alpha > 0` a transition is drawn with probability `p_i^alpha / sum_k p_k^alpha`
    (a `SumTree` of `p^alpha`), new transitions get the largest priority seen so far, and each
    sample carries the weight `(N P(i))^-beta` divided by the batch's largest weight.

    Args:
        capacity: the most transitions kept; the oldest are overwritten.
        observation_shape: shape of one stored observation.
        observation_dtype: storage dtype (`uint8` keeps image buffers small).
        alpha: prioritisation exponent; `0` samples uniformly. Defaults to `0.0`.
        epsilon: added to priorities so no transition starves. Defaults to `1e-6`.

    Example:

    ```python
    buffer = DQNReplayBuffer(1000, (4,), np.float32, alpha=0.5)
    buffer.add(transitions)
    batch = buffer.sample(32, rng, beta=0.4)
    buffer.update_priorities(batch.indices, td_errors)
    ```

    Reference: Schaul et al., "Prioritized Experience Replay" (2016).
    """

    def __init__(self, capacity, observation_shape, observation_dtype, alpha=0.0, epsilon=1e-6):
        self.capacity = check_positive_int("capacity", capacity, allow_numpy=True)
        check_unit_interval("alpha", alpha, include_low=True, include_high=True)
        self.alpha, self.epsilon = float(alpha), float(epsilon)
        self.observations = np.zeros((capacity, *observation_shape), observation_dtype)
        self.next_observations = np.zeros((capacity, *observation_shape), observation_dtype)
        self.actions = np.zeros((capacity,), np.int64)
        self.returns = np.zeros((capacity,), np.float32)
        self.discounts = np.zeros((capacity,), np.float32)
        self.tree = SumTree(capacity) if self.alpha > 0 else None
        self.max_priority = 1.0
        self.pos = 0
        self.size = 0

    @property
    def prioritized(self) -> bool:
        return self.tree is not None

    def add(self, transitions) -> None:
        """Adds `(observation, action, return, next_observation, discount)` tuples."""
        slots = []
        for obs, action, ret, next_obs, discount in transitions:
            p = self.pos
            slots.append(p)
            self.observations[p] = obs
            self.actions[p] = action
            self.returns[p] = ret
            self.next_observations[p] = next_obs
            self.discounts[p] = discount
            self.pos = (p + 1) % self.capacity
            self.size = min(self.size + 1, self.capacity)
        if self.tree is not None and slots:
            self.tree.update(np.array(slots), np.full(len(slots), self.max_priority**self.alpha))

    def sample(self, batch_size: int, rng: np.random.Generator, beta: float = 1.0) -> NStepBatch:
        if self.size == 0:
            raise RuntimeError("Cannot sample from an empty replay buffer.")
        if self.tree is None:
            index = rng.integers(0, self.size, size=batch_size)
            weights = np.ones(batch_size, np.float32)
        else:
            index = self.tree.sample(batch_size, rng)
            probabilities = self.tree.priorities[index] / self.tree.total
            weights = (self.size * probabilities) ** -beta
            weights = (weights / weights.max()).astype(np.float32)
        return NStepBatch(
            self.observations[index],
            self.actions[index],
            self.returns[index],
            self.next_observations[index],
            self.discounts[index],
            weights,
            index,
        )

    def update_priorities(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        """Sets the priorities (e.g. |TD error| or the distributional loss) of sampled slots."""
        if self.tree is None:
            return
        priorities = np.asarray(priorities, np.float64) + self.epsilon
        self.max_priority = max(self.max_priority, float(priorities.max()))
        self.tree.update(indices, priorities**self.alpha)

    def state(self) -> dict[str, np.ndarray]:
        n = self.size
        state = {
            "replay_observations": self.observations[:n],
            "replay_actions": self.actions[:n],
            "replay_returns": self.returns[:n],
            "replay_next": self.next_observations[:n],
            "replay_discounts": self.discounts[:n],
            "replay_pos": np.array(self.pos),
            "replay_max_priority": np.array(self.max_priority),
        }
        if self.tree is not None:
            state["replay_priorities"] = self.tree.priorities[:n]
        return state

    def load_state(self, arrays) -> None:
        n = len(arrays["replay_returns"])
        self.observations[:n] = arrays["replay_observations"]
        self.actions[:n] = arrays["replay_actions"]
        self.returns[:n] = arrays["replay_returns"]
        self.next_observations[:n] = arrays["replay_next"]
        self.discounts[:n] = arrays["replay_discounts"]
        self.size, self.pos = n, int(arrays["replay_pos"])
        self.max_priority = float(arrays["replay_max_priority"])
        if self.tree is not None:
            self.tree.update(np.arange(n), arrays["replay_priorities"])
