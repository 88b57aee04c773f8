"""Rotary position embeddings (RoPE, Su et al. 2021)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_zoo")
class RotaryEmbedding(keras.layers.Layer):
    """Rotates query or key features by angles proportional to their position (RoPE).

    The feature axis (the last one, of even size `d`) is split into `d / 2` pairs; pair `i` of
    the token at position `m` is rotated by the angle `m * theta_i` with
    `theta_i = max_wavelength ** (-2i / d)`. The dot product of a rotated query at position `m`
    and a rotated key at position `n` then depends on `m - n` only.

    Two conventions pair the features differently; both are the same rotation up to a fixed
    permutation of the features, so what matters is using the one a checkpoint was trained with:

    - `interleaved=False` (default; GPT-NeoX, LLaMA, keras-hub): pair `i` is
      `(x[i], x[i + d/2])`, the "rotate half" form.
    - `interleaved=True` (the paper's equation 34; GPT-J, RoFormer): pair `i` is
      `(x[2i], x[2i + 1])`.

    Args:
        max_wavelength: base of the geometric progression of wavelengths. Defaults to `10000`.
        scaling_factor: positions are divided by this factor (linear position interpolation
            for longer contexts). Defaults to `1.0`.
        interleaved: the pairing convention described above. Defaults to `False`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        inputs: queries or keys shaped `(batch, sequence, ..., d)`, e.g.
            `(batch, sequence, num_heads, head_dim)`; positions run along axis 1.
        start_index: position of the first token, for decoding with a cache. Defaults to `0`.

    Example:

    ```python
    rope = RotaryEmbedding()
    query = rope(query)  # (batch, sequence, num_heads, head_dim)
    key = rope(key)
    ```

    Reference:
        Su et al., "RoFormer: Enhanced Transformer with Rotary Position Embedding", 2021,
        arXiv:2104.09864, section 3.4.
    """

    def __init__(
        self,
        max_wavelength: float = 10000,
        scaling_factor: float = 1.0,
        interleaved: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value, low in (
            ("max_wavelength", max_wavelength, 1),
            ("scaling_factor", scaling_factor, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= low:
                raise ValueError(
                    f"`{name}` must be a number greater than {low}. Received: {name}={value!r}"
                )
        if not isinstance(interleaved, bool):
            raise TypeError(f"`interleaved` must be a bool. Received: interleaved={interleaved!r}")
        self.max_wavelength = max_wavelength
        self.scaling_factor = scaling_factor
        self.interleaved = interleaved

    def build(self, input_shape):
        if len(input_shape) < 3 or input_shape[-1] is None or input_shape[-1] % 2:
            raise ValueError(
                "RotaryEmbedding expects inputs shaped (batch, sequence, ..., features) with an "
                f"even, known feature size. Received: input_shape={input_shape}"
            )

    def call(self, inputs, start_index=0):
        rank = len(inputs.shape)
        shape = ops.shape(inputs)
        sequence_length, dim = shape[1], inputs.shape[-1]
        positions = ops.cast(ops.arange(sequence_length) + start_index, "float32")
        positions = positions / self.scaling_factor
        exponents = ops.cast(ops.arange(dim // 2), "float32") * (-2.0 / dim)
        theta = ops.power(float(self.max_wavelength), exponents)
        angles = positions[:, None] * theta[None, :]  # (sequence, d / 2)
        # Positions on axis 1, features last, every other axis broadcast.
        angle_shape = (1, -1) + (1,) * (rank - 3) + (dim // 2,)
        cos = ops.reshape(ops.cos(angles), angle_shape)
        sin = ops.reshape(ops.sin(angles), angle_shape)

        x = ops.cast(inputs, "float32")
        if self.interleaved:
            pairs = ops.reshape(x, (*shape[:-1], dim // 2, 2))
            first, second = pairs[..., 0], pairs[..., 1]
            rotated = ops.stack([first * cos - second * sin, first * sin + second * cos], axis=-1)
            rotated = ops.reshape(rotated, shape)
        else:
            first, second = x[..., : dim // 2], x[..., dim // 2 :]
            rotated = ops.concatenate(
                [first * cos - second * sin, first * sin + second * cos], axis=-1
            )
        return ops.cast(rotated, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "max_wavelength": self.max_wavelength,
            "scaling_factor": self.scaling_factor,
            "interleaved": self.interleaved,
        }
