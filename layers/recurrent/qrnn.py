"""Quasi-recurrent neural network layer (Bradbury et al. 2017)."""

from __future__ import annotations

import keras
from keras import ops

from layers.serialization import serialize
from layers.validation import check_bool, check_positive_int, check_rate


def linear_recurrence(decay, increment, initial=None):
    """Solves `h_t = decay_t * h_{t-1} + increment_t` along axis 1 with a parallel scan.

    A Hillis-Steele scan: after the round with offset `d`, each step holds the composition of the
    `2d` steps ending at it, so `ceil(log2(time))` vectorised rounds replace `time` serial steps.

    Args:
        decay: tensor `(batch, time, features)`.
        increment: tensor of the same shape.
        initial: optional `h_0` of shape `(batch, features)`; zeros when `None`.

    Returns:
        `h` of shape `(batch, time, features)`.
    """
    if initial is not None:
        # Folding h_0 into the first increment keeps the scan itself state-free.
        first = increment[:, :1] + decay[:, :1] * ops.expand_dims(initial, 1)
        increment = ops.concatenate([first, increment[:, 1:]], axis=1)
    steps = ops.shape(decay)[1]

    def scan_round(offset, decay, increment):
        # Steps before `offset` have nothing earlier to combine with: identity (1, 0).
        valid = ops.reshape(ops.arange(steps), (1, -1, 1)) >= offset
        earlier_decay = ops.where(valid, ops.roll(decay, offset, axis=1), 1.0)
        earlier_increment = ops.where(valid, ops.roll(increment, offset, axis=1), 0.0)
        return offset * 2, decay * earlier_decay, decay * earlier_increment + increment

    if isinstance(steps, int):
        # Static length (the usual case, and always under XLA): unroll the log2(time) rounds,
        # shifting by padding with the identity instead of rolling and masking.
        offset = 1
        while offset < steps:
            pad = [[0, 0], [offset, 0], [0, 0]]
            earlier_decay = ops.pad(decay[:, :-offset], pad, constant_values=1.0)
            earlier_increment = ops.pad(increment[:, :-offset], pad)
            increment = decay * earlier_increment + increment
            decay = decay * earlier_decay
            offset *= 2
        return increment
    _, _, increment = ops.while_loop(
        lambda offset, *_: offset < steps, scan_round, (ops.convert_to_tensor(1), decay, increment)
    )
    return increment


