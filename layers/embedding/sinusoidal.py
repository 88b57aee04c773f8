"""Fixed sine/cosine position encodings (Vaswani et al. 2017)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_zoo")
class SinusoidalPositionEmbedding(keras.layers.Layer):
    """Fixed sinusoidal position encodings of "Attention Is All You Need".

    For position `pos` and feature pair `i`, the encoding is
    `PE[pos, 2i] = sin(pos / max_wavelength ** (2i / d))` and
    `PE[pos, 2i + 1] = cos(pos / max_wavelength ** (2i / d))`, with `d` the feature size of the
    input. The layer returns the encodings shaped like its input (`(batch, sequence, d)`); add
    them to the token embeddings yourself. It has no weights.

    Args:
        max_wavelength: the longest wavelength of the sinusoids. Defaults to `10000`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        inputs: a tensor shaped `(batch, sequence, d)`; only its shape is used.
        start_index: position of the first token, for decoding with a cache. Defaults to `0`.

    Example:

    ```python
    tokens = keras.layers.Embedding(1000, 64)(token_ids)
    x = tokens + SinusoidalPositionEmbedding()(tokens)
    ```

    Reference:
        Vaswani et al., "Attention Is All You Need", NeurIPS 2017, section 3.5.
    """

    def __init__(self, max_wavelength: float = 10000, **kwargs):
        super().__init__(**kwargs)
        if isinstance(max_wavelength, bool) or not isinstance(max_wavelength, int | float):
            raise TypeError(
                f"`max_wavelength` must be a number. Received: max_wavelength={max_wavelength!r}"
            )
        if max_wavelength <= 1:
            raise ValueError(
                "`max_wavelength` must be greater than 1. "
                f"Received: max_wavelength={max_wavelength}"
            )
        self.max_wavelength = max_wavelength

    def call(self, inputs, start_index=0):
        shape = ops.shape(inputs)
        sequence_length, hidden_dim = shape[-2], shape[-1]
        positions = ops.cast(ops.arange(sequence_length) + start_index, "float32")
        # Both members of a feature pair share the frequency of the even index 2i.
        pair_index = ops.cast(ops.arange(hidden_dim) // 2 * 2, "float32")
        inverse_frequency = ops.power(
            ops.cast(self.max_wavelength, "float32"), -pair_index / ops.cast(hidden_dim, "float32")
        )
        angles = positions[:, None] * inverse_frequency[None, :]
        is_even = ops.arange(hidden_dim) % 2 == 0
        encoding = ops.where(is_even[None, :], ops.sin(angles), ops.cos(angles))
        return ops.broadcast_to(ops.cast(encoding, self.compute_dtype), shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "max_wavelength": self.max_wavelength}
