"""Sinusoid regression, the MAML paper's toy task family, and its comparison experiment.

A task is `y = A sin(x - φ)` with amplitude A ~ U[0.1, 5], phase φ ~ U[0, π] and inputs
x ~ U[-5, 5] (Finn et al. 2017, section 5.1); the learner sees K points of a task (K = 5 or
10) and predicts the rest. `compare_on_sinusoids` meta-trains MAML and Reptile on the paper's
2x40 ReLU MLP, trains the same network jointly on all tasks as the baseline, then fine-tunes
each with 0-10 SGD steps on K points of held-out tasks and reports the query MSE after each.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from layers.validation import check_number_pair, check_positive_int
from zoo.meta.functional import adaptation_curve
from zoo.meta.maml import MAML
from zoo.meta.reptile import Reptile


class SinusoidTasks:
    """The distribution of sinusoid regression tasks of Finn et al. (2017).

    Args:
        amplitude_range: `(low, high)` of the uniform amplitude. Defaults to `(0.1, 5.0)`.
        phase_range: `(low, high)` of the uniform phase. Defaults to `(0.0, pi)`.
        x_range: `(low, high)` of the uniform inputs. Defaults to `(-5.0, 5.0)`.
        seed: seeds `sample` and `dataset` (reproducible). Defaults to `0`.

    Example:

    ```python
    tasks = SinusoidTasks(seed=0)
    support_x, support_y, query_x, query_y = tasks.sample(num_tasks=100, k_shot=10, n_query=100)
    episodes = tasks.dataset(k_shot=10, n_query=10).batch(25)  # endless, for fit
    ```
    """

    def __init__(
        self,
        amplitude_range=(0.1, 5.0),
        phase_range=(0.0, math.pi),
        x_range=(-5.0, 5.0),
        seed: int = 0,
    ):
        self.amplitude_range = check_number_pair("amplitude_range", amplitude_range)
        self.phase_range = check_number_pair("phase_range", phase_range)
        self.x_range = check_number_pair("x_range", x_range)
        self.seed = seed

    def _episode(self, seed, k_shot: int, n_query: int):
        seeds = tf.random.experimental.stateless_split(seed, 4)
        amplitude = tf.random.stateless_uniform([], seeds[0], *self.amplitude_range)
        phase = tf.random.stateless_uniform([], seeds[1], *self.phase_range)
        support_x = tf.random.stateless_uniform([k_shot, 1], seeds[2], *self.x_range)
        query_x = tf.random.stateless_uniform([n_query, 1], seeds[3], *self.x_range)
        curve = lambda x: amplitude * tf.sin(x - phase)  # noqa: E731
        return support_x, curve(support_x), query_x, curve(query_x)

    def dataset(self, k_shot: int, n_query: int) -> tf.data.Dataset:
        """An endless `tf.data` pipeline of single episodes `(sx, sy, qx, qy)`, float32, [n, 1]."""
        check_positive_int("k_shot", k_shot)
        check_positive_int("n_query", n_query)
        return tf.data.Dataset.counter().map(
            lambda i: self._episode(tf.stack([tf.cast(self.seed, tf.int64), i]), k_shot, n_query),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )

    def sample(self, num_tasks: int, k_shot: int, n_query: int) -> tuple[np.ndarray, ...]:
        """`num_tasks` episodes as NumPy arrays with a leading task axis."""
        check_positive_int("num_tasks", num_tasks)
        batch = next(iter(self.dataset(k_shot, n_query).batch(num_tasks)))
        return tuple(part.numpy() for part in batch)


def sinusoid_mlp(hidden_units=(40, 40), seed: int | None = None) -> keras.Model:
    """The MAML paper's regressor: 1 -> 40 -> 40 -> 1, ReLU.

    Args:
        hidden_units: widths of the hidden layers. Defaults to `(40, 40)`.
        seed: seeds the initial weights. Defaults to `None`.

    Returns:
        An uncompiled `keras.Sequential`.
    """
    layers = [keras.Input((1,), name="x")]
    for i, units in enumerate(hidden_units):
        initializer = keras.initializers.GlorotUniform(seed=None if seed is None else seed + i)
        layers.append(
            keras.layers.Dense(
                units, activation="relu", kernel_initializer=initializer, name=f"hidden_{i}"
            )
        )
    output_init = keras.initializers.GlorotUniform(seed=None if seed is None else seed + 99)
    layers.append(keras.layers.Dense(1, kernel_initializer=output_init, name="y"))
    return keras.Sequential(layers, name="sinusoid_mlp")


def _pretrained(tasks, k_shot, iterations, tasks_per_step, learning_rate, seed):
    model = sinusoid_mlp(seed=seed)
    model.compile(keras.optimizers.Adam(learning_rate), loss="mse")
    points = tasks.dataset(k_shot, k_shot).batch(tasks_per_step)
    # All tasks' points pooled into one regression: support and query alike.
    pooled = points.map(
        lambda sx, sy, qx, qy: (
            tf.reshape(tf.concat([sx, qx], 1), [-1, 1]),
            tf.reshape(tf.concat([sy, qy], 1), [-1, 1]),
        )
    )
    model.fit(pooled, steps_per_epoch=iterations, epochs=1, verbose=0)
    return model


def compare_on_sinusoids(
    k_shot: int = 10,
    iterations: int = 2000,
    tasks_per_step: int = 10,
    steps: int = 10,
    inner_lr: float = 0.01,
    meta_lr: float = 1e-3,
    num_test_tasks: int = 100,
    seed: int = 0,
    reptile_inner_steps: int = 5,
    reptile_inner_lr: float = 0.02,
    reptile_meta_step_size: float = 0.5,
    pretrained_lrs=(0.01,),
) -> dict[str, np.ndarray]:
    """Meta-trains MAML and Reptile and pretrains a baseline; returns MSE-vs-steps curves.

    All three use `sinusoid_mlp` (same initial weights) and the same number of outer
    iterations on the same task stream. MAML: one inner step of size `inner_lr`, Adam at
    `meta_lr` (the paper's settings). Reptile: `reptile_inner_steps` SGD steps of size
    `reptile_inner_lr`, outer step `reptile_meta_step_size`. Baseline ("pretrained"): Adam at
    `meta_lr` on all tasks' points pooled. Each is then fine-tuned with plain SGD of size
    `inner_lr` on K points of `num_test_tasks` held-out tasks (100 query points each).

    Args:
        k_shot: K, the points seen per task. Defaults to `10`.
        iterations: outer iterations (meta-batches) for every method. Defaults to `2000`.
        tasks_per_step: tasks per meta-batch. Defaults to `10`.
        steps: fine-tuning steps evaluated. Defaults to `10`.
        inner_lr: MAML's inner step and the fine-tuning step. Defaults to `0.01`.
        meta_lr: the Adam learning rate of MAML and the baseline. Defaults to `1e-3`.
        num_test_tasks: held-out tasks. Defaults to `100`.
        seed: seeds the weights and the task streams. Defaults to `0`.
        reptile_inner_steps: Reptile's inner SGD steps. Defaults to `5`.
        reptile_inner_lr: Reptile's inner step size. Defaults to `0.02`.
        reptile_meta_step_size: Reptile's ε. Defaults to `0.5`.
        pretrained_lrs: fine-tuning step sizes tried for the baseline; its curve is the one
            with the lowest final MSE (the paper tuned the baseline's step). Defaults to
            `(0.01,)`.

    Returns:
        `{"maml": curve, "reptile": curve, "pretrained": curve}`, each the mean query MSE after
        0..`steps` fine-tuning steps.
    """
    train_tasks = SinusoidTasks(seed=seed)
    episodes = train_tasks.dataset(k_shot, k_shot).batch(tasks_per_step).prefetch(2)

    maml = MAML(sinusoid_mlp(seed=seed), inner_lr=inner_lr, inner_steps=1)
    maml.compile(keras.optimizers.Adam(meta_lr), loss="mse")
    maml.fit(episodes, steps_per_epoch=iterations, epochs=1, verbose=0)

    reptile = Reptile(
        sinusoid_mlp(seed=seed),
        inner_lr=reptile_inner_lr,
        inner_steps=reptile_inner_steps,
        meta_step_size=reptile_meta_step_size,
    )
    reptile.compile(loss="mse")
    reptile.fit(episodes, steps_per_epoch=iterations, epochs=1, verbose=0)

    pretrained = _pretrained(train_tasks, k_shot, iterations, tasks_per_step, meta_lr, seed)

    test = SinusoidTasks(seed=seed + 10_000).sample(num_test_tasks, k_shot, 100)
    curves = {
        name: adaptation_curve(model, "mse", test, inner_lr, steps)
        for name, model in (("maml", maml.model), ("reptile", reptile.model))
    }
    baseline = [adaptation_curve(pretrained, "mse", test, lr, steps) for lr in pretrained_lrs]
    curves["pretrained"] = min(baseline, key=lambda curve: curve[-1])
    return curves
