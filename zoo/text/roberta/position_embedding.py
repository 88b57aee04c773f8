"""RoBERTa's positions: counted over real tokens, from an offset after the padding index."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_non_negative_int, check_positive_int
from zoo.text.encoder import bert_initializer


@keras.saving.register_keras_serializable(package="keras_zoo")
class OffsetPositionEmbedding(keras.layers.Layer):
    """Learned positions counted over real tokens only, starting after `padding_index`.

    Real token `k` (0-based, counting only tokens where `padding_mask` is 1) gets position
    `padding_index + 1 + k`; padding tokens get `padding_index`. This is how fairseq and Hugging
    Face number RoBERTa's positions, so the table has `max_sequence_length + padding_index + 1`
    rows.

    Args:
        num_positions: rows of the table.
        output_dim: width of each row.
        padding_index: the position given to padding. Defaults to `1`.
        initializer: initializer of the table. Defaults to a truncated normal (stddev 0.02).
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        padding_mask: `(batch, length)` integers, 1 for real tokens.

    Example:

    ```python
    positions = OffsetPositionEmbedding(514, 768)(padding_mask)
    ```

    Reference:
        Liu et al., "RoBERTa: A Robustly Optimized BERT Pretraining Approach", 2019.
    """

    def __init__(self, num_positions, output_dim, padding_index=1, initializer=None, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("num_positions", num_positions)
        check_positive_int("output_dim", output_dim)
        check_non_negative_int("padding_index", padding_index)
        self.num_positions = num_positions
        self.output_dim = output_dim
        self.padding_index = padding_index
        self.initializer = keras.initializers.get(initializer or bert_initializer())

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            shape=(self.num_positions, self.output_dim),
            initializer=self.initializer,
            name="embeddings",
        )

    def call(self, padding_mask):
        mask = ops.cast(padding_mask, "int32")
        positions = ops.cumsum(mask, axis=-1) * mask + self.padding_index
        return ops.cast(ops.take(self.embeddings, positions, axis=0), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "num_positions": self.num_positions,
            "output_dim": self.output_dim,
            "padding_index": self.padding_index,
            "initializer": keras.initializers.serialize(self.initializer),
        }
