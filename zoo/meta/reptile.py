"""Reptile (Nichol, Achiam and Schulman 2018): meta-learning by moving toward adapted weights."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from layers.validation import check_choice, check_positive_float
from zoo.meta.functional import (
    current_weights,
    support_gradients,
)
from zoo.meta.meta_learner import EpisodicMetaLearner

INNER_OPTIMIZERS = ("sgd", "adam")
ADAM_BETA_2 = 0.999
ADAM_EPSILON = 1e-7


def _adam_directions(gradients, second_moments, step: int) -> list[tf.Tensor]:
    # Adam with beta_1 = 0 (the paper's inner optimizer), written out because keras's
    # `Optimizer.stateless_apply` is not available on the TensorFlow backend.
    correction = 1.0 - ADAM_BETA_2**step
    return [
        g / (tf.sqrt(v / correction) + ADAM_EPSILON)
        for g, v in zip(gradients, second_moments, strict=True)
    ]


@keras.saving.register_keras_serializable(package="keras_zoo")
class Reptile(EpisodicMetaLearner):
    """Reptile: train on a task for a few steps, then move the weights toward the result.

    For each task of a meta-batch, the inner loop trains a copy of the weights θ for
    `inner_steps` steps on the support set (SGD, or Adam with β1 = 0 as in the paper's
    few-shot runs), giving φ; the outer update moves θ toward the tasks' mean φ:
    θ ← θ + ε (mean φ − θ), with ε = `meta_step_size` (the batched version of the paper). It is
    carried out by the compiled optimizer on the direction θ − mean φ, which by default is
    `SGD(learning_rate=meta_step_size)`; `meta_step_size` may be a
    `keras.optimizers.schedules.LearningRateSchedule` (the paper anneals ε linearly to 0).
    Passing another optimizer to `compile` (the paper suggests Adam on this direction)
    replaces that SGD step, and with it `meta_step_size`.

    `fit`/`evaluate` take batched episodes (see `EpisodicMetaLearner`) and report the query
    loss after adaptation; `compile(loss=...)` names the task loss. No second-order terms, so
    the step is cheap and runs under `jit_compile=True`.

    Args:
        model: a built Keras model (Functional or Sequential; a subclassed model needs
            `get_config`/`from_config` and no BatchNormalization).
        inner_lr: the inner optimizer's learning rate. Defaults to `0.01`.
        inner_steps: inner-loop steps on the support set. Defaults to `5`.
        meta_step_size: the outer step size ε (a number or a learning-rate schedule).
            Defaults to `0.1`.
        inner_optimizer: `"sgd"` or `"adam"` (Adam with `beta_1=0`, restarted per task).
            Defaults to `"sgd"`.

    Example:

    ```python
    tasks = SinusoidTasks(seed=0)
    reptile = Reptile(sinusoid_mlp(), inner_lr=0.02, inner_steps=5, meta_step_size=0.1)
    reptile.compile(loss="mse")
    reptile.fit(tasks.dataset(k_shot=10, n_query=10).batch(5), steps_per_epoch=100, epochs=5)
    support_x, support_y, query_x, _ = tasks.sample(1, 10, 100)
    predictions = reptile.adapt(support_x[0], support_y[0]).predict(query_x[0])
    ```

    Reference:
        Nichol, Achiam and Schulman, "On First-Order Meta-Learning Algorithms", 2018.
    """

    def __init__(
        self,
        model: keras.Model,
        inner_lr: float = 0.01,
        inner_steps: int = 5,
        meta_step_size=0.1,
        inner_optimizer: str = "sgd",
        **kwargs,
    ):
        if isinstance(meta_step_size, dict):
            meta_step_size = keras.saving.deserialize_keras_object(meta_step_size)
        if not isinstance(meta_step_size, keras.optimizers.schedules.LearningRateSchedule):
            check_positive_float("meta_step_size", meta_step_size)
        check_choice("inner_optimizer", inner_optimizer, INNER_OPTIMIZERS)
        super().__init__(model, inner_lr, inner_steps, **kwargs)
        self.meta_step_size = meta_step_size
        self.inner_optimizer = inner_optimizer
        self.built = True

    def compile(self, optimizer=None, loss=None, metrics=None, **kwargs):
        """Keras's `compile`; `optimizer` defaults to `SGD(learning_rate=meta_step_size)`."""
        if optimizer is None:
            optimizer = keras.optimizers.SGD(learning_rate=self.meta_step_size)
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def _adapted_weights(self, support_x, support_y) -> list[tf.Tensor]:
        weights, non_trainable = current_weights(self.model)
        weights = [tf.stop_gradient(w) for w in weights]
        task_loss = self._require_loss()
        second_moments = [tf.zeros_like(w) for w in weights]
        for step in range(1, self.inner_steps + 1):
            gradients = support_gradients(
                self.model, task_loss, weights, non_trainable, support_x, support_y
            )
            if self.inner_optimizer == "adam":
                second_moments = [
                    ADAM_BETA_2 * v + (1.0 - ADAM_BETA_2) * tf.square(g)
                    for v, g in zip(second_moments, gradients, strict=True)
                ]
                gradients = _adam_directions(gradients, second_moments, step)
            weights = [w - self.inner_lr * g for w, g in zip(weights, gradients, strict=True)]
        return weights

    def _one_task(self, episode):
        support_x, support_y, query_x, query_y = episode
        _, non_trainable = current_weights(self.model)
        weights = self._adapted_weights(support_x, support_y)
        loss, predictions = self._query_loss(weights, non_trainable, query_x, query_y)
        return ops.cast(loss, "float32"), predictions, weights

    def train_step(self, data):
        episodes = self._meta_batch(data)
        variables = self.meta_variables
        spec = (
            tf.TensorSpec([], "float32"),
            self._prediction_spec(episodes),
            [tf.TensorSpec(v.shape, v.dtype) for v in variables],
        )
        losses, predictions, adapted = tf.map_fn(self._one_task, episodes, fn_output_signature=spec)
        directions = [
            tf.convert_to_tensor(v.value) - tf.reduce_mean(phi, axis=0)
            for v, phi in zip(variables, adapted, strict=True)
        ]
        # Under mixed_float16 the optimizer is a LossScaleOptimizer, which unscales its input.
        self.optimizer.apply([self.optimizer.scale_loss(d) for d in directions], variables)
        return self._report(losses, episodes, predictions)

    def get_config(self) -> dict:
        config = super().get_config()
        step = self.meta_step_size
        if isinstance(step, keras.optimizers.schedules.LearningRateSchedule):
            step = keras.saving.serialize_keras_object(step)
        config["meta_step_size"] = step
        config["inner_optimizer"] = self.inner_optimizer
        return config