@keras.saving.register_keras_serializable(package="keras_zoo")
class QRNN(keras.layers.Layer):
    """Quasi-recurrent layer: a causal convolution for the gates, then fo-pooling.

    A convolution over the last `window_size` time steps gives, for every step at once, the
    candidate `z_t = tanh(.)`, the forget gate `f_t = sigmoid(.)` and the output gate
    `o_t = sigmoid(.)`. The only recurrence is elementwise, `c_t = f_t * c_{t-1} + (1 - f_t) * z_t`,
    and is computed with a parallel associative scan (no per-step loop), which makes the layer
    much faster than an LSTM of the same width. The output is `h_t = o_t * c_t`.

    Masked steps carry the state through: their input is treated as zeros, `c` and `h` keep their
    previous values, and (as in keras RNNs) their output repeats the last unmasked output.

    Args:
        units: positive integer, dimensionality of the output space.
        window_size: positive integer, how many time steps (the current one and the ones before)
            the gate convolution sees. Defaults to `2`.
        zoneout: float in [0, 1), the probability during training of forcing `f_t = 1` per unit
            and step (keeping the previous cell value), the paper's regularizer. Defaults to `0.0`.
        return_sequences: whether to return the full sequence or only the last output.
            Defaults to `False`.
        return_state: whether to also return the last cell state `c_T`. Defaults to `False`.
        go_backwards: process the sequence in reverse and return the reversed sequence, as keras
            RNNs do. Defaults to `False`.
        kernel_initializer: initializer of the convolution kernel. Defaults to `"glorot_uniform"`.
        bias_initializer: initializer of the gate bias. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernel. Defaults to `None`.
        bias_regularizer: optional regularizer of the bias. Defaults to `None`.
        seed: optional integer seed for zoneout. Defaults to `None`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `(batch, time, features)`.
        mask: optional boolean `(batch, time)`.
        initial_state: optional `c_0` of shape `(batch, units)`.
        training: whether zoneout is active.

    Example:

    ```python
    x = np.random.rand(8, 20, 16).astype("float32")
    y = QRNN(32, window_size=2, return_sequences=True)(x)  # (8, 20, 32)
    ```

    Reference:
        Bradbury, Merity, Xiong, Socher, "Quasi-Recurrent Neural Networks", ICLR 2017.
    """

    def __init__(
        self,
        units: int,
        window_size: int = 2,
        zoneout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.window_size = check_positive_int("window_size", window_size)
        self.zoneout = check_rate("zoneout", zoneout)
        self.return_sequences = check_bool("return_sequences", return_sequences)
        self.return_state = check_bool("return_state", return_state)
        self.go_backwards = check_bool("go_backwards", go_backwards)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self._config_args = {
            "kernel_initializer": serialize(kernel_initializer),
            "bias_initializer": serialize(bias_initializer),
            "kernel_regularizer": serialize(kernel_regularizer),
            "bias_regularizer": serialize(bias_regularizer),
        }
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed) if zoneout else None
        self.supports_masking = True
        self.input_spec = keras.layers.InputSpec(ndim=3)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                "The last axis of the QRNN input must be known. "
                f"Received: input_shape={input_shape}"
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.window_size, input_dim, 3 * self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = self.add_weight(
            name="bias",
            shape=(3 * self.units,),
            initializer=self.bias_initializer,
            regularizer=self.bias_regularizer,
        )

    def call(self, inputs, mask=None, initial_state=None, training=False):
        x = inputs
        if self.go_backwards:
            x = ops.flip(x, axis=1)
            mask = None if mask is None else ops.flip(mask, axis=1)
        step_mask = None
        if mask is not None:
            step_mask = ops.expand_dims(ops.cast(mask, self.compute_dtype), -1)
            x = x * step_mask

        # The causal convolution as one matmul over the stacked window (step t sees steps
        # t - window_size + 1 .. t): much faster to differentiate on CPU than a conv op.
        steps = ops.shape(x)[1]
        padded = ops.pad(x, [[0, 0], [self.window_size - 1, 0], [0, 0]])
        windows = ops.concatenate(
            [padded[:, j : j + steps] for j in range(self.window_size)], axis=-1
        )
        kernel = ops.reshape(ops.cast(self.kernel, x.dtype), (-1, 3 * self.units))
        gates = ops.matmul(windows, kernel) + ops.cast(self.bias, x.dtype)
        # The scan runs in float32: products of many forget gates underflow in float16.
        gates = ops.cast(gates, "float32")
        z, f, o = ops.split(gates, 3, axis=-1)
        z, f, o = ops.tanh(z), ops.sigmoid(f), ops.sigmoid(o)

        if training and self.zoneout:
            noise = keras.random.uniform(ops.shape(f), seed=self.seed_generator)
            f = ops.where(noise < self.zoneout, ops.ones_like(f), f)
        if step_mask is not None:
            keep = ops.cast(step_mask, "float32")
            f = keep * f + (1.0 - keep)

        c0 = None if initial_state is None else ops.cast(initial_state, "float32")
        c = linear_recurrence(f, (1.0 - f) * z, c0)
        h = o * c
        if step_mask is not None:
            h = linear_recurrence(1.0 - keep, keep * h)

        h = ops.cast(h, self.compute_dtype)
        outputs = h if self.return_sequences else h[:, -1]
        if self.return_state:
            return [outputs, ops.cast(c[:, -1], self.compute_dtype)]
        return outputs

    def compute_output_shape(self, input_shape):
        batch, time = input_shape[0], input_shape[1]
        output = (batch, time, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [output, (batch, self.units)]
        return output

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask, None]
        return output_mask

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "window_size": self.window_size,
            "zoneout": self.zoneout,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "seed": self.seed,
            **self._config_args,
        }
