"""`DQN` with every Rainbow component as an independent flag, and `Rainbow` (all on)."""

from __future__ import annotations

import json
import zipfile

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf

from layers.validation import (
    check_bool,
    check_int_at_least,
    check_non_negative_int,
    check_positive_float,
    check_positive_int,
    check_unit_interval,
)
from zoo.rl.base import Agent, GreedyAction
from zoo.rl.dqn.envs import (
    input_scale,
    make_dqn_env,
    register_minatar,
    storage_dtype,
    wrappers_for,
)
from zoo.rl.dqn.hyperparameters import defaults_for
from zoo.rl.dqn.layers import CategoricalExpectation
from zoo.rl.dqn.networks import (
    NumpyQNetwork,
    greedy_copy,
    noise_size,
    noisy_layers,
    q_forward,
    q_network,
    split_noise,
    torso_kind,
)
from zoo.rl.dqn.projection import categorical_projection
from zoo.rl.dqn.replay import GraphReplay, NStepAccumulator
from zoo.rl.networks import check_hidden_sizes
from zoo.rl.optimizers import check_fusable, fused_adam_apply

FLAGS = ("double", "dueling", "prioritized", "distributional", "noisy")
_NOT_HYPERPARAMETERS = ("self", "env", "policy", "seed", "__class__")


