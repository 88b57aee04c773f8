"""Echo state network: a fixed random reservoir cell and its RNN layer (TensorFlow Addons')."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from layers.serialization import serialize
from layers.validation import check_bool, check_positive_int, check_unit_interval


@keras.saving.register_keras_serializable(package="keras_zoo")
class ESNCell(keras.layers.Layer):
    """Echo state network cell: a sparse random reservoir that is never trained.

    One step computes `h_t = (1 - leaky) * h_{t-1} + leaky * act(x_t W + h_{t-1} W_r + b)`. At
    build, `W_r` is drawn from `recurrent_initializer`, each entry is kept with probability
    `connectivity` (the others are zeroed), and the matrix is rescaled so that its spectral
    radius (largest eigenvalue modulus) is `spectral_radius`, or, with `use_norm2`, so that its
    Frobenius norm (an upper bound of the spectral radius, cheaper than eigenvalues) is.
    A spectral radius below one gives the echo state property: the state forgets its start.
    Every weight is non-trainable; only a readout on top of the states learns. This is
    `tfa.rnn.ESNCell`: the same arguments and defaults, and its weight list
    (`recurrent_kernel`, `kernel`, then `bias` where used) loads through `set_weights`. The
    reservoir is drawn with TensorFlow's `tf.init_scope` (eagerly, even when the cell is built
    inside a compiled function).

    Args:
        units: positive integer, the reservoir's size.
        connectivity: probability that two reservoir units are connected, in `(0, 1]`.
            Defaults to `0.1`.
        leaky: leaking rate in `(0, 1]`; `1` means no leaky integration. Defaults to `1`.
        spectral_radius: the reservoir's spectral radius after scaling, in `(0, 1]`.
            Defaults to `0.9`.
        use_norm2: scale by the Frobenius norm instead of the largest eigenvalue modulus.
            Defaults to `False`.
        use_bias: whether to add a bias. Defaults to `True`.
        activation: activation function. Defaults to `"tanh"`.
        kernel_initializer: initializer of the input kernel. Defaults to `"glorot_uniform"`.
        recurrent_initializer: initializer of the reservoir before masking and scaling.
            Defaults to `"glorot_uniform"`.
        bias_initializer: initializer of the bias. Defaults to `"zeros"`.
        **kwargs: base `Layer` arguments.

    Example:

    ```python
    rnn = keras.layers.RNN(ESNCell(4), return_sequences=True, return_state=True)
    outputs, state = rnn(np.random.rand(30, 23, 9).astype("float32"))  # (30, 23, 4), (30, 4)
    ```

    Reference:
        Jaeger, "The 'echo state' approach to analysing and training recurrent neural
        networks", GMD Report 148, German National Research Center for Information
        Technology, 2001.
    """

    def __init__(
        self,
        units: int,
        connectivity: float = 0.1,
        leaky: float = 1,
        spectral_radius: float = 0.9,
        use_norm2: bool = False,
        use_bias: bool = True,
        activation="tanh",
        kernel_initializer="glorot_uniform",
        recurrent_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.connectivity = _open_closed_unit("connectivity", connectivity)
        self.leaky = _open_closed_unit("leaky", leaky)
        self.spectral_radius = _open_closed_unit("spectral_radius", spectral_radius)
        self.use_norm2 = check_bool("use_norm2", use_norm2)
        self.use_bias = check_bool("use_bias", use_bias)
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self._config_args = {
            "activation": serialize(activation),
            "kernel_initializer": serialize(kernel_initializer),
            "recurrent_initializer": serialize(recurrent_initializer),
            "bias_initializer": serialize(bias_initializer),
        }
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units, self.units),
            initializer=self._reservoir_initializer,
            trainable=False,
        )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[-1], self.units),
            initializer=self.kernel_initializer,
            trainable=False,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.units,), initializer=self.bias_initializer, trainable=False
            )

    def _reservoir_initializer(self, shape, dtype=None):
        """A sparse random matrix scaled to the requested spectral radius (or norm).

        Drawn eagerly (`tf.init_scope`): eigenvalues do not compile with XLA, and an ESN built
        by its first call inside a compiled function still gets its reservoir.
        """
        with tf.init_scope():
            return self._draw_reservoir(shape, dtype)

    def _draw_reservoir(self, shape, dtype):
        weights = self.recurrent_initializer(shape, dtype=dtype)
        kept = keras.random.uniform(shape, dtype=dtype) <= self.connectivity
        weights = ops.where(kept, weights, ops.zeros_like(weights))
        if self.use_norm2:
            radius = ops.sqrt(ops.sum(ops.square(weights)))
        else:
            radius = ops.max(ops.abs(ops.eig(weights)[0]))
        radius = ops.cast(radius, weights.dtype)
        # An empty reservoir stays empty (0 / 0 -> 0).
        scale = ops.where(radius > 0, self.spectral_radius / ops.maximum(radius, 1e-30), 0.0)
        return weights * ops.cast(scale, weights.dtype)

    def call(self, inputs, states):
        previous = states[0] if isinstance(states, list | tuple) else states
        pre_activation = ops.matmul(inputs, self.kernel) + ops.matmul(
            previous, self.recurrent_kernel
        )
        if self.bias is not None:
            pre_activation = pre_activation + self.bias
        output = (1 - self.leaky) * previous + self.leaky * self.activation(pre_activation)
        new_state = [output] if isinstance(states, list | tuple) else output
        return output, new_state

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype)]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "connectivity": self.connectivity,
            "leaky": self.leaky,
            "spectral_radius": self.spectral_radius,
            "use_norm2": self.use_norm2,
            "use_bias": self.use_bias,
            **self._config_args,
        }


def _open_closed_unit(name: str, value) -> float:
    return check_unit_interval(name, value, include_low=False, include_high=True)


@keras.saving.register_keras_serializable(package="keras_zoo")
class ESN(keras.layers.RNN):
    """Echo state network layer: `keras.layers.RNN` over an `ESNCell`.

    The reservoir and the input kernel are fixed at build; train a readout (e.g. a `Dense`
    layer) on the returned states. `return_state`, `stateful` and `zero_output_for_mask` are
    accepted as keyword arguments, as in `keras.layers.RNN`. This is `tfa.layers.ESN`: the same
    arguments and defaults, and the cell's weight list loads through `set_weights`.

    Args:
        units: positive integer, the reservoir's size.
        connectivity: probability that two reservoir units are connected, in `(0, 1]`.
            Defaults to `0.1`.
        leaky: leaking rate in `(0, 1]`. Defaults to `1`.
        spectral_radius: the reservoir's spectral radius after scaling, in `(0, 1]`.
            Defaults to `0.9`.
        use_norm2: scale by the Frobenius norm instead of the largest eigenvalue modulus.
            Defaults to `False`.
        use_bias: whether to add a bias. Defaults to `True`.
        activation: activation function. Defaults to `"tanh"`.
        kernel_initializer: initializer of the input kernel. Defaults to `"glorot_uniform"`.
        recurrent_initializer: initializer of the reservoir before masking and scaling.
            Defaults to `"glorot_uniform"`.
        bias_initializer: initializer of the bias. Defaults to `"zeros"`.
        return_sequences: return every step's output, not only the last. Defaults to `False`.
        go_backwards: process the sequence in reverse. Defaults to `False`.
        unroll: unroll the time loop (short sequences only). Defaults to `False`.
        **kwargs: other `keras.layers.RNN` arguments (`return_state`, `stateful`, `name`,
            `dtype`, ...).

    Example:

    ```python
    inputs = keras.Input((100, 3))
    states = ESN(200, connectivity=0.1, spectral_radius=0.9, return_sequences=True)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(states))  # only the readout trains
    ```

    Reference:
        Jaeger, "The 'echo state' approach to analysing and training recurrent neural
        networks", GMD Report 148, German National Research Center for Information
        Technology, 2001.
    """

    def __init__(
        self,
        units: int,
        connectivity: float = 0.1,
        leaky: float = 1,
        spectral_radius: float = 0.9,
        use_norm2: bool = False,
        use_bias: bool = True,
        activation="tanh",
        kernel_initializer="glorot_uniform",
        recurrent_initializer="glorot_uniform",
        bias_initializer="zeros",
        return_sequences: bool = False,
        go_backwards: bool = False,
        unroll: bool = False,
        **kwargs,
    ):
        cell = ESNCell(
            units,
            connectivity=connectivity,
            leaky=leaky,
            spectral_radius=spectral_radius,
            use_norm2=use_norm2,
            use_bias=use_bias,
            activation=activation,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            dtype=kwargs.get("dtype"),
            name="esn_cell",
        )
        super().__init__(
            cell,
            return_sequences=check_bool("return_sequences", return_sequences),
            go_backwards=check_bool("go_backwards", go_backwards),
            unroll=check_bool("unroll", unroll),
            **kwargs,
        )

    def call(self, sequences, initial_state=None, mask=None, training=False):
        return super().call(sequences, mask=mask, training=training, initial_state=initial_state)

    def get_config(self):
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        base_config = super().get_config()
        del base_config["cell"]
        return {**base_config, **cell_config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
