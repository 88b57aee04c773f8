"""The private train step: vectorised per-example gradients, clipped and noised.

Keras 3's train step computes only the batch-mean gradient. For a model made of Dense and
Conv2D layers, clipped per example (the default), this step gets the clipped sum of the
per-example gradients without forming them (`ghost_clipping`: one forward and one backward
pass, per-example norms from the layers' inputs and output gradients). Otherwise it computes
the gradient of each microbatch with `tf.vectorized_map`, which turns one forward-and-backward
pass over a group into a single pass over all groups at once (no Python loop over examples),
and hands them to the `DPOptimizer`'s clip. Either way the optimizer adds the noise (Abadi et
al. 2016, https://arxiv.org/abs/1607.00133).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from layers.callbacks.loss_terms import per_example_loss_fn
from layers.privacy.dp_optimizer import DPOptimizer, find_dp_optimizer, has_distribution_strategy
from layers.privacy.ghost_clipping import ghost_clipping_plan

# Layers that mix the examples of a batch: one example's gradient would depend on the others.
BATCH_MIXING_LAYERS = (keras.layers.BatchNormalization,)


def check_private_model(model: keras.Model) -> DPOptimizer:
    """The model's `DPOptimizer`, after checking that the model can be trained privately.

    Raises:
        ValueError: for what the private step cannot train privately: no `DPOptimizer`, a
            loss scaled for mixed precision, several losses, `model.losses` terms, batch
            normalisation, several replicas.
    """
    optimizer = getattr(model, "optimizer", None)
    dp_optimizer = find_dp_optimizer(optimizer)
    if dp_optimizer is None:
        raise ValueError(
            "Private training needs the model compiled with a DPOptimizer (see "
            f"`layers.privacy.make_private`). Received: optimizer={optimizer!r}"
        )
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        raise ValueError(
            "Private training does not support loss scaling (`mixed_float16`): per-example "
            "gradients are computed in float32. Use the float32 policy. "
            f"Received: optimizer={optimizer!r}"
        )
    loss = getattr(model, "loss", None)
    if isinstance(loss, list | tuple | dict):
        raise ValueError(
            "Private training takes one compiled loss (per-example losses must be summed "
            f"before clipping; combine them in one loss function). Received: loss={loss!r}"
        )
    mixing = [
        layer.name for layer in model._flatten_layers() if isinstance(layer, BATCH_MIXING_LAYERS)
    ]
    if mixing:
        raise ValueError(
            "Private training cannot use layers that mix the examples of a batch (their "
            "per-example gradients are not per example); use LayerNormalization or "
            f"GroupNormalization. Received: batch-normalisation layers={mixing}"
        )
    if has_distribution_strategy():
        raise ValueError(
            "Private training runs on one replica: each replica would add its own noise to its "
            "share of the batch. Received: num_replicas_in_sync="
            f"{tf.distribute.get_strategy().num_replicas_in_sync}"
        )
    return dp_optimizer


def _group(tensor, num_groups):
    """`[B, ...] -> [num_groups, B / num_groups, ...]`."""
    tensor = tf.convert_to_tensor(tensor)
    return tf.reshape(tensor, tf.concat([[num_groups, -1], tf.shape(tensor)[1:]], axis=0))


def _ungroup(tensor):
    """`[G, g, ...] -> [G * g, ...]`."""
    return tf.reshape(tensor, tf.concat([[-1], tf.shape(tensor)[2:]], axis=0))


def _per_example_losses(loss_fn, y, prediction, sample_weight):
    """`[B]` losses: the loss averaged over each example's non-batch axes, times its weight."""
    losses = tf.cast(loss_fn(y, prediction), "float32")
    rank = len(losses.shape)
    if rank > 1:
        losses = tf.reduce_mean(losses, axis=list(range(1, rank)))
    if sample_weight is not None:
        losses = losses * tf.reshape(tf.cast(sample_weight, "float32"), tf.shape(losses))
    return losses