class DQN(Agent):
    """Deep Q-learning with the six Rainbow components, each switchable for ablations.

    - `double`: the online network picks the next action, the target network values it.
    - `dueling`: value and advantage streams, `Q = V + A - mean A`.
    - `prioritized`: proportional prioritised replay (sum-tree, priority exponent
      `priority_alpha`), importance-sampling weights with `beta` annealed from `priority_beta`
      to 1 over the `learn` call.
    - `n_step`: n-step returns (`1` is one-step Q-learning).
    - `distributional`: C51, `n_atoms` on `[v_min, v_max]`, cross-entropy to the projected
      target distribution (also the priority).
    - `noisy`: every fully connected layer a factorised-Gaussian `layers.NoisyDense`; noise
      replaces epsilon-greedy exploration (epsilon is 0), new noise for each action and for
      each update (one draw per network per update, as in the paper), and greedy actions
      (`deterministic=True`, exported policies) use the noise-free mean weights. The noise
      comes from the agent's NumPy generator and is handed to the network (`q_forward`); the
      layers' stored `eps_*` weights are not used.

    With every flag off this is SB3's DQN (Huber loss, hard target updates, epsilon-greedy,
    gradient norm clipped to `max_grad_norm`).

    How it runs: each training call (every `train_freq` vector steps) makes its
    `gradient_steps` updates in one XLA-compiled loop. The replay and its sum-tree live in
    TensorFlow variables (`GraphReplay`), so every update samples its batch from the
    priorities the previous update wrote, exactly as separate updates would; the sampling
    draws and the noise for all the updates of a call are drawn up front in NumPy. The target
    network is synced every `target_update_interval` transitions, between training calls as
    before. Acting runs in NumPy on a copy of the online MLP taken after each training call
    (`NumpyQNetwork`); conv torsos act through a compiled TensorFlow function.

    Hyperparameters left `None` take rl-baselines3-zoo's tuned values for CartPole-v1,
    Acrobot-v1 and MountainCar-v0 (generic ones elsewhere). Image observations
    `(height, width, channels)` go through a conv torso (MinAtar's one 3x3 layer below 36
    pixels, Nature DQN's three above), with `frame_stack` frames folded into channels; they
    are stored flat as bytes.

    Args:
        env: a gymnasium id (`"MinAtar/Breakout-v1"` ids register themselves when `minatar`
            is installed), a `gymnasium.Env`, or a same-step-autoreset vector env.
        seed: seeds networks, noise, environments, exploration and replay. Defaults to `0`.
        double, dueling, prioritized, distributional, noisy: the components. Default `True`.
        n_step: rewards summed per transition. Defaults to `3`.
        policy: the network family name kept for the `Agent` API. Defaults to `"mlp"` (the
            conv torso is chosen from the observation shape).
        n_envs: environments stepped side by side (ids only). Defaults to `1`.
        vectorization_mode: `"sync"` or `"async"` (one process per environment).
            Defaults to `"sync"`.
        frame_stack: observations stacked per state. Defaults to `1`.
        learning_rate, buffer_size, learning_starts, batch_size, gamma,
            target_update_interval, train_freq, gradient_steps, exploration_fraction,
            exploration_final_eps, hidden_sizes, v_min, v_max: `None` takes the defaults for
            `env` (see `zoo.rl.dqn.hyperparameters`). `train_freq` counts vector steps;
            `gradient_steps=-1` means one per collected transition; `target_update_interval`
            counts transitions.
        exploration_initial_eps: starting epsilon. Defaults to `1.0`.
        max_grad_norm: global gradient-norm clip. Defaults to `10.0`.
        n_atoms: C51 atoms. Defaults to `51`.
        noisy_sigma: initial noise scale of the noisy layers. Defaults to `0.5`.
        priority_alpha: prioritisation exponent. Defaults to `0.5`.
        priority_beta: initial importance-sampling exponent. Defaults to `0.4`.
        priority_epsilon: added to every priority. Defaults to `1e-6`.
        adam_epsilon: Adam's epsilon. Defaults to `1e-8` (PyTorch's, as in SB3).
        verbose: `1` shows a progress bar. Defaults to `1`.
        tensorboard_log: directory for TensorBoard scalars. Defaults to `None`.

    Example:

    ```python
    agent = DQN("CartPole-v1", seed=0, distributional=False).learn(50_000)
    print(agent.evaluate(10))
    agent.export_policy("models", "cartpole_dqn")
    ```

    Reference: Hessel et al., "Rainbow: Combining Improvements in Deep Reinforcement
    Learning" (AAAI 2018); Mnih et al., "Human-level control through deep reinforcement
    learning" (Nature 2015).
    """

    def __init__(
        self,
        env,
        seed: int | None = 0,
        double: bool = True,
        dueling: bool = True,
        prioritized: bool = True,
        n_step: int = 3,
        distributional: bool = True,
        noisy: bool = True,
        *,
        policy: str = "mlp",
        n_envs: int = 1,
        vectorization_mode: str = "sync",
        frame_stack: int = 1,
        learning_rate: float | None = None,
        buffer_size: int | None = None,
        learning_starts: int | None = None,
        batch_size: int | None = None,
        gamma: float | None = None,
        target_update_interval: int | None = None,
        train_freq: int | None = None,
        gradient_steps: int | None = None,
        exploration_fraction: float | None = None,
        exploration_initial_eps: float = 1.0,
        exploration_final_eps: float | None = None,
        hidden_sizes=None,
        max_grad_norm: float = 10.0,
        n_atoms: int = 51,
        v_min: float | None = None,
        v_max: float | None = None,
        noisy_sigma: float = 0.5,
        priority_alpha: float = 0.5,
        priority_beta: float = 0.4,
        priority_epsilon: float = 1e-6,
        adam_epsilon: float = 1e-8,
        verbose: int = 1,
        tensorboard_log: str | None = None,
    ):
        hp = {k: v for k, v in locals().items() if k not in _NOT_HYPERPARAMETERS}
        for flag in FLAGS:
            check_bool(flag, hp[flag])
        env_id = env if isinstance(env, str) else getattr(getattr(env, "spec", None), "id", None)
        for key, value in defaults_for(env_id).items():
            if hp[key] is None:
                hp[key] = value
        hp["hidden_sizes"] = list(check_hidden_sizes(hp["hidden_sizes"]))
        check_positive_int("n_step", n_step, allow_numpy=True)
        check_positive_float("learning_rate", hp["learning_rate"], allow_numpy=True)
        check_positive_int("buffer_size", hp["buffer_size"], allow_numpy=True)
        check_positive_int("batch_size", hp["batch_size"], allow_numpy=True)
        check_non_negative_int("learning_starts", hp["learning_starts"], allow_numpy=True)
        check_positive_int("target_update_interval", hp["target_update_interval"])
        check_positive_int("train_freq", hp["train_freq"], allow_numpy=True)
        if hp["gradient_steps"] != -1:
            check_positive_int("gradient_steps", hp["gradient_steps"], allow_numpy=True)
        check_unit_interval("gamma", hp["gamma"], include_low=True, include_high=True)
        check_unit_interval("exploration_fraction", hp["exploration_fraction"], include_low=False,
                            include_high=True)  # fmt: skip
        for name in ("exploration_initial_eps", "exploration_final_eps", "priority_alpha",
                     "priority_beta"):  # fmt: skip
            check_unit_interval(name, hp[name], include_low=True, include_high=True)
        check_positive_float("max_grad_norm", max_grad_norm, allow_numpy=True)
        check_positive_float("noisy_sigma", noisy_sigma, allow_numpy=True)
        check_positive_float("priority_epsilon", priority_epsilon, allow_numpy=True)
        check_int_at_least("n_atoms", n_atoms, 2, "(C51 needs a support of 2 or more atoms)")
        if not float(hp["v_min"]) < float(hp["v_max"]):
            raise ValueError(
                f"`v_min` must be below `v_max`. Received: v_min={hp['v_min']}, v_max={hp['v_max']}"
            )
        for key, value in hp.items():
            if key not in FLAGS and key != "hidden_sizes":
                setattr(self, key, value)
        self.double, self.dueling, self.prioritized = double, dueling, prioritized
        self.distributional, self.noisy = distributional, noisy
        self.hidden_sizes = tuple(hp["hidden_sizes"])
        vec, space = make_dqn_env(env, n_envs, frame_stack, vectorization_mode)
        self.torso_shape = None if space is None else tuple(space.shape)
        self._space = space
        super().__init__(vec, policy, seed, n_envs, verbose, tensorboard_log, hp)
        if isinstance(env, str):
            self.env_id = env
        self.exploration_rate = float(exploration_initial_eps)

    # Agent hooks.
    def _check_action_space(self, space) -> None:
        if not isinstance(space, gym.spaces.Discrete) or int(space.start) != 0:
            raise ValueError(
                "DQN needs a Discrete action space starting at 0 (for continuous actions use "
                f"SAC). Received: action_space={space}"
            )
        self.n_actions = int(space.n)

    def _build(self) -> None:
        atoms = self.n_atoms if self.distributional else 1

        def build(name):
            return q_network(
                self.observation_shape[0],
                self.torso_shape,
                self.frame_stack,
                self.n_actions,
                self.hidden_sizes,
                dueling=self.dueling,
                noisy=self.noisy,
                n_atoms=atoms,
                noisy_sigma=self.noisy_sigma,
                input_scale=input_scale(self._space),
                name=name,
            )

        self.q_net, self.q_target = build("q_network"), build("q_target")
        self.q_target.set_weights(self.q_net.get_weights())
        self.support = tf.constant(np.linspace(self.v_min, self.v_max, atoms), tf.float32)
        # Gradients are clipped to `max_grad_norm` in `_update_body`, then one fused Adam step.
        self.optimizer = keras.optimizers.Adam(self.learning_rate, epsilon=self.adam_epsilon)
        self.optimizer.build(self.q_net.trainable_variables)
        check_fusable(self.optimizer)
        # Staged transitions between two training calls: train_freq vector steps, plus the
        # n - 1 an episode's end can release at once.
        self.replay = GraphReplay(
            self.buffer_size,
            self.observation_shape,
            storage_dtype(self._space),
            alpha=self.priority_alpha if self.prioritized else 0.0,
            epsilon=self.priority_epsilon,
            staging=self.n_envs * (self.train_freq + self.n_step),
        )
        self.n_step_buffer = NStepAccumulator(self.n_step, self.gamma, self.n_envs)
        self._explore_function = None
        self._train_functions = {}  # `_train_steps`'s concrete functions (skips dispatch)
        # Acting (one environment step) runs on a NumPy copy of the online MLP, refreshed
        # after each training call; conv torsos act through `_explore`.
        self._numpy_policy = (
            NumpyQNetwork(self.q_net, self.support if self.distributional else None)
            if torso_kind(self.torso_shape, self.frame_stack) == "mlp"
            else None
        )
        self._online_noise = noisy_layers(self.q_net)
        self._target_noise = noisy_layers(self.q_target)
        self._noise_size = noise_size(self._online_noise + self._target_noise)

    def _state_variables(self) -> list:
        return [
            *self.q_net.variables,
            *self.q_target.variables,
            *self.optimizer.variables,
            self._tf_rng.state,
        ]

    def _extra_state(self) -> dict[str, np.ndarray]:
        return self.replay.state()

    def _load_extra_state(self, arrays) -> None:
        self.replay.load_state(arrays)

    # Networks.
    def _expected_q(self, outputs):
        if not self.distributional:
            return outputs
        return tf.reduce_sum(tf.nn.softmax(outputs, axis=-1) * self.support, axis=-1)

    @tf.function(jit_compile=True, autograph=False)
    def _explore(self, observations, normals):
        """Greedy actions of the online network with noise from `normals` (the acting step
        of conv torsos; MLPs act in NumPy, see `_explore_actions`)."""
        noise = split_noise(self._online_noise, normals)
        return tf.argmax(self._expected_q(q_forward(self.q_net, observations, noise)), axis=-1)

    @tf.function(reduce_retracing=True, autograph=False)
    def _mean_q_values(self, observations):
        """Q values of the noise-free (mean) online network."""
        return self._expected_q(q_forward(self.q_net, observations))

    def _update_body(
        self, observations, actions, returns, next_observations, discounts, weights, normals
    ):
        """One gradient step (graph code); returns the loss and the new priorities of the batch.

        Noise for both networks from `normals` (`_noise_size` standard normals, see
        `split_noise`), the target network's and (double Q) the online network's next-state
        outputs outside the tape, the online network's outputs on the batch inside it;
        gradients clipped to `max_grad_norm` (global norm), one fused Adam step.
        """
        noise = split_noise(self._online_noise + self._target_noise, normals)
        next_target = q_forward(self.q_target, next_observations, noise)
        if self.double:  # the online network picks, the target network values
            next_choice = self._expected_q(q_forward(self.q_net, next_observations, noise))
        else:
            next_choice = self._expected_q(next_target)
        best = tf.argmax(next_choice, axis=-1)
        if self.distributional:
            next_probabilities = tf.gather(tf.nn.softmax(next_target, -1), best, batch_dims=1)
            target = categorical_projection(next_probabilities, returns, discounts, self.support)
        else:
            target = returns + discounts * tf.gather(next_target, best, batch_dims=1)
        target = tf.stop_gradient(target)
        variables = self.q_net.trainable_variables
        with tf.GradientTape() as tape:
            chosen = tf.gather(q_forward(self.q_net, observations, noise), actions, batch_dims=1)
            if self.distributional:
                losses = -tf.reduce_sum(target * tf.nn.log_softmax(chosen, -1), -1)
                priorities = losses
            else:
                losses = keras.losses.huber(target[:, None], chosen[:, None])
                priorities = tf.abs(target - chosen)
            loss = tf.reduce_mean(weights * losses)
        gradients = tape.gradient(loss, variables)
        gradients, _ = tf.clip_by_global_norm(gradients, self.max_grad_norm)
        fused_adam_apply(self.optimizer, gradients, variables)
        return loss, tf.stop_gradient(priorities)

    def _update(self, observations, actions, returns, next_observations, discounts, weights,
                normals=None):  # fmt: skip
        """One gradient step on a given batch (noise from `normals`, drawn if `None`);
        returns the loss and the new priorities."""
        if normals is None:
            normals = self._np_rng.standard_normal(self._noise_size, dtype=np.float32)
        return self._update_function(
            observations, actions, returns, next_observations, discounts, weights, normals
        )

    @tf.function(autograph=False)
    def _update_function(self, observations, actions, returns, next_observations, discounts,
                         weights, normals):  # fmt: skip
        return self._update_body(
            tf.cast(observations, tf.float32), actions, returns,
            tf.cast(next_observations, tf.float32), discounts, weights, normals,
        )  # fmt: skip

    @tf.function(jit_compile=True, autograph=False)
    def _train_steps(self, staged, size, beta, draws, normals):
        """Stores the staged transitions, then one update per row of `draws` in one compiled
        loop.

        `draws` `(steps, batch)` are each update's sampling draws (uniforms in [0, 1) within
        the prioritised strata, or slot indices when uniform) and `normals`
        `(steps, _noise_size)` its noise, both from the agent's NumPy generator.

        Each update samples its batch from the replay as the previous update left it (the
        priorities it wrote included), exactly as one update per call would: prioritised
        sampling, importance weights, the update and the priority write-back all run in the
        graph, on the replay's variables.
        """
        replay = self.replay
        replay.store(*staged)
        batch = self.batch_size

        def row(matrix, k):
            # Row k as a product with a one-hot vector (exact). XLA on CPU computes a product
            # once, where it fuses a slice into every consumer and recomputes it there (for
            # the noise: in each element of every noisy kernel, a 1.3-1.5x slower update).
            one_hot = tf.one_hot(k, tf.shape(matrix)[0], dtype=matrix.dtype)
            return tf.linalg.matvec(matrix, one_hot, transpose_a=True)

        def body(k, loss):
            if replay.prioritized:
                index, weights = replay.graph_sample(size, beta, draws[k])
            else:
                index, weights = draws[k], tf.ones([batch], tf.float32)
            observations, actions, returns, next_observations, discounts = replay.gather(index)
            loss, priorities = self._update_body(
                tf.cast(observations, tf.float32), actions, returns,
                tf.cast(next_observations, tf.float32), discounts, weights, row(normals, k),
            )  # fmt: skip
            if replay.prioritized:
                replay.graph_update_priorities(index, priorities)
            return k + 1, loss

        steps = tf.shape(draws)[0]
        initial = (tf.constant(0), tf.constant(0.0))
        return tf.while_loop(lambda k, *_: k < steps, body, initial)[1]

    @tf.function(autograph=False)
    def _sync_target(self):
        for weight, target in zip(self.q_net.weights, self.q_target.weights, strict=True):
            target.assign(weight)

    # Acting.
    def _act(self, observations: np.ndarray, deterministic: bool) -> np.ndarray:
        observations = np.asarray(observations, np.float32)
        if deterministic:
            q = self._mean_q_values(tf.constant(observations))
            return np.asarray(tf.argmax(q, axis=-1))
        if self.noisy:
            return self._explore_actions(observations)
        n = len(observations)
        explore = self._np_rng.random(n) < self.exploration_rate
        random_actions = self._np_rng.integers(0, self.n_actions, n)
        if explore.all():  # epsilon-greedy: the network is only needed where it is greedy
            return random_actions
        return np.where(explore, random_actions, self._explore_actions(observations))

    def _explore_actions(self, observations: np.ndarray) -> np.ndarray:
        """Greedy actions of the online network, with fresh noise when noisy: in NumPy for
        MLPs (noise from the agent's NumPy generator), else `_explore` through its concrete
        function (one dispatch per environment step)."""
        if self._numpy_policy is not None:
            rng = self._np_rng if self.noisy else None
            return self._numpy_policy.q_values(observations, rng).argmax(-1)
        if self._explore_function is None:
            spec = tf.TensorSpec((None, *self.observation_shape), tf.float32)
            normals = tf.TensorSpec((noise_size(self._online_noise),), tf.float32)
            self._explore_function = self._explore.get_concrete_function(spec, normals)
        normals = self._np_rng.standard_normal(noise_size(self._online_noise), dtype=np.float32)
        return self._explore_function(tf.constant(observations), tf.constant(normals)).numpy()

    def _observation_batch(self, obs) -> tuple[np.ndarray, bool]:
        obs = np.asarray(obs, dtype=np.float32)
        for shape in {self.observation_shape, self.torso_shape}:
            if obs.shape == shape:
                return obs.reshape(1, -1), True
            if obs.shape[1:] == shape:
                return obs.reshape(len(obs), -1), False
        raise ValueError(
            f"`obs` must have shape {self.torso_shape} or (batch, *{self.torso_shape})"
            f" (or flattened, {self.observation_shape}). Received: obs.shape={obs.shape}"
        )

    def predict(self, obs, deterministic: bool = True) -> np.ndarray:
        """Actions for one observation (its own or the flattened shape) or a batch of them.

        `deterministic=True` is greedy on the (noise-free) Q values; `False` acts as in
        training (epsilon-greedy, or with fresh noise for noisy nets).
        """
        batch, single = self._observation_batch(obs)
        actions = self._act(batch, deterministic)
        return actions[0] if single else actions

    def q_values(self, obs) -> np.ndarray:
        """Expected Q values `(batch, n_actions)` of the noise-free online network."""
        batch, _ = self._observation_batch(obs)
        return np.asarray(self._mean_q_values(tf.constant(batch)))

    # Training.
    def _exploration(self) -> float:
        if self.noisy:
            return 0.0
        progress = (1.0 - self.progress_remaining) / self.exploration_fraction
        start, end = self.exploration_initial_eps, self.exploration_final_eps
        return start + (end - start) * min(1.0, progress)

    def _train_iteration(self) -> dict[str, float]:
        self.exploration_rate = self._exploration()
        obs = self._last_obs
        if self.num_timesteps < self.learning_starts:
            actions = self._np_rng.integers(0, self.n_actions, self.n_envs)
        else:
            actions = self._act(obs.astype(np.float32), deterministic=False)
        next_obs, rewards, terminated, truncated, infos = self.env.step(actions)
        self.num_timesteps += self.n_envs
        done = terminated | truncated
        self._track_episodes(rewards, done)
        stored_next = next_obs
        if done.any():  # the next observation of a finished episode is its final one
            stored_next = next_obs.copy()
            for i in np.flatnonzero(done):
                stored_next[i] = infos["final_obs"][i]
        self.replay.add(
            self.n_step_buffer.add(obs, actions, rewards, stored_next, terminated, truncated)
        )
        self._last_obs = next_obs
        vector_steps = self.num_timesteps // self.n_envs
        logs: dict[str, float] = {}
        if (
            self.num_timesteps > self.learning_starts
            and vector_steps % self.train_freq == 0
            and self.replay.size > 0
        ):
            logs = self._train(self.gradient_steps if self.gradient_steps > 0 else
                               self.train_freq * self.n_envs)  # fmt: skip
        if vector_steps % max(self.target_update_interval // self.n_envs, 1) == 0:
            self._sync_target()
        return logs

    def _train(self, gradient_steps: int) -> dict[str, float]:
        beta = self.priority_beta + (1.0 - self.priority_beta) * (1.0 - self.progress_remaining)
        rng, shape = self._np_rng, (int(gradient_steps), self.batch_size)
        if self.replay.prioritized:
            draws = rng.random(shape)
        else:
            draws = rng.integers(0, self.replay.size, shape).astype(np.int32)
        normals = rng.standard_normal((shape[0], self._noise_size), dtype=np.float32)
        args = (self.replay.take_staged(), np.int32(self.replay.size), np.float64(beta))
        args = tf.nest.map_structure(tf.constant, (*args, draws, normals))
        if shape[0] not in self._train_functions:  # one per number of steps (one shape)
            self._train_functions[shape[0]] = self._train_steps.get_concrete_function(*args)
        loss = self._train_functions[shape[0]](*args)
        if self._numpy_policy is not None:
            self._numpy_policy.refresh()  # the acting copy takes the new weights
        loss = float(loss)
        if not np.isfinite(loss):
            self.replay.check_finite()
            raise ValueError(f"The loss is not finite ({loss}); lower the learning rate.")
        self._log({"train/loss": loss, "train/exploration_rate": self.exploration_rate})
        return {"loss": loss}

    # Evaluation, export and checkpoints.
    def evaluate(
        self, n_episodes: int = 10, deterministic: bool = True, seed: int | None = None
    ) -> tuple[float, float]:
        """Mean and standard deviation of the return over `n_episodes` fresh episodes (with
        the agent's frame stacking)."""
        check_positive_int("n_episodes", n_episodes, allow_numpy=True)
        if self.env_id is None:
            raise ValueError(
                "`evaluate` builds its own environment and needs a registered id; "
                "this agent's env has no spec."
            )
        register_minatar(self.env_id)
        wrappers = wrappers_for(self.frame_stack)

        def make_env():
            env = gym.make(self.env_id)
            for wrapper in wrappers:
                env = wrapper(env)
            return env

        # All episodes side by side, one batched prediction per step; each environment's
        # first episode counts (the same episodes as running them one after another).
        envs = gym.vector.SyncVectorEnv(
            [make_env] * n_episodes, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP
        )
        base = seed if seed is not None else (self.seed or 0) + 10_000
        obs, _ = envs.reset(seed=[base + i for i in range(n_episodes)])
        returns = np.zeros(n_episodes)
        running = np.ones(n_episodes, bool)
        while running.any():
            obs, rewards, terminated, truncated, _ = envs.step(self.predict(obs, deterministic))
            returns += rewards * running
            running &= ~(terminated | truncated)
        envs.close()
        return float(np.mean(returns)), float(np.std(returns))

    def _policy_model(self) -> keras.Model:
        observation = keras.Input(self.torso_shape, name="observation")
        x = observation
        if self.torso_shape != self.observation_shape:
            x = keras.layers.Reshape(self.observation_shape, name="flatten")(x)
        q = greedy_copy(self.q_net)(x)
        if self.distributional:
            q = CategoricalExpectation(np.asarray(self.support).tolist(), name="expectation")(q)
        action = GreedyAction("argmax")(q)
        return keras.Model(observation, {"action": action}, name="dqn_policy")

    @classmethod
    def load(cls, path, env=None, **overrides) -> DQN:
        """Rebuilds an agent saved with `save`; an unreadable checkpoint raises `ValueError`."""
        try:
            agent = super().load(path, env, **overrides)
            if agent._numpy_policy is not None:
                agent._numpy_policy.weights = None
            return agent
        except (OSError, KeyError, ValueError, TypeError, EOFError, json.JSONDecodeError,
                zipfile.BadZipFile) as error:  # fmt: skip
            raise ValueError(
                f"Cannot restore a {cls.__name__} from this checkpoint "
                f"({type(error).__name__}: {error}). Received: path={str(path)!r}"
            ) from error


class Rainbow(DQN):
    """`DQN` with every component on: double, dueling, prioritized, n-step (3 by default),
    distributional (C51) and noisy. Takes `DQN`'s other arguments.

    Example:

    ```python
    agent = Rainbow("CartPole-v1", seed=0).learn(30_000)
    print(agent.evaluate(10))
    ```

    Reference: Hessel et al., "Rainbow: Combining Improvements in Deep Reinforcement
    Learning" (AAAI 2018).
    """

    def __init__(self, env, seed: int | None = 0, **kwargs):
        for flag in FLAGS:
            if kwargs.get(flag, True) is not True:
                raise ValueError(
                    f"Rainbow has every component on; use `DQN` to turn one off. "
                    f"Received: {flag}={kwargs[flag]!r}"
                )
        n_step = kwargs.get("n_step", 3)
        check_int_at_least("n_step", n_step, 2, "(Rainbow uses multi-step returns)")
        super().__init__(env, seed, **kwargs)
