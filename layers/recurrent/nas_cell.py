"""The recurrent cell found by Neural Architecture Search (TensorFlow Addons' cell)."""

from __future__ import annotations

import keras
from keras import ops

from layers.serialization import serialize
from layers.validation import check_bool, check_positive_int

NAS_BRANCHES = 8


@keras.saving.register_keras_serializable(package="keras_zoo")
class NASCell(keras.layers.Layer):
    """Zoph and Le's NAS recurrent cell, with an optional output projection.

    The input and the previous output each go through one matrix of `8 * units` columns, split
    into eight branches; the cell combines the branches with the fixed tree of sums, products,
    sigmoids, tanhs and ReLUs that the architecture search found, injects the previous cell
    state `c` into it, and returns a new cell state and output `m`. With `projection`, `m` is
    projected to `projection` features. The states are `[c, m]` (sizes `[units, projection or
    units]`), the output is `m`. This is `tfa.rnn.NASCell`: the same arguments and defaults, and
    its weight list (`recurrent_kernel`, `kernel`, then `bias` and `projection_weights` where
    used) loads through `set_weights`. Use it with `keras.layers.RNN`.

    Args:
        units: positive integer, the cell state's size.
        projection: optional positive integer, the size of the projected output.
            Defaults to `None` (no projection).
        use_bias: whether to add a bias to the recurrent branches. Defaults to `False`.
        kernel_initializer: initializer of the input kernel. Defaults to `"glorot_uniform"`.
        recurrent_initializer: initializer of the recurrent kernel.
            Defaults to `"glorot_uniform"`.
        projection_initializer: initializer of the projection. Defaults to `"glorot_uniform"`.
        bias_initializer: initializer of the bias. Defaults to `"zeros"`.
        **kwargs: base `Layer` arguments.

    Example:

    ```python
    rnn = keras.layers.RNN(NASCell(4), return_sequences=True, return_state=True)
    outputs, c, m = rnn(np.random.rand(30, 23, 9).astype("float32"))  # (30, 23, 4), (30, 4) x2
    ```

    Reference:
        Zoph, Le, "Neural Architecture Search with Reinforcement Learning", ICLR 2017.
    """

    def __init__(
        self,
        units: int,
        projection: int | None = None,
        use_bias: bool = False,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="glorot_uniform",
        projection_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.projection = check_positive_int("projection", projection, allow_none=True)
        self.use_bias = check_bool("use_bias", use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.projection_initializer = keras.initializers.get(projection_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self._config_args = {
            "kernel_initializer": serialize(kernel_initializer),
            "recurrent_initializer": serialize(recurrent_initializer),
            "projection_initializer": serialize(projection_initializer),
            "bias_initializer": serialize(bias_initializer),
        }
        self.output_size = self.units if projection is None else self.projection
        self.state_size = [self.units, self.output_size]

    def build(self, input_shape):
        width = NAS_BRANCHES * self.units
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.output_size, width),
            initializer=self.recurrent_initializer,
        )
        self.kernel = self.add_weight(
            name="kernel", shape=(input_shape[-1], width), initializer=self.kernel_initializer
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(width,), initializer=self.bias_initializer
            )
        self.projection_weights = None
        if self.projection is not None:
            self.projection_weights = self.add_weight(
                name="projection_weights",
                shape=(self.units, self.projection),
                initializer=self.projection_initializer,
            )

    def call(self, inputs, states):
        previous_cell, previous_output = states[0], states[1]
        recurrent = ops.matmul(previous_output, self.recurrent_kernel)
        if self.bias is not None:
            recurrent = recurrent + self.bias
        m = ops.split(recurrent, NAS_BRANCHES, axis=-1)
        x = ops.split(ops.matmul(inputs, self.kernel), NAS_BRANCHES, axis=-1)

        # The searched tree: eight first-layer branches, four second-layer combinations.
        first = [
            ops.sigmoid(x[0] + m[0]),
            ops.relu(x[1] + m[1]),
            ops.sigmoid(x[2] + m[2]),
            ops.relu(x[3] * m[3]),
            ops.tanh(x[4] + m[4]),
            ops.sigmoid(x[5] + m[5]),
            ops.tanh(x[6] + m[6]),
            ops.sigmoid(x[7] + m[7]),
        ]
        with_cell = ops.tanh(ops.tanh(first[0] * first[1]) + previous_cell)
        second_1 = ops.tanh(first[2] + first[3])
        second_2 = ops.tanh(first[4] * first[5])
        second_3 = ops.sigmoid(first[6] + first[7])

        new_cell = with_cell * second_1
        output = ops.tanh(new_cell * ops.tanh(second_2 + second_3))
        if self.projection_weights is not None:
            output = ops.matmul(output, self.projection_weights)
        return output, [new_cell, output]

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in self.state_size]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "projection": self.projection,
            "use_bias": self.use_bias,
            **self._config_args,
        }
