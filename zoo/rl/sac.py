"""SAC: soft actor-critic with twin Q networks and automatic entropy tuning."""

from __future__ import annotations

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf

from layers.validation import (
    check_non_negative_int,
    check_positive_float,
    check_positive_int,
    check_unit_interval,
)
from zoo.rl.base import Agent, GreedyAction
from zoo.rl.buffers import ReplayBuffer
from zoo.rl.networks import (
    check_hidden_sizes,
    check_initializer,
    mlp,
    q_network,
    squashed_gaussian,
    squashed_log_prob,
)
from zoo.rl.optimizers import check_fusable, fused_adam_apply
from zoo.rl.ppo import _NOT_HYPERPARAMETERS

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0
# PyTorch's Adam default, as in stable-baselines3 (Keras's default is 1e-7).
ADAM_EPSILON = 1e-8


class SAC(Agent):
    """Soft actor-critic for Box action spaces, on Keras 3.

    A tanh-squashed Gaussian policy (tfp `Normal` through a `Tanh` bijector) maximises
    `Q - alpha * log pi`; two Q networks with Polyak-averaged targets give the clipped double-Q
    target; `alpha` is tuned to keep the policy's entropy near `target_entropy`. Actions are
    learnt in `[-1, 1]` and rescaled to the environment's bounds. The defaults are
    rl-baselines3-zoo's Pendulum values, which suit classic control.

    Args:
        env: a gymnasium id, a `gymnasium.Env`, or a same-step-autoreset vector env.
        policy: the network family. Defaults to `"mlp"`.
        seed: seeds networks, environments, sampling and replay. Defaults to `None`.
        n_envs: environments run side by side (ids only). Defaults to `1`.
        learning_rate: Adam learning rate of actor, critics and alpha. Defaults to `1e-3`.
        buffer_size: replay capacity. Defaults to `1_000_000`.
        learning_starts: steps of uniform random actions before updates. Defaults to `100`.
        batch_size: minibatch size. Defaults to `256`.
        tau: Polyak coefficient of the target update. Defaults to `0.005`.
        gamma: discount factor. Defaults to `0.99`.
        gradient_steps: updates per environment step. Defaults to `1`.
        initial_alpha: starting entropy coefficient. Defaults to `1.0`.
        target_entropy: entropy target; `None` means `-action_dim`. Defaults to `None`.
        hidden_sizes: hidden units of actor and critics. Defaults to `(256, 256)`.
        initializer: weight initialisation of actor and critics, one of
            `zoo.rl.networks.INITIALIZERS`. Defaults to `"fan_in_uniform"` (PyTorch's
            `nn.Linear` default, which stable-baselines3's SAC uses).
        verbose: `1` shows a progress bar. Defaults to `1`.
        tensorboard_log: directory for TensorBoard scalars. Defaults to `None`.

    Example:

    ```python
    agent = SAC("Pendulum-v1", seed=0).learn(20_000)
    print(agent.evaluate(10))
    ```

    Reference: Haarnoja et al., "Soft Actor-Critic Algorithms and Applications" (2018).
    """

    def __init__(
        self,
        env,
        policy: str = "mlp",
        seed: int | None = None,
        *,
        n_envs: int = 1,
        learning_rate: float = 1e-3,
        buffer_size: int = 1_000_000,
        learning_starts: int = 100,
        batch_size: int = 256,
        tau: float = 0.005,
        gamma: float = 0.99,
        gradient_steps: int = 1,
        initial_alpha: float = 1.0,
        target_entropy: float | None = None,
        hidden_sizes=(256, 256),
        initializer: str = "fan_in_uniform",
        verbose: int = 1,
        tensorboard_log: str | None = None,
    ):
        hyperparameters = {k: v for k, v in locals().items() if k not in _NOT_HYPERPARAMETERS}
        check_positive_float("learning_rate", learning_rate, allow_numpy=True)
        check_positive_int("buffer_size", buffer_size, allow_numpy=True)
        check_positive_int("batch_size", batch_size, allow_numpy=True)
        check_positive_int("gradient_steps", gradient_steps, allow_numpy=True)
        check_positive_float("initial_alpha", initial_alpha, allow_numpy=True)
        check_non_negative_int("learning_starts", learning_starts, allow_numpy=True)
        check_unit_interval("tau", tau, include_low=True, include_high=True)
        check_unit_interval("gamma", gamma, include_low=True, include_high=True)
        self.learning_rate, self.buffer_size = learning_rate, buffer_size
        self.learning_starts, self.batch_size = learning_starts, batch_size
        self.tau, self.gamma, self.gradient_steps = tau, gamma, gradient_steps
        self.initial_alpha, self.target_entropy_arg = initial_alpha, target_entropy
        self.hidden_sizes = check_hidden_sizes(hidden_sizes)
        self.initializer = check_initializer(initializer)
        hyperparameters["hidden_sizes"] = list(self.hidden_sizes)
        super().__init__(env, policy, seed, n_envs, verbose, tensorboard_log, hyperparameters)

    def _check_action_space(self, space) -> None:
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise ValueError(f"SAC supports flat Box action spaces. Received: action_space={space}")
        if not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))):
            raise ValueError(f"SAC needs finite action bounds. Received: action_space={space}")
        self.action_dim = int(space.shape[0])

    def _build(self) -> None:
        obs_dim, act_dim, sizes = self.observation_shape[0], self.action_dim, self.hidden_sizes
        init = self.initializer
        self.actor = mlp(
            obs_dim, sizes, 2 * act_dim, activation="relu", name="actor", initializer=init
        )
        self.q1 = q_network(obs_dim, act_dim, sizes, "q1", init)
        self.q2 = q_network(obs_dim, act_dim, sizes, "q2", init)
        self.q1_target = q_network(obs_dim, act_dim, sizes, "q1_target", init)
        self.q2_target = q_network(obs_dim, act_dim, sizes, "q2_target", init)
        self.q1_target.set_weights(self.q1.get_weights())
        self.q2_target.set_weights(self.q2.get_weights())
        self.log_alpha = keras.Variable(
            np.log(self.initial_alpha).astype("float32"), name="log_alpha"
        )
        self.target_entropy = float(
            -act_dim if self.target_entropy_arg is None else self.target_entropy_arg
        )
        self.critic_variables = self.q1.trainable_variables + self.q2.trainable_variables
        self.actor_optimizer = keras.optimizers.Adam(self.learning_rate, epsilon=ADAM_EPSILON)
        self.critic_optimizer = keras.optimizers.Adam(self.learning_rate, epsilon=ADAM_EPSILON)
        self.alpha_optimizer = keras.optimizers.Adam(self.learning_rate, epsilon=ADAM_EPSILON)
        self.actor_optimizer.build(self.actor.trainable_variables)
        self.critic_optimizer.build(self.critic_variables)
        self.alpha_optimizer.build([self.log_alpha])
        for optimizer in (self.actor_optimizer, self.critic_optimizer, self.alpha_optimizer):
            check_fusable(optimizer)
        self.replay = ReplayBuffer(self.buffer_size, self.observation_shape, (self.action_dim,))
        self._next_actions = None
        self._low = self.action_space.low.astype(np.float32)
        self._high = self.action_space.high.astype(np.float32)

    def _state_variables(self) -> list:
        return [
            *self.actor.weights,
            *self.q1.weights,
            *self.q2.weights,
            *self.q1_target.weights,
            *self.q2_target.weights,
            self.log_alpha,
            *self.actor_optimizer.variables,
            *self.critic_optimizer.variables,
            *self.alpha_optimizer.variables,
            self._tf_rng.state,
        ]

    def _extra_state(self) -> dict[str, np.ndarray]:
        n, r = self.replay.size, self.replay
        return {
            "replay_observations": r.observations[:n],
            "replay_actions": r.actions[:n],
            "replay_rewards": r.rewards[:n],
            "replay_next": r.next_observations[:n],
            "replay_dones": r.dones[:n],
            "replay_pos": np.array(r.pos),
        }

    def _load_extra_state(self, arrays) -> None:
        r = self.replay
        n = len(arrays["replay_rewards"])
        r.observations[:n] = arrays["replay_observations"]
        r.actions[:n] = arrays["replay_actions"]
        r.rewards[:n] = arrays["replay_rewards"]
        r.next_observations[:n] = arrays["replay_next"]
        r.dones[:n] = arrays["replay_dones"]
        r.size, r.pos = n, int(arrays["replay_pos"])

    def _policy(self, observations):
        """Mean and clipped log standard deviation of the pre-squash Gaussian."""
        outputs = self.actor(observations)
        mean, log_std = outputs[:, : self.action_dim], outputs[:, self.action_dim :]
        return mean, tf.clip_by_value(log_std, LOG_STD_MIN, LOG_STD_MAX)

    def _sample_with_log_prob(self, observations):
        mean, log_std = self._policy(observations)
        distribution = squashed_gaussian(mean, log_std)
        # Reparameterised draw before the tanh, so log-probabilities avoid atanh near +-1.
        pre_tanh = distribution.distribution.sample(seed=self._seed())
        return distribution.bijector.forward(pre_tanh), squashed_log_prob(mean, log_std, pre_tanh)

    @tf.function
    def _sample(self, observations):
        return self._sample_with_log_prob(observations)[0]

    @tf.function
    def _greedy(self, observations):
        return tf.tanh(self._policy(observations)[0])

    @tf.function
    def _update(self, observations, actions, rewards, next_observations, dones):
        """One compiled SAC update (see `_update_step`)."""
        return self._update_step(observations, actions, rewards, next_observations, dones)

    @tf.function
    def _update_and_act(self, observations, actions, rewards, next_observations, dones, current):
        """The last update of an environment step and the next step's exploration action for
        the `current` observations, in one graph call (one dispatch per environment step)."""
        logs = self._update_step(observations, actions, rewards, next_observations, dones)
        return logs, self._sample_with_log_prob(current)[0]

    def _update_step(self, observations, actions, rewards, next_observations, dones):
        """One SAC step: critics, then actor, then alpha, then the Polyak target update.

        The order differs from stable-baselines3's (alpha first) without changing the result:
        both use the pre-update alpha in every loss, and the actor's loss sees the updated
        critics on both sides.
        """
        alpha = tf.exp(tf.convert_to_tensor(self.log_alpha))
        next_actions, next_log_probs = self._sample_with_log_prob(next_observations)
        next_q = tf.minimum(
            self.q1_target([next_observations, next_actions]),
            self.q2_target([next_observations, next_actions]),
        )[:, 0]
        target = tf.stop_gradient(
            rewards + self.gamma * (1.0 - dones) * (next_q - alpha * next_log_probs)
        )
        with tf.GradientTape() as tape:
            q1 = self.q1([observations, actions])[:, 0]
            q2 = self.q2([observations, actions])[:, 0]
            critic_loss = 0.5 * (
                tf.reduce_mean(tf.square(q1 - target)) + tf.reduce_mean(tf.square(q2 - target))
            )
        gradients = tape.gradient(critic_loss, self.critic_variables)
        fused_adam_apply(self.critic_optimizer, gradients, self.critic_variables)

        with tf.GradientTape() as tape:
            new_actions, log_probs = self._sample_with_log_prob(observations)
            q = tf.minimum(
                self.q1([observations, new_actions]), self.q2([observations, new_actions])
            )[:, 0]
            actor_loss = tf.reduce_mean(alpha * log_probs - q)
        gradients = tape.gradient(actor_loss, self.actor.trainable_variables)
        fused_adam_apply(self.actor_optimizer, gradients, self.actor.trainable_variables)

        with tf.GradientTape() as tape:
            alpha_loss = -tf.reduce_mean(
                self.log_alpha * tf.stop_gradient(log_probs + self.target_entropy)
            )
        gradients = tape.gradient(alpha_loss, [self.log_alpha])
        fused_adam_apply(self.alpha_optimizer, gradients, [self.log_alpha])

        for network, target_network in [(self.q1, self.q1_target), (self.q2, self.q2_target)]:
            for weight, target_weight in zip(network.weights, target_network.weights, strict=True):
                target_weight.assign_sub(self.tau * (target_weight - weight))
        return {
            "loss": critic_loss + actor_loss,
            "critic_loss": critic_loss,
            "actor_loss": actor_loss,
            "alpha_loss": alpha_loss,
            "alpha": alpha,
            "entropy": -tf.reduce_mean(log_probs),
        }

    def _scale(self, actions: np.ndarray) -> np.ndarray:
        return self._low + (actions + 1.0) * 0.5 * (self._high - self._low)

    def _act(self, observations: np.ndarray, deterministic: bool) -> np.ndarray:
        fn = self._greedy if deterministic else self._sample
        return self._scale(np.asarray(fn(observations)))

    def _train_iteration(self) -> dict[str, float]:
        if self.num_timesteps < self.learning_starts:
            actions = self._np_rng.uniform(-1.0, 1.0, (self.n_envs, self.action_dim))
        elif self._next_actions is not None:  # drawn by the previous step's `_update_and_act`
            # (never after a load: `learn` then resets the environments, and it is not saved)
            actions = self._next_actions
        else:
            actions = np.asarray(self._sample(self._last_obs.astype(np.float32)))
        self._next_actions = None
        actions = actions.astype(np.float32)
        next_obs, rewards, terminated, truncated, infos = self.env.step(self._scale(actions))
        self.num_timesteps += self.n_envs
        self._track_episodes(rewards, terminated | truncated)
        # The next observation of a finished episode is its final one, not the reset one.
        stored_next = next_obs.copy()
        for i in np.flatnonzero(terminated | truncated):
            stored_next[i] = infos["final_obs"][i]
        self.replay.add(self._last_obs, actions, rewards, stored_next, terminated)
        self._last_obs = next_obs
        logs: dict[str, float] = {}
        if self.num_timesteps >= self.learning_starts:
            for step in range(self.gradient_steps):
                batch = self.replay.sample(self.batch_size, self._np_rng)
                if step < self.gradient_steps - 1:
                    logs = self._update(*batch)
                else:
                    logs, next_actions = self._update_and_act(*batch, next_obs.astype(np.float32))
                    self._next_actions = np.asarray(next_actions)
            if self.num_timesteps % 100 < self.n_envs:
                logs = {k: float(v) for k, v in logs.items()}
                self._log({f"train/{k}": v for k, v in logs.items()})
            logs = {"loss": logs["loss"]}
        return logs

    def _policy_model(self) -> keras.Model:
        observation = keras.Input(self.observation_shape, name="observation")
        action = GreedyAction("tanh", self._low, self._high, self.action_dim)(
            self.actor(observation)
        )
        return keras.Model(observation, {"action": action}, name="sac_policy")
