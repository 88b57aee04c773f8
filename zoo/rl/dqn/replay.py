"""n-step transition accumulation and replay buffers with optional proportional prioritisation:
`DQNReplayBuffer` in NumPy (the reference) and `GraphReplay` in TensorFlow variables (what the
agent trains from: sampled and re-prioritised inside the compiled training loop)."""

from __future__ import annotations

import collections
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from layers.validation import check_positive_int, check_unit_interval
from zoo.rl.dqn.sum_tree import GraphSumTree, SumTree


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


class GraphReplay:
    """`DQNReplayBuffer`'s ring buffer and sum-tree held in TensorFlow variables.

    The same contents and sampling rule (stratified proportional sampling with importance
    weights `(N P(i))^-beta / max`, new transitions at the largest priority seen so far, or
    uniform sampling when `alpha == 0`), but sampling, gathering the batch and writing the new
    priorities are graph functions (`graph_sample`, `gather`, `graph_update_priorities`), so
    the agent runs many prioritised updates in one compiled call, each sampling from the
    priorities the previous one wrote. New transitions are staged in NumPy (`add`) and
    written to the variables in one scatter (`store`), by the next training call or when
    `staging` transitions are waiting. Row `capacity` is a padding slot with priority 0
    (never sampled) that fills the unused rows of a staged batch, so staged batches have one
    static shape. The NumPy methods (`sample`, `update_priorities`, `state`, `load_state`)
    give `DQNReplayBuffer`'s interface and checkpoint keys.

    Args:
        capacity: the most transitions kept; the oldest are overwritten.
        observation_shape: shape of one stored observation.
        observation_dtype: storage dtype (`uint8` keeps image buffers small).
        alpha: prioritisation exponent; `0` samples uniformly. Defaults to `0.0`.
        epsilon: added to priorities so no transition starves. Defaults to `1e-6`.
        staging: transitions staged in NumPy between writes. Defaults to `256`.

    Example:

    ```python
    buffer = GraphReplay(1000, (4,), np.float32, alpha=0.5)
    buffer.add(transitions)
    batch = buffer.sample(32, rng, beta=0.4)  # NumPy, as DQNReplayBuffer.sample
    buffer.update_priorities(batch.indices, td_errors)
    ```

    Reference: Schaul et al., "Prioritized Experience Replay" (2016).
    """

    def __init__(
        self, capacity, observation_shape, observation_dtype, alpha=0.0, epsilon=1e-6,
        staging=256,
    ):  # fmt: skip
        self.capacity = check_positive_int("capacity", capacity, allow_numpy=True)
        check_unit_interval("alpha", alpha, include_low=True, include_high=True)
        self.alpha, self.epsilon = float(alpha), float(epsilon)
        self.observation_shape = tuple(observation_shape)
        self.observation_dtype = np.dtype(observation_dtype)
        self.staging = min(check_positive_int("staging", staging, allow_numpy=True), capacity)
        rows = capacity + 1  # the last row is the padding slot

        def variable(name, shape, dtype):
            return tf.Variable(tf.zeros(shape, dtype), trainable=False, name=f"replay_{name}")

        with tf.init_scope():
            self.observations = variable(
                "observations", (rows, *observation_shape), self.observation_dtype
            )
            self.next_observations = variable(
                "next", (rows, *observation_shape), self.observation_dtype
            )
            self.actions = variable("actions", (rows,), tf.int32)
            self.returns = variable("returns", (rows,), tf.float32)
            self.discounts = variable("discounts", (rows,), tf.float32)
            self.tree = GraphSumTree(rows) if self.alpha > 0 else None
            self.max_priority = tf.Variable(1.0, dtype=tf.float64, trainable=False,
                                            name="replay_max_priority")  # fmt: skip
        self._staged = {
            "slots": np.full(self.staging, capacity, np.int32),
            "observations": np.zeros((self.staging, *observation_shape), self.observation_dtype),
            "actions": np.zeros(self.staging, np.int32),
            "returns": np.zeros(self.staging, np.float32),
            "next_observations": np.zeros(
                (self.staging, *observation_shape), self.observation_dtype
            ),
            "discounts": np.zeros(self.staging, np.float32),
        }
        self._count = 0
        self.pos = 0
        self.size = 0
        self._store_function = self._sample_function = self._priority_function = None

    @property
    def prioritized(self) -> bool:
        return self.tree is not None

    # Writing.
    def add(self, transitions) -> None:
        """Stages `(observation, action, return, next_observation, discount)` tuples."""
        staged = self._staged
        for obs, action, ret, next_obs, discount in transitions:
            i = self._count
            staged["slots"][i] = self.pos
            staged["observations"][i] = obs
            staged["actions"][i] = action
            staged["returns"][i] = ret
            staged["next_observations"][i] = next_obs
            staged["discounts"][i] = discount
            self._count = i + 1
            self.pos = (self.pos + 1) % self.capacity
            self.size = min(self.size + 1, self.capacity)
            if self._count == self.staging:
                self.flush()

    def take_staged(self) -> tuple:
        """The staged batch (padded to `staging` rows) for `store`, and empties the stage."""
        staged = self._staged
        keys = ("slots", "observations", "actions", "returns", "next_observations", "discounts")
        out = tuple(staged[key].copy() for key in keys)
        staged["slots"][:] = self.capacity
        self._count = 0
        return out

    def store(self, slots, observations, actions, returns, next_observations, discounts) -> None:
        """Graph function: writes a staged batch; new slots get the largest priority so far."""
        index = slots[:, None]
        self.observations.scatter_nd_update(index, observations)
        self.actions.scatter_nd_update(index, actions)
        self.returns.scatter_nd_update(index, returns)
        self.next_observations.scatter_nd_update(index, next_observations)
        self.discounts.scatter_nd_update(index, discounts)
        if self.tree is not None:
            fresh = tf.fill(tf.shape(slots), self.max_priority**self.alpha)
            self.tree.update(slots, tf.where(slots == self.capacity, tf.zeros_like(fresh), fresh))

    def flush(self) -> None:
        """Writes the staged transitions to the variables now."""
        if self._count == 0:
            return
        if self._store_function is None:
            self._store_function = tf.function(self.store, autograph=False)
        self._store_function(*self.take_staged())

    # Graph-side sampling and priorities.
    def graph_sample(self, size, beta, uniforms):
        """Stratified proportional sample (graph function): one leaf per equal slice of the
        total, at `uniforms` (in [0, 1)) within its slice; returns the indices and the
        importance weights `(size P(i))^-beta / max`."""
        batch = tf.shape(uniforms)[0]
        total = self.tree.total()
        segment = total / tf.cast(batch, tf.float64)
        values = tf.range(batch, dtype=tf.float64) * segment + segment * uniforms
        index, priorities = self.tree.find(values)
        probabilities = priorities / total
        weights = (tf.cast(size, tf.float64) * probabilities) ** -tf.cast(beta, tf.float64)
        return index, tf.cast(weights / tf.reduce_max(weights), tf.float32)

    def graph_update_priorities(self, index, priorities) -> None:
        """Sets the priorities of slots `index` (graph function)."""
        priorities = tf.cast(priorities, tf.float64) + self.epsilon
        self.max_priority.assign(tf.maximum(self.max_priority, tf.reduce_max(priorities)))
        self.tree.update(index, priorities**self.alpha)

    def gather(self, index) -> tuple:
        """`(observations, actions, returns, next_observations, discounts)` of slots `index`."""
        return (
            tf.gather(self.observations, index), tf.gather(self.actions, index),
            tf.gather(self.returns, index), tf.gather(self.next_observations, index),
            tf.gather(self.discounts, index),
        )  # fmt: skip

    # NumPy interface (DQNReplayBuffer's).
    def sample(self, batch_size: int, rng: np.random.Generator, beta: float = 1.0) -> NStepBatch:
        """A batch drawn as `DQNReplayBuffer.sample` draws it (the same draws from `rng`)."""
        if self.size == 0:
            raise RuntimeError("Cannot sample from an empty replay buffer.")
        if self.tree is None:
            draws = rng.integers(0, self.size, size=batch_size)
        else:
            draws = rng.uniform(0.0, 1.0, batch_size)
        return self.sample_at(draws, beta)

    def sample_at(self, draws: np.ndarray, beta: float = 1.0) -> NStepBatch:
        """The batch for given draws: uniforms in [0, 1) within each prioritised stratum, or
        the slots themselves when uniform (what one update of the agent's training loop
        samples from its row of draws)."""
        self.flush()
        if self._sample_function is None:
            self._sample_function = tf.function(self._sample, autograph=False)
        draws = np.asarray(draws, np.float64 if self.tree is not None else np.int32)
        out = self._sample_function(draws, np.float64(self.size), np.float64(beta))
        return NStepBatch(*(np.asarray(v) for v in out))

    def _sample(self, draws, size, beta):
        if self.tree is None:
            index, weights = draws, tf.ones(tf.shape(draws), tf.float32)
        else:
            index, weights = self.graph_sample(size, beta, draws)
        obs, actions, returns, next_obs, discounts = self.gather(index)
        return obs, tf.cast(actions, tf.int64), returns, next_obs, discounts, weights, index

    def update_priorities(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        """Sets the priorities (e.g. |TD error| or the distributional loss) of sampled slots."""
        if self.tree is None:
            return
        priorities = np.asarray(priorities, np.float64)
        if np.any(priorities < 0) or not np.all(np.isfinite(priorities)):
            raise ValueError(f"Priorities must be finite and >= 0. Received: {priorities}")
        self.flush()
        if self._priority_function is None:
            self._priority_function = tf.function(self.graph_update_priorities, autograph=False)
        self._priority_function(np.asarray(indices, np.int32), priorities)

    def check_finite(self) -> None:
        """Raises if a priority became NaN or infinite (e.g. a diverged loss)."""
        total = None if self.tree is None else float(np.sum(self.tree.levels[0].numpy()))
        if total is not None and not np.isfinite(total):
            raise ValueError(
                "A priority is not finite (the loss diverged); lower the learning rate or "
                f"check the rewards. Received: priority total={total}"
            )

    def state(self) -> dict[str, np.ndarray]:
        self.flush()
        n = self.size
        state = {
            "replay_observations": self.observations[:n].numpy(),
            "replay_actions": self.actions[:n].numpy().astype(np.int64),
            "replay_returns": self.returns[:n].numpy(),
            "replay_next": self.next_observations[:n].numpy(),
            "replay_discounts": self.discounts[:n].numpy(),
            "replay_pos": np.array(self.pos),
            "replay_max_priority": np.array(float(self.max_priority)),
        }
        if self.tree is not None:
            state["replay_priorities"] = self.tree.numpy()[:n]
        return state

    def load_state(self, arrays) -> None:
        n = len(arrays["replay_returns"])
        self.take_staged()
        for variable, key in (
            (self.observations, "replay_observations"), (self.actions, "replay_actions"),
            (self.returns, "replay_returns"), (self.next_observations, "replay_next"),
            (self.discounts, "replay_discounts"),
        ):  # fmt: skip
            values = np.zeros(variable.shape, variable.dtype.as_numpy_dtype)
            values[:n] = arrays[key]
            variable.assign(values)
        self.size, self.pos = n, int(arrays["replay_pos"])
        self.max_priority.assign(float(arrays["replay_max_priority"]))
        if self.tree is not None:
            self.tree.assign(np.asarray(arrays["replay_priorities"], np.float64))
