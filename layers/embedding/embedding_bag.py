"""EmbeddingBag: the sum or mean of a bag of embedding rows (TensorFlow Addons' layer)."""

from __future__ import annotations

import keras
from keras import ops

from layers.serialization import serialize
from layers.validation import check_bool, check_choice, check_positive_int

COMBINERS = ("sum", "mean")


@keras.saving.register_keras_serializable(package="keras_zoo")
class EmbeddingBag(keras.layers.Layer):
    """Looks up a bag of rows per example and reduces them: `sum_j w_j * E[indices[..., j]]`.

    The last axis of `indices` is the bag: the output has shape
    `indices.shape[:-1] + (output_dim,)`. With `combiner="sum"` the rows are added, each times
    its weight when `weights` (the shape of `indices`) is given; with `combiner="mean"` their sum
    is divided by the bag size (weights are refused, as TFA does). The lookup is a gather, so
    the table's gradient is a `tf.IndexedSlices` of the looked-up rows: sparse-aware optimizers
    (`layers.optimizers.LazyAdam`) update only those rows. The weights get their gradient too.
    This is `tfa.layers.EmbeddingBag` (PyTorch's `EmbeddingBag` with fixed-size bags): the same
    arguments, defaults and numbers, and the table loads through `set_weights`.

    Args:
        input_dim: positive integer, the vocabulary size (rows of the table).
        output_dim: positive integer, the embedding size.
        embeddings_initializer: initializer of the table. Defaults to `"uniform"`.
        embeddings_regularizer: optional regularizer of the table. Defaults to `None`.
        embeddings_constraint: optional constraint of the table. Defaults to `None`.
        mask_zero: kept for TFA compatibility. As in TFA, index 0 still counts in its bag and
            the layer only passes an incoming mask through. Defaults to `False`.
        combiner: `"sum"` or `"mean"`. Defaults to `"sum"`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        indices: integer tensor of rank 2 or more, values in `[0, input_dim)`.
        weights: optional float tensor shaped like `indices` (only with `combiner="sum"`).

    Example:

    ```python
    bag = EmbeddingBag(1000, 16, combiner="mean")
    vectors = bag(np.array([[4, 8, 15], [16, 23, 42]]))  # (2, 16)
    weighted = EmbeddingBag(1000, 16)(np.array([[4, 8]]), np.array([[0.25, 0.75]]))
    ```
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero: bool = False,
        combiner: str = "sum",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.input_dim = check_positive_int("input_dim", input_dim)
        self.output_dim = check_positive_int("output_dim", output_dim)
        self.mask_zero = check_bool("mask_zero", mask_zero)
        self.combiner = check_choice("combiner", combiner, COMBINERS)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.embeddings_regularizer = keras.regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = keras.constraints.get(embeddings_constraint)
        self._config_args = {
            "embeddings_initializer": serialize(embeddings_initializer),
            "embeddings_regularizer": serialize(embeddings_regularizer),
            "embeddings_constraint": serialize(embeddings_constraint),
        }
        self.supports_masking = mask_zero
        # Gather first, then cast the rows: under mixed precision the table is never cast whole.
        self.autocast = False

    def build(self, indices_shape, weights_shape=None):
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
        )

    def call(self, indices, weights=None):
        if len(indices.shape) < 2:
            raise ValueError(
                "`indices` must have rank 2 or more (the last axis is the bag). "
                f"Received: indices.shape={tuple(indices.shape)}"
            )
        if keras.backend.standardize_dtype(indices.dtype) not in ("int32", "int64"):
            indices = ops.cast(indices, "int32")
        rows = ops.take(self.embeddings, indices, axis=0)  # [..., bag, output_dim]
        if rows.dtype != self.compute_dtype:
            rows = ops.cast(rows, self.compute_dtype)
        if weights is None:
            bags = ops.sum(rows, axis=-2)
            if self.combiner == "mean":
                bags = bags / ops.cast(ops.shape(rows)[-2], bags.dtype)
            return bags
        if self.combiner != "sum":
            raise ValueError(
                "`weights` can only be given with combiner='sum', as in TensorFlow Addons. "
                f"Received: combiner={self.combiner!r}"
            )
        weights = ops.cast(weights, self.compute_dtype)
        return ops.sum(rows * ops.expand_dims(weights, -1), axis=-2)

    def compute_output_shape(self, indices_shape, weights_shape=None):
        return (*indices_shape[:-1], self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "mask_zero": self.mask_zero,
            "combiner": self.combiner,
            **self._config_args,
        }
