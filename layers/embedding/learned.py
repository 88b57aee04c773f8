"""Learned absolute position embeddings."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_zoo")
class PositionEmbedding(keras.layers.Layer):
    """A trainable embedding per position, as in BERT and GPT-2.

    The layer holds a `(sequence_length, d)` table, `d` being the feature size of its input, and
    returns the rows for the input's positions, broadcast to the input's shape. Add the result to
    the token embeddings yourself.

    Args:
        sequence_length: the number of positions the table holds (the longest input).
        initializer: initializer of the table. Defaults to `"glorot_uniform"`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        inputs: a tensor shaped `(batch, sequence, d)`; only its shape is used.
        start_index: position of the first token, for decoding with a cache; positions
            `start_index ... start_index + sequence - 1` are looked up. Defaults to `0`.

    Example:

    ```python
    tokens = keras.layers.Embedding(1000, 64)(token_ids)
    x = tokens + PositionEmbedding(sequence_length=512)(tokens)
    ```

    Reference:
        Gehring et al., "Convolutional Sequence to Sequence Learning", ICML 2017;
        Devlin et al., "BERT", NAACL 2019.
    """

    def __init__(self, sequence_length: int, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if (
            isinstance(sequence_length, bool)
            or not isinstance(sequence_length, int)
            or sequence_length <= 0
        ):
            raise ValueError(
                "`sequence_length` must be a positive integer. "
                f"Received: sequence_length={sequence_length!r}"
            )
        self.sequence_length = sequence_length
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                "PositionEmbedding expects inputs shaped (batch, sequence, features) with a known "
                f"feature size. Received: input_shape={input_shape}"
            )
        length = input_shape[-2]
        if length is not None and length > self.sequence_length:
            raise ValueError(
                f"The input has {length} positions but `sequence_length` is "
                f"{self.sequence_length}. Received: input_shape={input_shape}"
            )
        self.embeddings = self.add_weight(
            shape=(self.sequence_length, input_shape[-1]),
            initializer=self.initializer,
            name="embeddings",
        )

    def call(self, inputs, start_index=0):
        shape = ops.shape(inputs)
        static = isinstance(start_index, int) and isinstance(shape[-2], int)
        if static and (start_index < 0 or start_index + shape[-2] > self.sequence_length):
            raise ValueError(
                f"Positions {start_index}..{start_index + shape[-2] - 1} do not fit in the "
                f"table of `sequence_length={self.sequence_length}`. "
                f"Received: start_index={start_index}"
            )
        rows = ops.slice(self.embeddings, (start_index, 0), (shape[-2], shape[-1]))
        return ops.broadcast_to(ops.cast(rows, self.compute_dtype), shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "sequence_length": self.sequence_length,
            "initializer": keras.initializers.serialize(self.initializer),
        }
