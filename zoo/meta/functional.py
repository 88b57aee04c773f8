"""A Keras model run with substituted weights, and adapted copies of it, for meta-learning.

MAML and Reptile differentiate through (or repeat) gradient steps on a task's support set
without touching the model's variables. `call_with_weights` runs the model on given weight
tensors with `keras.Model.stateless_call`, so gradients flow through nested
`tf.GradientTape`s back to the meta-parameters; `adapted_copy` turns adapted weight tensors
into a standalone `keras.Model` for prediction, saving and `serving.export`.

BatchNormalization is transductive, as in Finn et al. (2017): the inner loop and the query
set always normalise with the statistics of the batch at hand, and the adapted copy does the
same (`TransductiveBatchNormalization`), so predict a task's query set as one batch.
"""

from __future__ import annotations

import inspect

import keras
import numpy as np
import tensorflow as tf
from keras import ops


@keras.saving.register_keras_serializable(package="keras_zoo")
class TransductiveBatchNormalization(keras.layers.BatchNormalization):
    """BatchNormalization that always normalises with the current batch's statistics.

    The layer MAML's adapted models use in place of `BatchNormalization` (Finn et al. 2017
    evaluate with batch statistics, "transductively"): its output does not depend on
    `training`, the moving statistics are kept (for the weights' sake) but neither read nor
    updated. Takes `keras.layers.BatchNormalization`'s arguments.

    Example:

    ```python
    layer = TransductiveBatchNormalization()
    y = layer(x)  # normalised over x's own batch, at inference too
    ```
    """

    def call(self, inputs, training=None, mask=None):
        del training  # batch statistics in every mode
        wide = inputs.dtype in ("float16", "bfloat16")
        x = ops.cast(inputs, "float32") if wide else inputs
        # BatchNormalization's own (masked, optionally synchronised) batch moments.
        mean, variance = self._moments(x, mask)
        outputs = ops.batch_normalization(
            x,
            mean,
            variance,
            axis=self.axis,
            offset=self.beta,
            scale=self.gamma,
            epsilon=self.epsilon,
        )
        return ops.cast(outputs, inputs.dtype)


def _reads_moving_statistics(layer: keras.layers.Layer) -> bool:
    # Subclasses too (`layers.FusedBatchNormalization`): every BatchNormalization but ours.
    return isinstance(layer, keras.layers.BatchNormalization) and not isinstance(
        layer, TransductiveBatchNormalization
    )


def _batch_statistics_clone(layer: keras.layers.Layer) -> keras.layers.Layer:
    config = layer.get_config()
    if _reads_moving_statistics(layer):
        # A subclass's own arguments (`unbiased_moving_variance`) do not apply here.
        known = keras.layers.BatchNormalization().get_config()
        config = {key: value for key, value in config.items() if key in known}
        return TransductiveBatchNormalization.from_config(config)
    return layer.__class__.from_config(config)


def _plain_batch_norms(model: keras.Model) -> list[str]:
    # `_flatten_layers` walks nested models and layers: keras has no public equivalent.
    layers = model._flatten_layers(include_self=False)
    return [layer.name for layer in layers if _reads_moving_statistics(layer)]


def clone_for_adaptation(model: keras.Model) -> keras.Model:
    """A fresh copy of `model`'s architecture with batch-statistics BatchNormalization.

    Args:
        model: a built Functional or Sequential model, or a subclassed model whose
            `get_config`/`from_config` rebuild it (without BatchNormalization layers).

    Returns:
        The copy (new variables, not yet holding `model`'s values).
    """
    try:
        try:
            clone = keras.models.clone_model(
                model, clone_function=_batch_statistics_clone, recursive=True
            )
        except ValueError as error:
            if "clone_function" not in str(error) and "subclass" not in str(error):
                raise
            clone = keras.models.clone_model(model)  # subclassed: rebuilt from its config
    except Exception as error:
        raise ValueError(
            "`model` cannot be cloned for adaptation: meta-learning needs a copy of it that "
            "holds the adapted weights (a Functional or Sequential model, or a subclassed "
            f"model with `get_config`/`from_config`). Cloning failed with: {error}. "
            f"Received: model={model.name!r}"
        ) from error
    if not clone.built:
        clone.build(model.input_shape)
    unconverted = _plain_batch_norms(clone)
    if unconverted:
        raise ValueError(
            "`model` is a subclassed model with BatchNormalization layers "
            f"{unconverted}, which adaptation cannot switch to batch statistics; build it as "
            f"a Functional or Sequential model. Received: model={model.name!r}"
        )
    mine = [tuple(v.shape) for v in model.trainable_variables]
    theirs = [tuple(v.shape) for v in clone.trainable_variables]
    if mine != theirs:
        raise ValueError(
            "`model` cannot be cloned for adaptation: its copy has different trainable "
            f"variables ({theirs} instead of {mine}). Received: model={model.name!r}"
        )
    return clone


def check_adaptable(model) -> keras.Model:
    """Checks that `model` can be meta-learned: a built Keras model with trainable weights."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model. Received: model={model!r}")
    if not model.built:
        raise ValueError(
            "`model` must be built before it is meta-learned (start it with `keras.Input`, or "
            f"call `model.build(input_shape)`). Received: model={model.name!r}, not built"
        )
    if not model.trainable_variables:
        raise ValueError(
            f"`model` has no trainable variables to adapt. Received: model={model.name!r}"
        )
    clone_for_adaptation(model)
    return model


def current_weights(model: keras.Model) -> tuple[list[tf.Tensor], list[tf.Tensor]]:
    """`model`'s trainable and non-trainable variables read as tensors (taped reads)."""
    trainable = [tf.convert_to_tensor(v.value) for v in model.trainable_variables]
    non_trainable = [tf.convert_to_tensor(v.value) for v in model.non_trainable_variables]
    return trainable, non_trainable


