"""Elastic weight consolidation (EWC) as a `model.fit` callback."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from layers.callbacks.batches import check_batch_size, iterate_batches
from layers.callbacks.loss_terms import LossTermCallback, per_example_loss_fn


def diagonal_fisher(model: keras.Model, data, loss=None, batch_size: int = 32) -> list[np.ndarray]:
    """The diagonal of the empirical Fisher information of `model` on `data`.

    For every trainable variable, the mean over examples of the squared gradient of the
    per-example loss (the negative log-likelihood of the example's label), with the model in
    inference mode.

    Args:
        model: a built Keras model.
        data: `(x, y)` arrays or a `tf.data.Dataset` of `(x, y)` batches.
        loss: the per-example negative log-likelihood, as a loss name, function or
            `keras.losses.Loss`; `None` uses the model's compiled loss. Defaults to `None`.
        batch_size: batch size used to split arrays. Defaults to `32`.

    Returns:
        One float32 array per entry of `model.trainable_variables`.
    """
    check_batch_size(batch_size)
    per_example_loss = per_example_loss_fn(model, loss)
    variables = model.trainable_variables
    strategy = tf.distribute.get_strategy()

    def squared_gradient_sum(x, y):
        with tf.GradientTape() as tape:
            y_pred = model(x, training=False)
            losses = tf.cast(per_example_loss(y, y_pred), tf.float32)
        jacobians = tape.jacobian(losses, variables, experimental_use_pfor=True)
        return [tf.reduce_sum(tf.square(j), axis=0) for j in jacobians], tf.shape(losses)[0]

    @tf.function
    def replica_squared_gradient_sum(x, y):
        # Distributed variables are only readable per replica; every replica gets the whole
        # batch and the first one's result is used.
        result = strategy.run(squared_gradient_sum, args=(x, y))
        return tf.nest.map_structure(lambda r: strategy.experimental_local_results(r)[0], result)

    totals = [np.zeros(v.shape, np.float64) for v in variables]
    count = 0
    for x, y in iterate_batches(data, batch_size):
        sums, size = replica_squared_gradient_sum(x, y)
        totals = [t + s.numpy() for t, s in zip(totals, sums, strict=True)]
        count += int(size)
    if count == 0:
        raise ValueError("`data` yielded no examples; cannot compute the Fisher information.")
    return [(t / count).astype(np.float32) for t in totals]


class EWC(LossTermCallback):
    """Elastic weight consolidation: keeps weights important to earlier tasks close to them.

    After training on a task, `add_task(model, data)` stores the current weights `theta*` and
    the diagonal of the empirical Fisher information `F` on that task's data. Training on the
    next task with `callbacks=[ewc]` then minimises the task loss plus

        ewc_lambda / 2 * sum over stored tasks t and weights i of F_t,i * (theta_i - theta*_t,i)^2

    without any change to the model's class: for the duration of `fit`, the callback wraps the
    model's `compute_loss` on the instance and puts it back in `on_train_end`
    (`layers.callbacks.loss_terms.LossTermCallback`). Consolidating
    several tasks accumulates their penalties. The reported training loss includes the penalty;
    validation losses do not.

    Args:
        ewc_lambda: the penalty strength (lambda in the paper). Defaults to `1.0`.

    Example:

    ```python
    model.fit(x_a, y_a, epochs=5)
    ewc = EWC.consolidate(model, (x_a, y_a), ewc_lambda=100.0)
    model.fit(x_b, y_b, epochs=5, callbacks=[ewc])
    ewc.add_task(model, (x_b, y_b))  # then train on a third task with callbacks=[ewc]
    ```

    Reference: Kirkpatrick et al., "Overcoming catastrophic forgetting in neural networks",
    PNAS 2017.
    """

    def __init__(self, ewc_lambda: float = 1.0):
        super().__init__()
        if (
            isinstance(ewc_lambda, bool)
            or not isinstance(ewc_lambda, int | float)
            or not np.isfinite(ewc_lambda)
            or ewc_lambda < 0
        ):
            raise ValueError(
                "`ewc_lambda` must be a non-negative finite number. "
                f"Received: ewc_lambda={ewc_lambda!r}"
            )
        self.ewc_lambda = float(ewc_lambda)
        # One (fisher, anchor) pair of per-variable float32 arrays per consolidated task.
        self.tasks: list[tuple[list[np.ndarray], list[np.ndarray]]] = []
        self._penalty_variables = None

    @classmethod
    def consolidate(
        cls, model: keras.Model, data, ewc_lambda: float = 1.0, loss=None, batch_size: int = 32
    ) -> EWC:
        """A new `EWC` holding one task: `model`'s current weights and its Fisher on `data`.

        Args:
            model: the model just trained on the task.
            data: the task's `(x, y)` arrays or a `tf.data.Dataset` of `(x, y)` batches.
            ewc_lambda: the penalty strength. Defaults to `1.0`.
            loss: the per-example negative log-likelihood; `None` uses the compiled loss.
                Defaults to `None`.
            batch_size: batch size used to split arrays. Defaults to `32`.
        """
        ewc = cls(ewc_lambda=ewc_lambda)
        ewc.add_task(model, data, loss=loss, batch_size=batch_size)
        return ewc

    def add_task(self, model: keras.Model, data, loss=None, batch_size: int = 32) -> None:
        """Consolidates a task: stores `model`'s current weights and its Fisher on `data`.

        Args:
            model: the model just trained on the task.
            data: the task's `(x, y)` arrays or a `tf.data.Dataset` of `(x, y)` batches.
            loss: the per-example negative log-likelihood; `None` uses the compiled loss.
                Defaults to `None`.
            batch_size: batch size used to split arrays. Defaults to `32`.
        """
        if self.tasks:
            self._check_variables(model)
        fisher = diagonal_fisher(model, data, loss=loss, batch_size=batch_size)
        anchor = [keras.ops.convert_to_numpy(v).astype(np.float32) for v in _variables(model)]
        self.tasks.append((fisher, anchor))

    def _check_variables(self, model: keras.Model) -> None:
        expected = [a.shape for a in self.tasks[0][1]]
        received = [tuple(v.shape) for v in _variables(model)]
        if expected != received:
            raise ValueError(
                "The model's trainable variables differ from those EWC consolidated: expected "
                f"shapes {expected}. Received: shapes {received}"
            )

    def penalty(self, model: keras.Model | None = None):
        """The EWC penalty for `model`'s current weights (the callback's model by default)."""
        model = model if model is not None else self.model
        if not self.tasks:
            return tf.constant(0.0)
        self._check_variables(model)
        return self._penalty(
            _variables(model),
            [[tf.constant(a) for a in arrays] for arrays in self._flat_tasks()],
        )

    def _flat_tasks(self):
        return [arrays for task in self.tasks for arrays in task]

    def _penalty(self, variables, task_tensors):
        total = tf.constant(0.0, tf.float32)
        for fisher, anchor in zip(task_tensors[0::2], task_tensors[1::2], strict=True):
            for variable, f, a in zip(variables, fisher, anchor, strict=True):
                value = tf.cast(tf.convert_to_tensor(variable), tf.float32)
                total += tf.reduce_sum(f * tf.square(value - a))
        return 0.5 * self.ewc_lambda * total

    def on_train_begin(self, logs=None):
        if not self.tasks:
            return
        model = self.model
        self._check_variables(model)
        with model.distribute_strategy.scope():
            # Variables rather than constants keep large Fisher arrays out of the traced graph.
            task_variables = [
                [keras.Variable(a, trainable=False, name="ewc") for a in arrays]
                for arrays in self._flat_tasks()
            ]
        self._penalty_variables = task_variables
        self.add_loss_term()

    def loss_term(self, model, x, y, y_pred, sample_weight):
        penalty = self._penalty(_variables(model), self._penalty_variables)
        # Keras sums the replicas' gradients, so each replica adds its share, as it does for
        # regularisation losses.
        return penalty / tf.distribute.get_strategy().num_replicas_in_sync

    def on_train_end(self, logs=None):
        self.remove_loss_term()
        self._penalty_variables = None


def _variables(model: keras.Model):
    return model.trainable_variables
