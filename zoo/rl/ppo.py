"""PPO: proximal policy optimisation with a clipped surrogate, for gymnasium environments."""

from __future__ import annotations

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from layers.validation import (
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
    check_unit_interval,
)
from zoo.rl.base import Agent, GreedyAction
from zoo.rl.buffers import RolloutBatch, RolloutBuffer
from zoo.rl.networks import check_hidden_sizes, mlp
from zoo.rl.normalization import RunningMeanStd

tfd = tfp.distributions
_NOT_HYPERPARAMETERS = ("self", "env", "policy", "seed", "__class__")
_LOG_NAMES = ("loss", "policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction")


class PPO(Agent):
    """Proximal policy optimisation (clipped surrogate) with GAE, on Keras 3.

    Collects `n_steps` steps from each of `n_envs` environments, computes generalised advantage
    estimates, then runs `n_epochs` passes of minibatch updates of the clipped surrogate, a
    (optionally clipped) value loss and an entropy bonus. Discrete actions use a categorical
    policy, Box actions a diagonal Gaussian with a state-independent log standard deviation.
    The defaults are rl-baselines3-zoo's tuned CartPole values, which suit classic control.

    Args:
        env: a gymnasium id, a `gymnasium.Env`, or a `gymnasium.vector.VectorEnv` built with
            `autoreset_mode=AutoresetMode.SAME_STEP`.
        policy: the network family. Defaults to `"mlp"`.
        seed: seeds networks, environments, sampling and minibatch order. Defaults to `None`.
        n_envs: environments run side by side (ids only). Defaults to `8`.
        vectorization_mode: `"sync"` steps the environments in this process, `"async"` each in
            a worker process (gymnasium's `AsyncVectorEnv`; ids only; worth it when a step is
            slower than about 0.1 ms). Call `close()` to stop the workers. Defaults to `"sync"`.
        n_steps: steps per environment per rollout. Defaults to `32`.
        batch_size: minibatch size. Defaults to `256`.
        n_epochs: passes over each rollout. Defaults to `20`.
        learning_rate: Adam learning rate (decays linearly to 0 when `linear_decay`).
            Defaults to `1e-3`.
        clip_range: surrogate clipping epsilon (decays like the learning rate). Defaults to `0.2`.
        clip_range_vf: value clipping around the old values; `None` disables it.
            Defaults to `None`.
        gamma: discount factor. Defaults to `0.98`.
        gae_lambda: GAE lambda. Defaults to `0.8`.
        ent_coef: entropy bonus weight. Defaults to `0.0`.
        vf_coef: value loss weight. Defaults to `0.5`.
        max_grad_norm: global gradient-norm clip. Defaults to `0.5`.
        normalize_advantage: standardise advantages per minibatch. Defaults to `True`.
        normalize_observations: normalise observations with running statistics (saved and
            exported with the policy). Defaults to `False`.
        linear_decay: decay learning rate and clip range linearly to 0 over each `learn`
            target. Defaults to `True`.
        hidden_sizes: hidden units of the actor and critic MLPs. Defaults to `(64, 64)`.
        verbose: `1` shows a progress bar. Defaults to `1`.
        tensorboard_log: directory for TensorBoard scalars; `None` disables them.
            Defaults to `None`.

    Example:

    ```python
    agent = PPO("CartPole-v1", seed=0).learn(50_000)
    mean_return, std_return = agent.evaluate(10)
    ```

    Reference: Schulman et al., "Proximal Policy Optimization Algorithms" (2017).
    """

    def __init__(
        self,
        env,
        policy: str = "mlp",
        seed: int | None = None,
        *,
        n_envs: int = 8,
        vectorization_mode: str = "sync",
        n_steps: int = 32,
        batch_size: int = 256,
        n_epochs: int = 20,
        learning_rate: float = 1e-3,
        clip_range: float = 0.2,
        clip_range_vf: float | None = None,
        gamma: float = 0.98,
        gae_lambda: float = 0.8,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        normalize_advantage: bool = True,
        normalize_observations: bool = False,
        linear_decay: bool = True,
        hidden_sizes=(64, 64),
        verbose: int = 1,
        tensorboard_log: str | None = None,
    ):
        hyperparameters = {k: v for k, v in locals().items() if k not in _NOT_HYPERPARAMETERS}
        for name, value in [
            ("n_steps", n_steps),
            ("batch_size", batch_size),
            ("n_epochs", n_epochs),
        ]:
            check_positive_int(name, value, allow_numpy=True)
        for name, value in [
            ("learning_rate", learning_rate),
            ("clip_range", clip_range),
            ("max_grad_norm", max_grad_norm),
        ]:
            check_positive_float(name, value, allow_numpy=True)
        check_positive_float("clip_range_vf", clip_range_vf, allow_none=True, allow_numpy=True)
        check_unit_interval("gamma", gamma, include_low=True, include_high=True)
        check_unit_interval("gae_lambda", gae_lambda, include_low=True, include_high=True)
        check_non_negative_float("ent_coef", ent_coef, allow_numpy=True)
        check_non_negative_float("vf_coef", vf_coef, allow_numpy=True)
        self.n_steps, self.batch_size, self.n_epochs = n_steps, batch_size, n_epochs
        self.learning_rate, self.clip_range, self.clip_range_vf = (
            learning_rate,
            clip_range,
            clip_range_vf,
        )
        self.gamma, self.gae_lambda = gamma, gae_lambda
        self.ent_coef, self.vf_coef, self.max_grad_norm = ent_coef, vf_coef, max_grad_norm
        self.normalize_advantage = normalize_advantage
        self.normalize_observations = normalize_observations
        self.linear_decay = linear_decay
        self.hidden_sizes = check_hidden_sizes(hidden_sizes)
        hyperparameters["hidden_sizes"] = list(self.hidden_sizes)
        super().__init__(
            env,
            policy,
            seed,
            n_envs,
            verbose,
            tensorboard_log,
            hyperparameters,
            vectorization_mode=vectorization_mode,
        )

    def _check_action_space(self, space) -> None:
        if isinstance(space, gym.spaces.Discrete):
            self.discrete = True
            self.action_dim = int(space.n)
        elif isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
            self.discrete = False
            self.action_dim = int(space.shape[0])
        else:
            raise ValueError(
                f"PPO supports Discrete and flat Box action spaces. Received: action_space={space}"
            )

    def _build(self) -> None:
        obs_dim = self.observation_shape[0]
        self.actor = mlp(
            obs_dim, self.hidden_sizes, self.action_dim, output_scale=0.01, name="actor"
        )
        self.critic = mlp(obs_dim, self.hidden_sizes, 1, output_scale=1.0, name="critic")
        self.log_std = keras.Variable(
            np.zeros(self.action_dim, "float32"), name="log_std", trainable=not self.discrete
        )
        self.obs_rms = RunningMeanStd(self.observation_shape, name="observation_normalizer")
        self.trainable_variables = self.actor.trainable_variables + self.critic.trainable_variables
        if not self.discrete:
            self.trainable_variables.append(self.log_std)
        self.optimizer = keras.optimizers.Adam(self.learning_rate, epsilon=1e-5)
        self.optimizer.build(self.trainable_variables)
        action_shape = () if self.discrete else (self.action_dim,)
        self.buffer = RolloutBuffer(
            self.n_steps,
            self.n_envs,
            self.observation_shape,
            action_shape,
            np.int64 if self.discrete else np.float32,
        )

    def _state_variables(self) -> list:
        return [
            *self.actor.weights,
            *self.critic.weights,
            self.log_std,
            *self.optimizer.variables,
            *self.obs_rms.weights,
            self._tf_rng.state,
        ]

    def _distribution(self, observations) -> tfd.Distribution:
        outputs = self.actor(observations)
        if self.discrete:
            return tfd.Categorical(logits=outputs)
        scale = tf.exp(tf.convert_to_tensor(self.log_std)) * tf.ones_like(outputs)
        return tfd.Independent(tfd.Normal(outputs, scale), reinterpreted_batch_ndims=1)

    def _normalize(self, observations: np.ndarray) -> np.ndarray:
        if not self.normalize_observations:
            # No copy when already float32: the rollout buffer copies what it keeps.
            return np.asarray(observations, np.float32)
        return np.asarray(self.obs_rms(observations.astype(np.float32)))

    @tf.function
    def _sample(self, observations):
        distribution = self._distribution(observations)
        actions = distribution.sample(seed=self._seed())
        values = self.critic(observations)[:, 0]
        return actions, values, distribution.log_prob(actions)

    @tf.function(reduce_retracing=True)
    def _values(self, observations):
        return self.critic(observations)[:, 0]

    @tf.function
    def _greedy(self, observations):
        return self._policy_head(self.actor(observations))

    @tf.function
    def _update_epochs(self, rollout: RolloutBatch, clip_range):
        """The whole update step: `n_epochs` shuffled passes of minibatch updates over a rollout.

        Minibatches are consecutive slices of a fresh permutation per epoch; when `batch_size`
        does not divide the rollout the last one is smaller. Returns the logs of the last
        minibatch.
        """
        size = tf.shape(rollout.advantages)[0]
        logs = {name: tf.constant(0.0) for name in _LOG_NAMES}
        for _ in tf.range(self.n_epochs):
            order = tf.random.experimental.stateless_shuffle(tf.range(size), seed=self._seed())
            for start in tf.range(0, size, self.batch_size):
                index = order[start : start + self.batch_size]
                logs = self._update(
                    RolloutBatch(*(tf.gather(x, index) for x in rollout)), clip_range
                )
        return logs

    def _update(self, minibatch: RolloutBatch, clip_range) -> dict:
        """One gradient step of PPO's loss on a minibatch (traced inside `_update_epochs`)."""
        observations, actions, old_log_probs, advantages, returns, old_values = minibatch
        if self.normalize_advantage:
            advantages = (advantages - tf.reduce_mean(advantages)) / (
                tf.math.reduce_std(advantages) + 1e-8
            )
        with tf.GradientTape() as tape:
            distribution = self._distribution(observations)
            log_probs = distribution.log_prob(actions)
            ratio = tf.exp(log_probs - old_log_probs)
            # Clipped surrogate: a pessimistic bound that removes the incentive to move the
            # ratio outside [1 - clip, 1 + clip].
            surrogate = tf.minimum(
                advantages * ratio,
                advantages * tf.clip_by_value(ratio, 1.0 - clip_range, 1.0 + clip_range),
            )
            policy_loss = -tf.reduce_mean(surrogate)
            values = self.critic(observations)[:, 0]
            if self.clip_range_vf is not None:
                values = old_values + tf.clip_by_value(
                    values - old_values, -self.clip_range_vf, self.clip_range_vf
                )
            value_loss = tf.reduce_mean(tf.square(returns - values))
            entropy = tf.reduce_mean(distribution.entropy())
            loss = policy_loss + self.vf_coef * value_loss - self.ent_coef * entropy
        gradients = tape.gradient(loss, self.trainable_variables)
        gradients, _ = tf.clip_by_global_norm(gradients, self.max_grad_norm)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables, strict=True))
        log_ratio = log_probs - old_log_probs
        return {
            "loss": loss,
            "policy_loss": policy_loss,
            "value_loss": value_loss,
            "entropy": entropy,
            "approx_kl": tf.reduce_mean(tf.exp(log_ratio) - 1.0 - log_ratio),
            "clip_fraction": tf.reduce_mean(tf.cast(tf.abs(ratio - 1.0) > clip_range, tf.float32)),
        }

    def _policy_head(self, outputs):
        if self.discrete:
            return GreedyAction("argmax")(outputs)
        return GreedyAction("clip", self.action_space.low, self.action_space.high)(outputs)

    def _act(self, observations: np.ndarray, deterministic: bool) -> np.ndarray:
        observations = self._normalize(observations)
        if deterministic:
            return np.asarray(self._greedy(observations))
        actions = np.asarray(self._sample(observations)[0])
        return actions if self.discrete else self._clip(actions)

    def _clip(self, actions: np.ndarray) -> np.ndarray:
        return np.clip(actions, self.action_space.low, self.action_space.high)

    def _collect_rollout(self) -> None:
        self.buffer.reset()
        while not self.buffer.full:
            if self.normalize_observations:
                self.obs_rms.update(self._last_obs)
            observations = self._normalize(self._last_obs)
            actions, values, log_probs = (t.numpy() for t in self._sample(observations))
            env_actions = actions if self.discrete else self._clip(actions)
            next_obs, rewards, terminated, truncated, infos = self.env.step(env_actions)
            self.num_timesteps += self.n_envs
            rewards = rewards.astype(np.float32)
            dones = terminated | truncated
            self._track_episodes(rewards, dones)
            # A time limit is not a terminal state: bootstrap from the final observation.
            truncated_only = np.flatnonzero(truncated & ~terminated)
            if truncated_only.size:
                finals = self._normalize(np.stack(infos["final_obs"][truncated_only]))
                final_values = np.asarray(self._values(finals), np.float64)
                # gamma * V in float64 then rounded, as a Python-float product would be.
                rewards[truncated_only] += (self.gamma * final_values).astype(np.float32)
            self.buffer.add(
                observations, actions, rewards, self._last_episode_starts, values, log_probs
            )
            self._last_obs = next_obs
            self._last_episode_starts = dones.astype(np.float32)
        last_values = np.asarray(self._values(self._normalize(self._last_obs)))
        self.buffer.finish(last_values, self._last_episode_starts, self.gamma, self.gae_lambda)

    def _train_iteration(self) -> dict[str, float]:
        self._collect_rollout()
        decay = self.progress_remaining if self.linear_decay else 1.0
        self.optimizer.learning_rate.assign(self.learning_rate * decay)
        clip_range = tf.constant(self.clip_range * decay, tf.float32)
        logs = self._update_epochs(self.buffer.flat(), clip_range)
        logs = {k: float(v) for k, v in logs.items()}
        self._log(
            {f"train/{k}": v for k, v in logs.items()}
            | {
                "train/learning_rate": self.learning_rate * decay,
                "train/clip_range": self.clip_range * decay,
            }
        )
        return logs

    def _policy_model(self) -> keras.Model:
        observation = keras.Input(self.observation_shape, name="observation")
        x = self.obs_rms(observation) if self.normalize_observations else observation
        action = self._policy_head(self.actor(x))
        return keras.Model(observation, {"action": action}, name="ppo_policy")
