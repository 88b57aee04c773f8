"""Independently recurrent neural network cell and layer (Li et al. 2018)."""

from __future__ import annotations

import keras
from keras import ops

from layers.serialization import serialize
from layers.validation import check_bool, check_positive_float, check_positive_int


@keras.saving.register_keras_serializable(package="keras_zoo")
class AbsoluteValueClip(keras.constraints.Constraint):
    """Clips every weight into `[-max_value, max_value]`.

    IndRNN bounds each recurrent weight `|u| <= max_value` so that `u ** T` neither explodes nor
    vanishes over `T` steps; keras applies the constraint after each optimizer update.

    Args:
        max_value: positive float, the largest allowed absolute value.

    Example:

    ```python
    weight = layer.add_weight(shape=(8,), constraint=AbsoluteValueClip(1.0))
    ```
    """

    def __init__(self, max_value: float):
        self.max_value = check_positive_float("max_value", max_value)

    def __call__(self, w):
        return ops.clip(w, -self.max_value, self.max_value)

    def get_config(self):
        return {"max_value": self.max_value}


@keras.saving.register_keras_serializable(package="keras_zoo")
class IndRNNCell(keras.layers.Layer):
    """Cell of an independently recurrent network: `h_t = act(W x_t + u * h_{t-1} + b)`.

    Each unit sees only its own previous state, through one scalar weight `u_i` (an elementwise
    product instead of a recurrent matrix). With `recurrent_max` the recurrent weights are kept
    in `[-recurrent_max, recurrent_max]`; the paper uses `2 ** (1 / T)` for ReLU on sequences of
    length `T` to stop gradients exploding. Use it with `keras.layers.RNN` or as `IndRNN`.

    Args:
        units: positive integer, dimensionality of the state and output.
        activation: activation function. Defaults to `"relu"`.
        use_bias: whether to add a bias. Defaults to `True`.
        recurrent_max: optional positive bound on `|u|`. Defaults to `None` (no bound).
        kernel_initializer: initializer of `W`. Defaults to `"glorot_uniform"`.
        recurrent_initializer: initializer of `u`; `None` draws uniformly from
            `[0, min(1, recurrent_max)]` as in the paper. Defaults to `None`.
        bias_initializer: initializer of `b`. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of `W`. Defaults to `None`.
        recurrent_regularizer: optional regularizer of `u`. Defaults to `None`.
        bias_regularizer: optional regularizer of `b`. Defaults to `None`.
        **kwargs: base `Layer` arguments.

    Example:

    ```python
    layer = keras.layers.RNN(IndRNNCell(32, recurrent_max=2 ** (1 / 100)))
    y = layer(np.random.rand(4, 100, 8).astype("float32"))  # (4, 32)
    ```

    Reference:
        Li, Li, Cook, Zhu, Gao, "Independently Recurrent Neural Network (IndRNN): Building a
        Longer and Deeper RNN", CVPR 2018.
    """

    def __init__(
        self,
        units: int,
        activation="relu",
        use_bias: bool = True,
        recurrent_max: float | None = None,
        kernel_initializer="glorot_uniform",
        recurrent_initializer=None,
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.activation = keras.activations.get(activation)
        self.use_bias = check_bool("use_bias", use_bias)
        self.recurrent_max = check_positive_float("recurrent_max", recurrent_max, allow_none=True)
        if recurrent_initializer is None:
            high = 1.0 if recurrent_max is None else min(1.0, self.recurrent_max)
            self.recurrent_initializer = keras.initializers.RandomUniform(0.0, high)
        else:
            self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self._config_args = {
            "activation": serialize(activation),
            "kernel_initializer": serialize(kernel_initializer),
            "recurrent_initializer": serialize(recurrent_initializer),
            "bias_initializer": serialize(bias_initializer),
            "kernel_regularizer": serialize(kernel_regularizer),
            "recurrent_regularizer": serialize(recurrent_regularizer),
            "bias_regularizer": serialize(bias_regularizer),
        }
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[-1], self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units,),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=None
            if self.recurrent_max is None
            else AbsoluteValueClip(self.recurrent_max),
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )

    def call(self, inputs, states, training=False):
        previous = states[0] if isinstance(states, list | tuple) else states
        pre_activation = ops.matmul(inputs, self.kernel) + self.recurrent_kernel * previous
        if self.bias is not None:
            pre_activation = pre_activation + self.bias
        output = self.activation(pre_activation)
        new_state = [output] if isinstance(states, list | tuple) else output
        return output, new_state

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype)]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "use_bias": self.use_bias,
            "recurrent_max": self.recurrent_max,
            **self._config_args,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class IndRNN(keras.layers.RNN):
    """Independently recurrent layer: `keras.layers.RNN` over an `IndRNNCell`.

    Masking, `return_sequences`, `return_state`, `go_backwards`, `stateful` and `unroll` behave
    as in keras's `SimpleRNN`. Stacks of IndRNN layers (the paper uses 6 or more, with batch
    normalization between them) train on sequences of thousands of steps.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: activation function. Defaults to `"relu"`.
        use_bias: whether to add a bias. Defaults to `True`.
        recurrent_max: optional positive bound on `|u|`. Defaults to `None` (no bound).
        kernel_initializer: initializer of `W`. Defaults to `"glorot_uniform"`.
        recurrent_initializer: initializer of `u`; `None` draws uniformly from
            `[0, min(1, recurrent_max)]`. Defaults to `None`.
        bias_initializer: initializer of `b`. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of `W`. Defaults to `None`.
        recurrent_regularizer: optional regularizer of `u`. Defaults to `None`.
        bias_regularizer: optional regularizer of `b`. Defaults to `None`.
        return_sequences: return the full sequence or only the last output. Defaults to `False`.
        return_state: also return the last state. Defaults to `False`.
        go_backwards: process the sequence in reverse. Defaults to `False`.
        stateful: carry the last state of each batch into the next batch. Defaults to `False`.
        unroll: unroll the time loop (short sequences only). Defaults to `False`.
        **kwargs: base `RNN` arguments (`name`, `dtype`, `zero_output_for_mask`, ...).

    Example:

    ```python
    x = np.random.rand(4, 100, 8).astype("float32")
    y = IndRNN(32, recurrent_max=2 ** (1 / 100), return_sequences=True)(x)  # (4, 100, 32)
    ```

    Reference:
        Li, Li, Cook, Zhu, Gao, "Independently Recurrent Neural Network (IndRNN): Building a
        Longer and Deeper RNN", CVPR 2018.
    """

    def __init__(
        self,
        units: int,
        activation="relu",
        use_bias: bool = True,
        recurrent_max: float | None = None,
        kernel_initializer="glorot_uniform",
        recurrent_initializer=None,
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        **kwargs,
    ):
        cell = IndRNNCell(
            units,
            activation=activation,
            use_bias=use_bias,
            recurrent_max=recurrent_max,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="indrnn_cell",
        )
        super().__init__(
            cell,
            return_sequences=check_bool("return_sequences", return_sequences),
            return_state=check_bool("return_state", return_state),
            go_backwards=check_bool("go_backwards", go_backwards),
            stateful=check_bool("stateful", stateful),
            unroll=check_bool("unroll", unroll),
            **kwargs,
        )
        self.input_spec = [keras.layers.InputSpec(ndim=3)]

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
