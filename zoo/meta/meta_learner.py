"""`EpisodicMetaLearner`: what MAML and Reptile share (episodes in, adapted models out)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from layers.validation import check_positive_float, check_positive_int
from zoo.meta.functional import (
    adapted_copy,
    call_with_weights,
    check_adaptable,
    current_weights,
    loss_function,
    total_loss,
)


class EpisodicMetaLearner(keras.Model):
    """A `keras.Model` wrapping `model` that meta-learns its initial weights from episodes.

    `fit` and `evaluate` take datasets of episodes `(support_x, support_y, query_x, query_y)`
    batched into meta-batches (`EpisodeSampler(...).dataset().batch(tasks_per_step)`; a single
    unbatched episode counts as a meta-batch of one when `model` has a known input rank). The
    tasks of a meta-batch are mapped with `tf.map_fn`, so its size may vary. The reported
    `loss` (and compiled metrics) is the query-set loss after adapting on the support set.
    `adapt` returns the adapted model for prediction and export. `predict` on the same
    episodes returns each task's query predictions after adaptation, `[num_episodes,
    num_queries, ...]`, compiled (and `steps_per_execution`-safe): the fast way to score
    hundreds of test episodes (`episode_accuracies` for classification). Subclasses define
    `_adapted_weights` and `train_step`.

    The wrapped model always runs in training mode inside the wrapper (BatchNormalization on
    batch statistics, transductively, as in Finn et al. 2017; avoid Dropout in it).
    """

    def __init__(self, model: keras.Model, inner_lr: float, inner_steps: int, **kwargs):
        check_positive_float("inner_lr", inner_lr)
        check_positive_int("inner_steps", inner_steps)
        check_adaptable(model)
        super().__init__(**kwargs)
        self.model = model
        self.inner_lr = float(inner_lr)
        self.inner_steps = inner_steps
        self._task_loss = None

    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs):
        """Keras's `compile`; `loss` (required) is the task loss of support and query sets."""
        self._task_loss = loss_function(loss)
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        self.optimizer.build(self.meta_variables)  # so that a saved optimizer state loads

    @property
    def meta_variables(self) -> list:
        """The variables the outer loop trains."""
        return list(self.model.trainable_variables)

    def call(self, inputs, training=None):
        return self.model(inputs, training=training)

    def _require_loss(self):
        if self._task_loss is None:
            raise ValueError(
                f"{type(self).__name__} must be compiled with a task loss first: "
                "`compile(optimizer, loss=...)`. Received: loss=None"
            )
        return self._task_loss

    def _meta_batch(self, data) -> tuple[tf.Tensor, ...]:
        if not isinstance(data, tuple | list) or len(data) != 4:
            raise ValueError(
                f"{type(self).__name__} takes episodes (support_x, support_y, query_x, query_y), "
                f"e.g. `EpisodeSampler(...).dataset().batch(4)`. Received: data with "
                f"{len(data) if isinstance(data, tuple | list) else type(data).__name__} parts"
            )
        episode = tuple(ops.convert_to_tensor(part) for part in data)
        input_rank = _input_rank(self.model)
        if input_rank is not None and len(episode[0].shape) == input_rank:
            episode = tuple(ops.expand_dims(part, 0) for part in episode)
        return episode

    def _adapted_weights(self, support_x, support_y) -> list[tf.Tensor]:
        raise NotImplementedError

    def _query_loss(self, weights, non_trainable, query_x, query_y):
        predictions, extra = call_with_weights(self.model, weights, non_trainable, query_x)
        return total_loss(self._require_loss()(query_y, predictions), extra), predictions

    def _adapt_and_score(self, episode):
        support_x, support_y, query_x, query_y = episode
        _, non_trainable = current_weights(self.model)
        weights = self._adapted_weights(support_x, support_y)
        return self._query_loss(weights, non_trainable, query_x, query_y)

    def _score(self, episode):
        loss, predictions = self._adapt_and_score(episode)
        return ops.cast(loss, "float32"), predictions

    def _report(self, losses, episodes, predictions):
        query_y = episodes[3]
        flat = lambda t: ops.reshape(t, (-1, *t.shape[2:]))  # noqa: E731
        self._loss_tracker.update_state(ops.mean(losses), sample_weight=ops.shape(losses)[0])
        return self.compute_metrics(None, flat(query_y), flat(predictions))

    def test_step(self, data):
        episodes = self._meta_batch(data)
        prediction_spec = self._prediction_spec(episodes)
        losses, predictions = tf.map_fn(
            self._score,
            episodes,
            fn_output_signature=(tf.TensorSpec([], "float32"), prediction_spec),
        )
        return self._report(losses, episodes, predictions)

    def predict_step(self, data):
        """Episodes: the query predictions after adaptation; other inputs: the model's."""
        if not (isinstance(data, tuple | list) and len(data) == 4):
            return super().predict_step(data)
        episodes = self._meta_batch(data)
        _, predictions = tf.map_fn(
            self._score,
            episodes,
            fn_output_signature=(tf.TensorSpec([], "float32"), self._prediction_spec(episodes)),
        )
        return predictions

    def episode_accuracies(self, episodes, **kwargs) -> np.ndarray:
        """Query accuracy of every episode after adaptation (classification, sparse labels).

        Args:
            episodes: a dataset of episodes `(support_x, support_y, query_x, query_y)`,
                unbatched or batched into meta-batches (as `evaluate` takes them).
            **kwargs: passed on to `predict` (e.g. `verbose=0`).

        Returns:
            A float array `[num_episodes]`: the fraction of each query set whose arg-max
            prediction is its label (e.g. for `FewShotAccuracy.from_accuracies`).

        Example:

        ```python
        test = EpisodeSampler(x, y, n_way=5, k_shot=1, seed=1).dataset().take(600)
        accuracy = FewShotAccuracy.from_accuracies(maml.episode_accuracies(test.batch(8)))
        ```
        """
        self._require_loss()
        if isinstance(episodes, tf.data.Dataset) and len(episodes.element_spec[0].shape) == (
            _input_rank(self.model)
        ):
            episodes = episodes.batch(1)  # one episode per meta-batch
        predictions = self.predict(episodes, **kwargs)
        labels = np.concatenate(
            [np.reshape(episode[3], (-1, predictions.shape[1])) for episode in episodes]
        )
        if labels.shape[0] != predictions.shape[0]:
            raise ValueError(
                f"`episodes` gave {predictions.shape[0]} predictions for {labels.shape[0]} "
                "query sets; pass a finite dataset of (support_x, support_y, query_x, "
                f"query_y). Received: episodes={episodes!r}"
            )
        return np.mean(np.argmax(predictions, axis=-1) == labels, axis=-1)

    def _prediction_spec(self, episodes) -> tf.TensorSpec:
        query_x = episodes[2]
        spec = self.model.compute_output_spec(keras.KerasTensor(query_x.shape[1:], query_x.dtype))
        return tf.TensorSpec(spec.shape, spec.dtype)

    def adapt(self, support_x, support_y) -> keras.Model:
        """The model adapted to one task's support set, as a standalone `keras.Model`.

        Args:
            support_x: the support inputs `[num_support, ...]`.
            support_y: their targets.

        Returns:
            A copy of the wrapped model holding the adapted weights, BatchNormalization on
            batch statistics (predict a query set as one batch); save it or export it with
            `serving.export`.
        """
        self._require_loss()
        weights = self._adapted_weights(
            ops.convert_to_tensor(support_x), ops.convert_to_tensor(support_y)
        )
        return adapted_copy(self.model, weights)

    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable}
        config["model"] = keras.saving.serialize_keras_object(self.model)
        config["inner_lr"] = self.inner_lr
        config["inner_steps"] = self.inner_steps
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config["model"] = keras.saving.deserialize_keras_object(config["model"])
        return cls(**config)


def _input_rank(model: keras.Model) -> int | None:
    try:
        return len(model.input_shape)
    except (AttributeError, ValueError, TypeError):
        return None
