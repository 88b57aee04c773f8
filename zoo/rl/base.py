"""`Agent`: the thin base PPO and SAC share: environments, learn loop, predict, evaluate,
save/load, policy export, progress bar and TensorBoard scalars."""

from __future__ import annotations

import collections
import json
import os
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf
from gymnasium.vector import AutoresetMode

from layers.validation import check_choice, check_non_negative_int, check_positive_int
from zoo.rl.networks import POLICIES

STATE_FILE = "state.npz"
META_FILE = "agent.json"
VECTORIZATION_MODES = ("sync", "async")


@keras.saving.register_keras_serializable(package="keras_zoo")
class GreedyAction(keras.layers.Layer):
    """Turns a policy network's output into the deterministic action an exported policy serves.

    Args:
        kind: `"argmax"` (logits -> action index), `"clip"` (Gaussian mean -> clipped to the
            bounds) or `"tanh"` (the first `action_dim` outputs are squashed and rescaled from
            `[-1, 1]` to the bounds).
        low: lower action bounds (continuous kinds). Defaults to `None`.
        high: upper action bounds (continuous kinds). Defaults to `None`.
        action_dim: number of action dimensions. Defaults to `None` (all outputs).

    Example:

    ```python
    GreedyAction("argmax")(np.array([[0.1, 2.0]], "float32"))  # [1]
    ```
    """

    def __init__(self, kind: str, low=None, high=None, action_dim=None, **kwargs):
        super().__init__(**kwargs)
        if kind not in ("argmax", "clip", "tanh"):
            raise ValueError(
                f"`kind` must be one of 'argmax', 'clip', 'tanh'. Received: kind={kind!r}"
            )
        if kind != "argmax" and (low is None or high is None):
            raise ValueError(f"`low` and `high` are required for kind={kind!r}.")
        self.kind = kind
        self.low = None if low is None else [float(v) for v in np.ravel(low)]
        self.high = None if high is None else [float(v) for v in np.ravel(high)]
        self.action_dim = action_dim

    def call(self, inputs):
        if self.kind == "argmax":
            return keras.ops.argmax(inputs, axis=-1)
        low = keras.ops.convert_to_tensor(self.low, inputs.dtype)
        high = keras.ops.convert_to_tensor(self.high, inputs.dtype)
        if self.kind == "clip":
            return keras.ops.clip(inputs, low, high)
        squashed = keras.ops.tanh(inputs[..., : self.action_dim])
        return low + (squashed + 1.0) * 0.5 * (high - low)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {"kind": self.kind, "low": self.low, "high": self.high, "action_dim": self.action_dim}
        )
        return config


def make_vector_env(
    env: Any, n_envs: int, seed: int | None, vectorization_mode: str = "sync"
) -> tuple[gym.vector.VectorEnv, str]:
    """Returns a same-step-autoreset vector environment and the id to build evaluation envs.

    Args:
        env: a gymnasium id, a `gymnasium.Env` (one environment, stepped in this process) or a
            `gymnasium.vector.VectorEnv` built with `autoreset_mode=AutoresetMode.SAME_STEP`
            (used as is).
        n_envs: environments side by side (ids only, else `1`).
        seed: unused here (the agent seeds the first `reset`); kept for callers.
        vectorization_mode: for ids, `"sync"` steps the `n_envs` environments one after the
            other in this process (`gymnasium.vector.SyncVectorEnv`); `"async"` runs each in
            its own worker process (`gymnasium.vector.AsyncVectorEnv`), which pays off when one
            environment step costs more than the inter-process round trip (about 0.1 ms).
            Defaults to `"sync"`.

    Example:

    ```python
    vec, env_id = make_vector_env("CartPole-v1", 2, 0, vectorization_mode="async")
    ```
    """
    check_positive_int("n_envs", n_envs, allow_numpy=True)
    check_choice("vectorization_mode", vectorization_mode, VECTORIZATION_MODES)
    same_step = {"autoreset_mode": AutoresetMode.SAME_STEP}
    if isinstance(env, str):
        try:
            vec = gym.make_vec(
                env,
                num_envs=n_envs,
                vectorization_mode=vectorization_mode,
                vector_kwargs=same_step,
            )
        except gym.error.Error as error:
            raise ValueError(f"`env` is not a known gymnasium id. Received: env={env!r}") from error
        return vec, env
    if isinstance(env, gym.vector.VectorEnv):
        if env.metadata.get("autoreset_mode") != AutoresetMode.SAME_STEP:
            raise ValueError(
                "A vector `env` must reset sub-environments in the same step (the final "
                "observation of a finished episode is needed to bootstrap truncated episodes): "
                "build it with vector_kwargs={'autoreset_mode': AutoresetMode.SAME_STEP}. "
                f"Received: autoreset_mode={env.metadata.get('autoreset_mode')}"
            )
        return env, env.spec.id if env.spec is not None else None
    if isinstance(env, gym.Env):
        if vectorization_mode != "sync":
            raise ValueError(
                "An environment instance is stepped in this process: pass a gymnasium id (or "
                "an AsyncVectorEnv) for worker processes. Received: "
                f"vectorization_mode={vectorization_mode!r}"
            )
        if n_envs != 1:
            raise ValueError(
                "`n_envs` > 1 needs a gymnasium id or a vector env, not one environment "
                f"instance. Received: n_envs={n_envs}"
            )
        vec = gym.vector.SyncVectorEnv([lambda: env], **same_step)
        return vec, env.spec.id if env.spec is not None else None
    raise TypeError(
        f"`env` must be a gymnasium id, gymnasium.Env or gymnasium.vector.VectorEnv. "
        f"Received: env={env!r}"
    )