def call_with_weights(model, trainable, non_trainable, x):
    """Runs `model` on `x` with weight tensors in place of its variables, in training mode.

    Training mode makes BatchNormalization use the batch statistics (the updated moving
    statistics that `stateless_call` returns are dropped: MAML is transductive).

    Args:
        model: the model whose graph is run.
        trainable: one tensor per `model.trainable_variables`.
        non_trainable: one tensor per `model.non_trainable_variables`.
        x: the inputs.

    Returns:
        `(outputs, extra_losses)`: the outputs and the list of losses the model adds
        (weight and activity regularisation, computed with the given weights).
    """
    # `stateless_call` passes `training` on unchecked; a model whose `call` lacks it gets none.
    mode = {"training": True} if "training" in inspect.signature(model.call).parameters else {}
    outputs, _, losses = model.stateless_call(
        trainable, non_trainable, x, return_losses=True, **mode
    )
    return outputs, losses


def total_loss(task_loss, extra_losses):
    """The task loss plus the model's own losses, in the task loss's dtype."""
    for extra in extra_losses:
        task_loss = task_loss + ops.cast(extra, task_loss.dtype)
    return task_loss


def loss_function(loss):
    """`loss` (a name, a function or a `keras.losses.Loss`) as a scalar `fn(y_true, y_pred)`."""
    if loss is None:
        raise ValueError(
            "`loss` is required: meta-learners compute the task loss themselves. "
            "Received: loss=None"
        )
    resolved = keras.losses.get(loss)
    if isinstance(resolved, keras.losses.Loss):
        return lambda y, y_pred: _at_least_float32(resolved(y, y_pred))
    return lambda y, y_pred: ops.mean(_at_least_float32(resolved(y, y_pred)))


def _at_least_float32(value):
    return ops.cast(value, "float32") if value.dtype in ("float16", "bfloat16") else value


def adapted_copy(model: keras.Model, trainable) -> keras.Model:
    """A standalone copy of `model` holding the weights `trainable` (its non-trainables kept).

    Args:
        model: the meta-learned model.
        trainable: one value per `model.trainable_variables` (tensors or arrays).

    Returns:
        A `keras.Model` of the same architecture, with `TransductiveBatchNormalization` in
        place of `BatchNormalization`; it saves as `.keras` and exports with `serving.export`.
    """
    copy = clone_for_adaptation(model)
    for variable, value in zip(copy.trainable_variables, trainable, strict=True):
        variable.assign(value)
    for variable, source in zip(
        copy.non_trainable_variables, model.non_trainable_variables, strict=True
    ):
        variable.assign(source)
    return copy


def adaptation_curve(model, loss, episodes, inner_lr: float, steps: int) -> np.ndarray:
    """Mean query loss after 0, 1, ..., `steps` plain gradient steps on each task's support.

    The fine-tuning evaluation of Finn et al. (2017), Figure 2: start from `model`'s weights,
    take SGD steps of size `inner_lr` on the support set, measure the query loss after each.

    Args:
        model: a built Keras model.
        loss: the task loss (name, function or `keras.losses.Loss`).
        episodes: `(support_x, support_y, query_x, query_y)`, each with a leading task axis.
        inner_lr: the fine-tuning step size.
        steps: the number of fine-tuning steps.

    Returns:
        A float array of `steps + 1` mean query losses (index 0: before any step).

    Example:

    ```python
    curve = adaptation_curve(model, "mse", SinusoidTasks(seed=1).sample(100, 10, 100), 0.01, 10)
    ```
    """
    task_loss = loss_function(loss)

    def one_task(episode):
        support_x, support_y, query_x, query_y = episode
        weights, non_trainable = current_weights(model)
        losses = []
        for step in range(steps + 1):
            predictions, _ = call_with_weights(model, weights, non_trainable, query_x)
            losses.append(ops.cast(task_loss(query_y, predictions), "float32"))
            if step == steps:
                break
            gradients = support_gradients(
                model, task_loss, weights, non_trainable, support_x, support_y
            )
            weights = [w - inner_lr * g for w, g in zip(weights, gradients, strict=True)]
        return tf.stack(losses)

    @tf.function
    def all_tasks(episodes):
        curves = tf.map_fn(
            one_task, episodes, fn_output_signature=tf.TensorSpec([steps + 1], tf.float32)
        )
        return tf.reduce_mean(curves, axis=0)

    return all_tasks(tuple(tf.convert_to_tensor(part) for part in episodes)).numpy()


def support_gradients(model, task_loss, weights, non_trainable, x, y) -> list[tf.Tensor]:
    """Gradients of the task loss (plus the model's own losses) on `(x, y)` w.r.t. `weights`.

    Computed on a tape of its own, inside any enclosing tape: differentiating the result
    again gives MAML's second-order terms.
    """
    with tf.GradientTape() as tape:
        tape.watch(weights)
        predictions, extra = call_with_weights(model, weights, non_trainable, x)
        loss = total_loss(task_loss(y, predictions), extra)
    return dense_gradients(tape.gradient(loss, weights), weights)


def dense_gradients(gradients, weights) -> list[tf.Tensor]:
    """`gradients` with zeros in place of `None` (a weight the loss does not reach)."""
    return [
        ops.zeros_like(w) if g is None else ops.convert_to_tensor(g)
        for g, w in zip(gradients, weights, strict=True)
    ]