def microbatch_gradients(model, loss_fn, x, y, sample_weight=None, num_microbatches=None):
    """The gradient of each microbatch's mean loss, for every trainable weight, vectorised.

    Args:
        model: a built Keras model.
        loss_fn: `(y_true, y_pred) -> per-example losses` (unreduced).
        x, y: one batch (`x` may be a nest of tensors).
        sample_weight: per-example weights `[B]`, or `None`.
        num_microbatches: groups per batch, which must divide the batch size; `None`: one
            group per example.

    Returns:
        `(gradients, y_pred)`: one `[num_groups, *weight.shape]` tensor per trainable weight,
        and the model's predictions for the batch.
    """
    first = tf.convert_to_tensor(tf.nest.flatten(x)[0])
    batch = tf.shape(first)[0]
    if num_microbatches is None:
        groups = batch
    else:
        message = (
            "`num_microbatches` must divide the batch size. Received: "
            f"num_microbatches={num_microbatches}"
        )
        static_batch = first.shape[0]
        if static_batch is not None and static_batch % num_microbatches:
            raise ValueError(f"{message} (batch size {static_batch})")
        groups = tf.constant(num_microbatches, tf.int32)
        with tf.control_dependencies([tf.debugging.assert_equal(batch % groups, 0, message)]):
            groups = tf.identity(groups)
    weights = model.trainable_weights
    grouped = tf.nest.map_structure(lambda t: _group(t, groups), (x, y))
    if sample_weight is not None:
        grouped = (*grouped, _group(tf.cast(sample_weight, "float32"), groups))

    def one_group(inputs):
        group_x, group_y = inputs[0], inputs[1]
        weights_of_group = inputs[2] if len(inputs) == 3 else None
        with tf.GradientTape() as tape:
            prediction = model(group_x, training=True)
            losses = _per_example_losses(loss_fn, group_y, prediction, weights_of_group)
            loss = tf.reduce_mean(losses)
        grads = tape.gradient(loss, weights, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return grads, prediction

    grads, predictions = tf.vectorized_map(one_group, grouped)
    return list(grads), tf.nest.map_structure(_ungroup, predictions)


def private_train_step(model: keras.Model, data):
    """One DP-SGD step on `data` (what `PrivateTraining` installs as the model's train step).

    Args:
        model: a model compiled with a `DPOptimizer` (see `check_private_model`).
        data: `(x, y)` or `(x, y, sample_weight)`.

    Returns:
        The model's metrics, as Keras's `train_step` returns them.

    Example:

    ```python
    for x, y in dataset:
        logs = private_train_step(model, (x, y))
    ```
    """
    dp_optimizer = check_private_model(model)
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    if not model.built or not dp_optimizer.built:
        model.optimizer.build(model.trainable_variables)
    loss_fn = per_example_loss_fn(model, None)
    plan = ghost_clipping_plan(model) if dp_optimizer.num_microbatches is None else None
    if plan is not None:
        sums, y_pred = plan.clipped_gradient_sums(
            lambda prediction: _per_example_losses(loss_fn, y, prediction, sample_weight),
            x,
            dp_optimizer.l2_norm_clip,
        )
        private = dp_optimizer.noised_average(sums, tf.shape(tf.nest.flatten(x)[0])[0])
    else:
        grads, y_pred = microbatch_gradients(
            model, loss_fn, x, y, sample_weight, dp_optimizer.num_microbatches
        )
        private = dp_optimizer.private_gradients(grads)
    if model.losses:
        raise ValueError(
            "Private training clips the compiled loss's per-example gradients; terms in "
            "`model.losses` (activity regularisers, `add_loss`) would escape the clipping. Use "
            f"the optimizer's `weight_decay` instead. Received: {len(model.losses)} loss terms"
        )
    with dp_optimizer.private_update():
        model.optimizer.apply(private, model.trainable_weights)
    loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
    model._loss_tracker.update_state(loss, sample_weight=tf.shape(tf.nest.flatten(x)[0])[0])
    return model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
