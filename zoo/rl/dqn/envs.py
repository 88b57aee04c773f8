"""Building DQN's vector environments: frame stacking, flattening images for storage, MinAtar
registration and sync/async vectorisation."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from layers.validation import check_choice, check_positive_int
from zoo.rl.dqn.networks import torso_kind

VECTORIZATION_MODES = ("sync", "async")


def register_minatar(env_id: str) -> None:
    """Registers MinAtar's gymnasium ids on first use (the package does not on import)."""
    if env_id.startswith("MinAtar/") and env_id not in gym.registry:
        try:
            import minatar.gym
        except ImportError as error:
            raise ValueError(
                f"`env` {env_id!r} needs the `minatar` package (pip install minatar)."
            ) from error
        minatar.gym.register_envs()


def wrappers_for(frame_stack: int) -> list:
    """Per-environment wrappers: stack `frame_stack` observations (if > 1)."""
    if frame_stack > 1:
        return [lambda env: gym.wrappers.FrameStackObservation(env, frame_stack)]
    return []


def check_observation_space(space, frame_stack: int) -> str:
    """The torso for `space` (after frame stacking), or a `ValueError` naming the space."""
    kind = torso_kind(space.shape, frame_stack) if isinstance(space, gym.spaces.Box) else None
    if kind is None:
        raise ValueError(
            "DQN takes Box observations that are flat vectors (MLP torso) or images of shape "
            "(height >= 3, width >= 3, channels) (conv torso), with a leading frame-stack axis "
            "when frame_stack > 1; wrap others (e.g. gymnasium.wrappers.FlattenObservation, or "
            f"add a channel axis). Received: observation_space={space}"
        )
    return kind


def storage_dtype(space: gym.spaces.Box):
    """`uint8` for byte or boolean observations (images), `float32` otherwise."""
    return np.uint8 if space.dtype in (np.uint8, np.bool_) else np.float32


def input_scale(space: gym.spaces.Box) -> float:
    """`1/255` for byte images with a 255 bound, `1` otherwise."""
    if space.dtype == np.uint8 and float(np.max(space.high)) > 1:
        return 1.0 / float(np.max(space.high))
    return 1.0


def make_dqn_env(env, n_envs: int, frame_stack: int, vectorization_mode: str):
    """A same-step-autoreset vector env with flat observations.

    Returns:
        `(vector_env, observation_space)`: the space is one environment's observation space
        before flattening (after frame stacking).
    """
    check_positive_int("n_envs", n_envs, allow_numpy=True)
    check_positive_int("frame_stack", frame_stack, allow_numpy=True)
    check_choice("vectorization_mode", vectorization_mode, VECTORIZATION_MODES)
    wrappers = wrappers_for(frame_stack)
    same_step = {"autoreset_mode": AutoresetMode.SAME_STEP}
    if isinstance(env, str):
        register_minatar(env)
        try:
            probe = gym.make(env)
        except gym.error.Error as error:
            raise ValueError(f"`env` is not a known gymnasium id. Received: env={env!r}") from error
        for wrapper in wrappers:
            probe = wrapper(probe)
        space = probe.observation_space
        probe.close()
        check_observation_space(space, frame_stack)
        if len(space.shape) > 1:
            wrappers = [*wrappers, gym.wrappers.FlattenObservation]
        vec = gym.make_vec(
            env,
            num_envs=n_envs,
            vectorization_mode=vectorization_mode,
            vector_kwargs=same_step,
            wrappers=wrappers,
        )
        return vec, space
    if isinstance(env, gym.vector.VectorEnv):
        if frame_stack != 1:
            raise ValueError(
                "Frame stacking is applied per environment: pass a gymnasium id, or stack inside "
                f"the vector env. Received: frame_stack={frame_stack}"
            )
        space = env.single_observation_space
        check_observation_space(space, frame_stack)
        if len(space.shape) > 1:
            env = gym.wrappers.vector.FlattenObservation(env)
        return env, space
    if isinstance(env, gym.Env):
        for wrapper in wrappers:
            env = wrapper(env)
        space = env.observation_space
        check_observation_space(space, frame_stack)
        if len(space.shape) > 1:
            env = gym.wrappers.FlattenObservation(env)
        return env, space
    return env, None  # the base class raises its TypeError
