"""Simple RNN cell with layer normalization (TensorFlow Addons' cell)."""

from __future__ import annotations

import keras
from keras import ops

from layers.serialization import serialize
from layers.validation import check_bool, check_positive_float, check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="keras_zoo")
class LayerNormSimpleRNNCell(keras.layers.SimpleRNNCell):
    """Simple RNN cell that scales its pre-activation with layer normalization.

    One step computes `y_t = act(LN(x_t W + y_{t-1} W_r) + b)`, where `LN` normalizes over the
    units and multiplies by a learned gain (no shift of its own: the bias, added after the
    normalization, plays that part). Dropout masks the inputs and recurrent dropout the previous
    output, one mask per sequence. This is `tfa.rnn.LayerNormSimpleRNNCell`: the same arguments
    and defaults, and its weight list (`kernel`, `recurrent_kernel`, `bias`, `gamma`) loads
    through `set_weights`.

    Args:
        units: positive integer, dimensionality of the output and the state.
        activation: activation function. Defaults to `"tanh"`.
        use_bias: whether to add a bias after the normalization. Defaults to `True`.
        layernorm_epsilon: positive float added to the variance. Defaults to `1e-5`.
        kernel_initializer: initializer of the input kernel. Defaults to `"glorot_uniform"`.
        recurrent_initializer: initializer of the recurrent kernel. Defaults to `"orthogonal"`.
        bias_initializer: initializer of the bias. Defaults to `"zeros"`.
        gamma_initializer: initializer of the normalization's gain. Defaults to `"ones"`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer, gamma_regularizer:
            optional regularizers. Default to `None`.
        kernel_constraint, recurrent_constraint, bias_constraint, gamma_constraint: optional
            constraints. Default to `None`.
        dropout: fraction of the inputs to drop, in `[0, 1)`. Defaults to `0.0`.
        recurrent_dropout: fraction of the previous output to drop, in `[0, 1)`.
            Defaults to `0.0`.
        seed: optional integer seed of the dropout masks (Keras 3's cells take one).
            Defaults to `None`.
        **kwargs: base `Layer` arguments.

    Example:

    ```python
    rnn = keras.layers.RNN(LayerNormSimpleRNNCell(4), return_sequences=True, return_state=True)
    outputs, state = rnn(np.random.rand(32, 10, 8).astype("float32"))  # (32, 10, 4), (32, 4)
    ```

    Reference:
        Ba, Kiros, Hinton, "Layer Normalization", arXiv:1607.06450, 2016.
    """

    def __init__(
        self,
        units: int,
        activation="tanh",
        use_bias: bool = True,
        layernorm_epsilon: float = 1e-5,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        gamma_initializer="ones",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        gamma_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        gamma_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        check_positive_int("units", units)
        super().__init__(
            units,
            activation=activation,
            use_bias=check_bool("use_bias", use_bias),
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=check_rate("dropout", dropout),
            recurrent_dropout=check_rate("recurrent_dropout", recurrent_dropout),
            seed=seed,
            **kwargs,
        )
        self.layernorm_epsilon = check_positive_float("layernorm_epsilon", layernorm_epsilon)
        self._gamma_config = {
            "gamma_initializer": serialize(gamma_initializer),
            "gamma_regularizer": serialize(gamma_regularizer),
            "gamma_constraint": serialize(gamma_constraint),
        }
        self.layernorm = keras.layers.LayerNormalization(
            epsilon=self.layernorm_epsilon,
            center=False,
            gamma_initializer=gamma_initializer,
            gamma_regularizer=gamma_regularizer,
            gamma_constraint=gamma_constraint,
            dtype=self.dtype_policy,
            name="layernorm",
        )

    def build(self, input_shape):
        super().build(input_shape)
        self.layernorm.build((None, self.units))

    def call(self, sequence, states, training=False):
        previous_output = states[0] if isinstance(states, list | tuple) else states
        if training and 0.0 < self.dropout < 1.0:
            sequence = sequence * self.get_dropout_mask(sequence)
        if training and 0.0 < self.recurrent_dropout < 1.0:
            previous_output = previous_output * self.get_recurrent_dropout_mask(previous_output)
        net = ops.matmul(sequence, self.kernel) + ops.matmul(previous_output, self.recurrent_kernel)
        output = self.layernorm(net)
        if self.bias is not None:
            output = output + self.bias
        if self.activation is not None:
            output = self.activation(output)
        new_state = [output] if isinstance(states, list | tuple) else output
        return output, new_state

    def get_config(self):
        return {
            **super().get_config(),
            "layernorm_epsilon": self.layernorm_epsilon,
            **self._gamma_config,
        }