class Agent:
    """The shared part of the agents; subclasses implement the algorithm.

    Subclasses define `_check_action_space`, `_build`, `_act`, `_train_iteration`,
    `_policy_model` and `_state_variables`.
    """

    def __init__(
        self,
        env,
        policy: str,
        seed: int | None,
        n_envs: int,
        verbose: int,
        tensorboard_log: str | None,
        hyperparameters: dict,
        vectorization_mode: str = "sync",
    ):
        if policy not in POLICIES:
            raise ValueError(f"`policy` must be one of {POLICIES}. Received: policy={policy!r}")
        check_non_negative_int("seed", seed, allow_none=True, allow_numpy=True)
        self.policy = policy
        self.seed = None if seed is None else int(seed)
        self.verbose = verbose
        self.tensorboard_log = tensorboard_log
        self.hyperparameters = hyperparameters
        self.env, self.env_id = make_vector_env(env, n_envs, seed, vectorization_mode)
        self.n_envs = self.env.num_envs
        space = self.env.single_observation_space
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise ValueError(
                "Only flat Box observation spaces are supported (flatten others with "
                f"gymnasium.wrappers.FlattenObservation). Received: observation_space={space}"
            )
        self.observation_shape = space.shape
        self.action_space = self.env.single_action_space
        self._check_action_space(self.action_space)
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        self.num_timesteps = 0
        self._np_rng = np.random.default_rng(self.seed)
        self._tf_rng = tf.random.Generator.from_seed(
            self.seed if self.seed is not None else int(self._np_rng.integers(2**31))
        )
        self._last_obs = None
        self._episode_returns = np.zeros(self.n_envs)
        self.recent_returns: collections.deque = collections.deque(maxlen=20)
        self._writer = None
        self._target_timesteps = 0
        self._build()

    # Subclass hooks.
    def _check_action_space(self, space) -> None:
        raise NotImplementedError

    def _build(self) -> None:
        raise NotImplementedError

    def _act(self, observations: np.ndarray, deterministic: bool) -> np.ndarray:
        raise NotImplementedError

    def _train_iteration(self) -> dict[str, float]:
        raise NotImplementedError

    def _policy_model(self) -> keras.Model:
        raise NotImplementedError

    def _state_variables(self) -> list:
        raise NotImplementedError

    # Shared machinery.
    def _seed(self) -> tf.Tensor:
        """A fresh stateless seed for tfp sampling, drawn from the agent's own generator."""
        return tf.cast(self._tf_rng.make_seeds(1)[:, 0], tf.int32)

    @property
    def progress_remaining(self) -> float:
        """1 at the start of the current `learn` target, 0 at its end (for linear decay)."""
        if self._target_timesteps <= 0:
            return 1.0
        return max(0.0, 1.0 - self.num_timesteps / self._target_timesteps)

    def _track_episodes(self, rewards, dones) -> None:
        self._episode_returns += rewards
        for i in np.flatnonzero(dones):
            self.recent_returns.append(float(self._episode_returns[i]))
            self._log({"rollout/episode_return": self._episode_returns[i]})
            self._episode_returns[i] = 0.0

    def _log(self, scalars: dict[str, Any]) -> None:
        if self._writer is None:
            return
        with self._writer.as_default():
            for name, value in scalars.items():
                tf.summary.scalar(name, float(value), step=self.num_timesteps)

    def learn(self, total_timesteps: int, callback: Callable | None = None) -> Agent:
        """Trains for `total_timesteps` more environment steps (over all environments).

        Calling `learn` again continues where the previous call stopped; linear decays run
        from the current step to the new target. `callback(agent)` is called after each
        iteration (a PPO rollout and its update, a SAC environment step); returning `False`
        stops training.
        """
        check_positive_int("total_timesteps", total_timesteps, allow_numpy=True)
        if callback is not None and not callable(callback):
            raise TypeError(f"`callback` must be callable or None. Received: {callback!r}")
        if self.tensorboard_log and self._writer is None:
            self._writer = tf.summary.create_file_writer(self.tensorboard_log)
        start = self.num_timesteps
        self._target_timesteps = start + int(total_timesteps)
        progbar = keras.utils.Progbar(
            int(total_timesteps),
            verbose=1 if self.verbose else 0,
            stateful_metrics=["episode_return", "loss"],
            unit_name="step",
        )
        if self._last_obs is None:
            self._last_obs, _ = self.env.reset(seed=self.seed)
            self._last_episode_starts = np.ones(self.n_envs, np.float32)
        while self.num_timesteps < self._target_timesteps:
            logs = self._train_iteration()
            values = [("loss", logs["loss"])] if "loss" in logs else []
            if self.recent_returns:
                values.append(("episode_return", float(np.mean(self.recent_returns))))
            progbar.update(min(self.num_timesteps - start, total_timesteps), values)
            if callback is not None and callback(self) is False:
                break
        if self._writer is not None:
            self._writer.flush()
        return self

    def predict(self, obs, deterministic: bool = True) -> np.ndarray:
        """Actions for one observation (shape `observation_shape`) or a batch of them."""
        obs = np.asarray(obs, dtype=np.float32)
        single = obs.shape == self.observation_shape
        if not single and (obs.ndim != 2 or obs.shape[1:] != self.observation_shape):
            raise ValueError(
                f"`obs` must have shape {self.observation_shape} or (batch, "
                f"{self.observation_shape[0]}). Received: obs.shape={obs.shape}"
            )
        actions = self._act(obs[None] if single else obs, deterministic)
        return actions[0] if single else actions

    def evaluate(
        self, n_episodes: int = 10, deterministic: bool = True, seed: int | None = None
    ) -> tuple[float, float]:
        """Mean and standard deviation of the return over `n_episodes` fresh episodes."""
        check_positive_int("n_episodes", n_episodes, allow_numpy=True)
        if self.env_id is None:
            raise ValueError(
                "`evaluate` builds its own environment and needs a registered id; "
                "this agent's env has no spec."
            )
        env = gym.make(self.env_id)
        base = seed if seed is not None else (self.seed or 0) + 10_000
        returns = []
        for episode in range(n_episodes):
            obs, _ = env.reset(seed=base + episode)
            total, done = 0.0, False
            while not done:
                obs, reward, terminated, truncated, _ = env.step(self.predict(obs, deterministic))
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
        env.close()
        return float(np.mean(returns)), float(np.std(returns))

    def close(self) -> None:
        """Closes the training environments (and the worker processes of an async vector env)."""
        self.env.close()

    def export_policy(self, base_dir, name: str, version: int | None = None) -> str:
        """Writes the deterministic policy (observation -> action) through `serving.export`."""
        import serving

        return serving.export(self._policy_model(), base_dir, name, version=version)

    def save(self, path) -> None:
        """Saves networks, optimizer state, normalisation statistics and counters to `path`/."""
        os.makedirs(path, exist_ok=True)
        meta = {
            "class": type(self).__name__,
            "env_id": self.env_id,
            "policy": self.policy,
            "seed": self.seed,
            "hyperparameters": self.hyperparameters,
            "num_timesteps": self.num_timesteps,
            "np_rng": self._np_rng.bit_generator.state,
        }
        with open(os.path.join(path, META_FILE), "w") as f:
            json.dump(meta, f, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v))
        arrays = {f"v{i}": np.asarray(v) for i, v in enumerate(self._state_variables())}
        arrays.update(self._extra_state())
        np.savez(os.path.join(path, STATE_FILE), **arrays)

    def _extra_state(self) -> dict[str, np.ndarray]:
        return {}

    def _load_extra_state(self, arrays) -> None:
        pass

    @classmethod
    def load(cls, path, env=None, **overrides) -> Agent:
        """Rebuilds an agent saved with `save`; `env` defaults to the saved gymnasium id."""
        with open(os.path.join(path, META_FILE)) as f:
            meta = json.load(f)
        if meta["class"] != cls.__name__:
            raise ValueError(f"{path} holds a {meta['class']}, not a {cls.__name__}.")
        hyperparameters = {**meta["hyperparameters"], **overrides}
        agent = cls(
            env if env is not None else meta["env_id"],
            policy=meta["policy"],
            seed=meta["seed"],
            **hyperparameters,
        )
        with np.load(os.path.join(path, STATE_FILE)) as arrays:
            variables = agent._state_variables()
            for i, variable in enumerate(variables):
                variable.assign(arrays[f"v{i}"])
            agent._load_extra_state(arrays)
        agent.num_timesteps = meta["num_timesteps"]
        agent._np_rng.bit_generator.state = meta["np_rng"]
        return agent
