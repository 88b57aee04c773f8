"""Experience replay and Dark Experience Replay (DER, DER++) as `model.fit` callbacks."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from layers.callbacks.loss_terms import LossTermCallback, per_example_loss_fn
from layers.validation import check_non_negative_float, check_positive_int
from zoo.continual.replay import (
    FIRST_REPLAY_DRAW,
    SECOND_REPLAY_DRAW,
    ReplayMemory,
    random_integers,
    reservoir_slots,
)


class DarkExperienceReplay(LossTermCallback):
    """Dark Experience Replay: rehearses stored examples and the model's stored outputs.

    With `callbacks=[der]`, every training step of `fit` minimises

        loss(current batch)
        + alpha * mean((f(x') - z')**2)        over a replay batch (x', z') from the memory
        + beta * mean(loss(y'', f(x'')))       over a second replay batch (x'', y'')

    where `z'` are the model's outputs stored when `x'` entered the memory (DER: `beta=0`;
    DER++: both; `ExperienceReplay`: `alpha=0`), then streams the current batch, with its
    outputs, into the `ReplayMemory` by reservoir sampling. The replay batches are drawn before
    the current batch is added, uniformly without replacement from the examples held; while the
    memory is empty the replay terms are zero. The MSE is over the model's outputs as they
    are: use a model that outputs logits (and a `from_logits=True` loss), as the paper does.

    How it plugs into `fit`: for the duration of `fit`, the callback wraps the model's
    `compute_loss` on the instance (`layers.callbacks.loss_terms.LossTermCallback`, as
    `layers.callbacks.EWC` does) and keeps the memory in
    TensorFlow variables, so the whole step, reservoir sampling included, runs inside the
    compiled train function (also with `jit_compile=True`). The memory's arrays are updated at
    every epoch's end and when `fit` ends. A dataset wrapper could mix replayed examples into
    the batches, but could not store the outputs the model computes in the step, which DER
    needs; one mechanism serves both. The reported training loss includes the replay terms;
    validation losses do not. Single device only (one replica).

    Runs repeat exactly: every random choice (the reservoir slots, both replay batches) is a
    stateless draw keyed by the memory's seed and its count of examples seen, and `fit`'s
    shuffling follows `keras.utils.set_random_seed`; so the same seeds give bit-identical
    memories and weights in any process (tested).

    The stream the memory samples from is every training example `fit` sees, counted again in
    each epoch. For models with one input tensor and one output tensor. It can be combined with
    `layers.callbacks.EWC` in the same `fit`.

    Args:
        memory: the `ReplayMemory` to fill and replay from. It stores outputs when `alpha > 0`.
        alpha: weight of the output-matching (logit MSE) term. Defaults to `0.1`.
        beta: weight of the replayed-label loss (DER++). Defaults to `0.0`.
        replay_batch_size: examples per replay batch (capped at the memory's capacity).
            Defaults to `32`.
        loss: per-example loss of the `beta` term (a name, function or `keras.losses.Loss`);
            `None` uses the compiled loss. Defaults to `None`.

    Example:

    ```python
    memory = ReplayMemory(capacity=200)
    der = DarkExperienceReplay(memory, alpha=0.3, beta=0.5)  # DER++
    for x_task, y_task in split_tasks(x, y, classes_per_task=2):
        model.fit(x_task, y_task, epochs=5, callbacks=[der])
    memory.save("run/memory.npz")
    ```

    Reference: Buzzega et al., "Dark Experience for General Continual Learning: a Strong,
    Simple Baseline", NeurIPS 2020.
    """

    def __init__(
        self,
        memory: ReplayMemory,
        alpha: float = 0.1,
        beta: float = 0.0,
        replay_batch_size: int = 32,
        loss=None,
    ):
        super().__init__()
        if not isinstance(memory, ReplayMemory):
            raise ValueError(f"`memory` must be a ReplayMemory. Received: memory={memory!r}")
        self.memory = memory
        self.alpha = check_non_negative_float("alpha", alpha)
        self.beta = check_non_negative_float("beta", beta)
        self.replay_batch_size = check_positive_int("replay_batch_size", replay_batch_size)
        self.loss = loss
        self._buffers = None

    @property
    def stores_logits(self) -> bool:
        return self.alpha > 0 or self.memory.stores_logits

    def on_train_begin(self, logs=None):
        model = self.model
        if model.distribute_strategy.num_replicas_in_sync > 1:
            raise ValueError(
                "Replay keeps one memory and runs on a single device; train without a "
                "multi-replica strategy. Received: num_replicas_in_sync="
                f"{model.distribute_strategy.num_replicas_in_sync}"
            )
        if self.alpha > 0 and self.memory.initialized and not self.memory.stores_logits:
            raise ValueError(
                "`alpha > 0` replays stored logits, but the memory was filled without them. "
                f"Received: alpha={self.alpha}, memory={self.memory!r}"
            )
        self._per_example_loss = per_example_loss_fn(model, self.loss) if self.beta else None
        if self.memory.initialized:
            self._create_buffers()
        self.add_loss_term()

    def loss_term(self, model, x, y, y_pred, sample_weight):
        return self._replay_and_store(model, x, y, y_pred)

    def on_epoch_end(self, epoch, logs=None):
        self._write_back()

    def on_train_end(self, logs=None):
        self._write_back()
        self._buffers = None
        self.remove_loss_term()

    def _create_buffers(self) -> None:
        # One extra row takes the examples the reservoir drops, so every scatter has a target.
        def buffer(array):
            padded = np.concatenate([array, np.zeros_like(array[:1])])
            return tf.Variable(padded, trainable=False)

        memory = self.memory
        self._buffers = {
            "x": buffer(memory.x),
            "y": buffer(memory.y),
            "logits": buffer(memory.logits) if memory.stores_logits else None,
            "num_seen": tf.Variable(memory.num_seen, dtype=tf.int64, trainable=False),
        }

    def _write_back(self) -> None:
        if self._buffers is None:
            return
        memory, buffers = self.memory, self._buffers
        memory.x = buffers["x"].numpy()[:-1]
        memory.y = buffers["y"].numpy()[:-1]
        if buffers["logits"] is not None:
            memory.logits = buffers["logits"].numpy()[:-1]
        memory.num_seen = int(buffers["num_seen"].numpy())

    def _check_batch(self, x, y, y_pred) -> None:
        """At trace time: one input, label and output tensor, shaped like the memory's."""
        stored = {}
        if self._buffers is not None:
            stored = {name: self._buffers[name] for name in ("x", "y", "logits")}
        for name, tensor in (("x", x), ("y", y), ("logits", y_pred)):
            if not tf.is_tensor(tensor) or not tensor.shape[1:].is_fully_defined():
                raise ValueError(
                    "Replay needs a model with one input tensor and one output tensor of fixed "
                    f"per-example shape, and labels. Received: {name}={tensor!r}"
                )
            if stored.get(name) is not None and tensor.shape[1:] != stored[name].shape[1:]:
                raise ValueError(
                    f"The memory holds `{name}` examples of shape {stored[name].shape[1:]}. "
                    f"Received: {name} of shape {tensor.shape[1:]}"
                )

    def _allocate_from_batch(self, x, y, y_pred) -> None:
        specs = [(tuple(t.shape[1:]), t.dtype.as_numpy_dtype) for t in (x, y, y_pred)]
        logits_spec = (specs[2][0], np.float32) if self.stores_logits else None
        with tf.init_scope():
            self.memory.allocate(specs[0], specs[1], logits_spec)
            self._create_buffers()

    def _replay_and_store(self, model, x, y, y_pred):
        self._check_batch(x, y, y_pred)
        if self._buffers is None:
            self._allocate_from_batch(x, y, y_pred)
        buffers = self._buffers
        num_seen = buffers["num_seen"].read_value()
        held = tf.minimum(num_seen, self.memory.capacity)
        replay_loss = tf.cond(
            held > 0, lambda: self._replay_loss(model, num_seen, held), lambda: tf.constant(0.0)
        )
        slots = reservoir_slots(num_seen, tf.shape(x)[0], self.memory.capacity, self.memory.seed)
        indices = slots[:, None]
        buffers["x"].scatter_nd_update(indices, tf.cast(x, buffers["x"].dtype))
        buffers["y"].scatter_nd_update(indices, tf.cast(y, buffers["y"].dtype))
        if buffers["logits"] is not None:
            logits = tf.cast(tf.stop_gradient(y_pred), tf.float32)
            buffers["logits"].scatter_nd_update(indices, logits)
        buffers["num_seen"].assign_add(tf.cast(tf.shape(x)[0], tf.int64))
        return replay_loss

    def _replay_loss(self, model, num_seen, held):
        total = tf.constant(0.0)
        purpose = FIRST_REPLAY_DRAW
        if self.alpha > 0:
            index, weight = self._replay_batch(num_seen, held, purpose)
            outputs = model(tf.gather(self._buffers["x"], index), training=True)
            outputs = tf.cast(outputs, tf.float32)
            stored = tf.gather(self._buffers["logits"], index)
            squared_error = tf.reduce_mean(tf.square(outputs - stored), axis=-1)
            total += self.alpha * _weighted_mean(squared_error, weight)
            purpose = SECOND_REPLAY_DRAW
        if self.beta > 0:
            index, weight = self._replay_batch(num_seen, held, purpose)
            outputs = model(tf.gather(self._buffers["x"], index), training=True)
            labels = tf.gather(self._buffers["y"], index)
            losses = tf.cast(self._per_example_loss(labels, outputs), tf.float32)
            total += self.beta * _weighted_mean(losses, weight)
        return total

    def _replay_batch(self, num_seen, held, purpose: int):
        """Indices of a uniform draw without replacement from the held examples, and weights
        that are zero for the padding when fewer than `replay_batch_size` are held."""
        capacity = self.memory.capacity
        size = min(self.replay_batch_size, capacity)
        draws = random_integers(capacity, self.memory.seed, num_seen, purpose)
        scores = tf.cast(tf.math.floormod(draws, 2**53), tf.float64)  # uniform, distinct a.s.
        scores = tf.where(tf.range(capacity, dtype=tf.int64) < held, scores, -1.0)
        index = tf.math.top_k(scores, k=size).indices
        weight = tf.cast(tf.range(size, dtype=tf.int64) < held, tf.float32)
        return index, weight


class ExperienceReplay(DarkExperienceReplay):
    """Experience replay with a reservoir memory: rehearses stored examples with their labels.

    Every training step of `fit` minimises `loss(current batch) + replay_weight *
    loss(replay batch)`, the replay batch drawn uniformly from the `ReplayMemory`, then streams
    the current batch into the memory by reservoir sampling. With equal batch sizes and
    `replay_weight=1` this is twice the loss of the concatenated batch (the "ER" baseline of
    Chaudhry et al. 2019 and Buzzega et al. 2020). It is `DarkExperienceReplay` with
    `alpha=0, beta=replay_weight`; see there how it plugs into `fit`.

    Args:
        memory: the `ReplayMemory` to fill and replay from.
        replay_batch_size: examples per replay batch (capped at the memory's capacity).
            Defaults to `32`.
        replay_weight: weight of the replay loss. Defaults to `1.0`.
        loss: per-example loss on the replay batch; `None` uses the compiled loss.
            Defaults to `None`.

    Example:

    ```python
    memory = ReplayMemory(capacity=200)
    replay = ExperienceReplay(memory, replay_batch_size=32)
    for x_task, y_task in split_tasks(x, y, classes_per_task=2):
        model.fit(x_task, y_task, epochs=5, callbacks=[replay])
    ```

    Reference: Chaudhry et al., "On Tiny Episodic Memories in Continual Learning", 2019.
    """

    def __init__(
        self,
        memory: ReplayMemory,
        replay_batch_size: int = 32,
        replay_weight: float = 1.0,
        loss=None,
    ):
        check_non_negative_float("replay_weight", replay_weight)
        super().__init__(
            memory, alpha=0.0, beta=replay_weight, replay_batch_size=replay_batch_size, loss=loss
        )
        self.replay_weight = self.beta


def _weighted_mean(values, weight):
    return tf.reduce_sum(values * weight) / tf.maximum(tf.reduce_sum(weight), 1.0)
