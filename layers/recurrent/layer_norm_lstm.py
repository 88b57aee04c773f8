"""LSTM cell with layer normalization and recurrent dropout (TensorFlow Addons' cell)."""

from __future__ import annotations

import keras
from keras import ops

from layers.serialization import serialize
from layers.validation import check_bool, check_positive_float, check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="keras_zoo")
class LayerNormLSTMCell(keras.layers.LSTMCell):
    """LSTM cell that layer-normalizes its input, recurrent and cell-state projections.

    One step computes `z = LN_k(x W) + LN_r(h W_r) + b`, splits `z` into the input, forget,
    candidate and output gates as `keras.layers.LSTMCell` does, and normalizes the new cell
    state before the output: `c = LN_c(f * c_prev + i * act(z_c))`, `h = o * act(c)`. Each
    normalization has its own gain and shift. Dropout masks the inputs and recurrent dropout the
    previous output (one mask per sequence, as Semeniuta et al. propose). This is
    `tfa.rnn.LayerNormLSTMCell`: the same arguments and defaults, and its weight list
    (`kernel`, `recurrent_kernel`, `bias`, then gamma and beta of `kernel_norm`,
    `recurrent_norm` and `state_norm`) loads through `set_weights`.

    Args:
        units: positive integer, dimensionality of the output and of both states.
        activation: activation of the candidate and of the output. Defaults to `"tanh"`.
        recurrent_activation: activation of the gates. Defaults to `"sigmoid"`.
        use_bias: whether to add a bias. Defaults to `True`.
        kernel_initializer: initializer of the input kernel. Defaults to `"glorot_uniform"`.
        recurrent_initializer: initializer of the recurrent kernel. Defaults to `"orthogonal"`.
        bias_initializer: initializer of the bias. Defaults to `"zeros"`.
        unit_forget_bias: add 1 to the forget gate's bias at initialization. Defaults to `True`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional regularizers.
            Default to `None`.
        kernel_constraint, recurrent_constraint, bias_constraint: optional constraints.
            Default to `None`.
        dropout: fraction of the inputs to drop, in `[0, 1)`. Defaults to `0.0`.
        recurrent_dropout: fraction of the previous output to drop, in `[0, 1)`.
            Defaults to `0.0`.
        norm_gamma_initializer: initializer of the normalizations' gains. Defaults to `"ones"`.
        norm_beta_initializer: initializer of the normalizations' shifts. Defaults to `"zeros"`.
        norm_epsilon: positive float added to the variances. Defaults to `1e-3`.
        seed: optional integer seed of the dropout masks (Keras 3's cells take one).
            Defaults to `None`.
        **kwargs: base `Layer` arguments.

    Example:

    ```python
    rnn = keras.layers.RNN(LayerNormLSTMCell(4), return_sequences=True, return_state=True)
    outputs, h, c = rnn(np.random.rand(30, 23, 9).astype("float32"))  # (30, 23, 4), (30, 4) x2
    ```

    References:
        Ba, Kiros, Hinton, "Layer Normalization", arXiv:1607.06450, 2016.
        Semeniuta, Severyn, Barth, "Recurrent Dropout without Memory Loss", COLING 2016.
    """

    def __init__(
        self,
        units: int,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        norm_gamma_initializer="ones",
        norm_beta_initializer="zeros",
        norm_epsilon: float = 1e-3,
        seed: int | None = None,
        **kwargs,
    ):
        check_positive_int("units", units)
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=check_bool("use_bias", use_bias),
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=check_bool("unit_forget_bias", unit_forget_bias),
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
        self.norm_epsilon = check_positive_float("norm_epsilon", norm_epsilon)
        self.norm_gamma_initializer = keras.initializers.get(norm_gamma_initializer)
        self.norm_beta_initializer = keras.initializers.get(norm_beta_initializer)
        self._norm_config = {
            "norm_gamma_initializer": serialize(norm_gamma_initializer),
            "norm_beta_initializer": serialize(norm_beta_initializer),
        }
        self.kernel_norm = self._norm_layer("kernel_norm")
        self.recurrent_norm = self._norm_layer("recurrent_norm")
        self.state_norm = self._norm_layer("state_norm")

    def _norm_layer(self, name: str) -> keras.layers.LayerNormalization:
        return keras.layers.LayerNormalization(
            epsilon=self.norm_epsilon,
            gamma_initializer=self.norm_gamma_initializer,
            beta_initializer=self.norm_beta_initializer,
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, input_shape):
        super().build(input_shape)
        self.kernel_norm.build((None, 4 * self.units))
        self.recurrent_norm.build((None, 4 * self.units))
        self.state_norm.build((None, self.units))

    def call(self, inputs, states, training=False):
        previous_output, previous_carry = states[0], states[1]
        if training and 0.0 < self.dropout < 1.0:
            inputs = inputs * _first_mask(self.get_dropout_mask(inputs))
        if training and 0.0 < self.recurrent_dropout < 1.0:
            mask = self.get_recurrent_dropout_mask(previous_output)
            previous_output = previous_output * _first_mask(mask)
        z = self.kernel_norm(ops.matmul(inputs, self.kernel))
        z = z + self.recurrent_norm(ops.matmul(previous_output, self.recurrent_kernel))
        if self.use_bias:
            z = z + self.bias
        z_input, z_forget, z_candidate, z_output = ops.split(z, 4, axis=-1)
        input_gate = self.recurrent_activation(z_input)
        forget_gate = self.recurrent_activation(z_forget)
        carry = forget_gate * previous_carry + input_gate * self.activation(z_candidate)
        carry = self.state_norm(carry)
        output = self.recurrent_activation(z_output) * self.activation(carry)
        return output, [output, carry]

    def get_config(self):
        return {
            **super().get_config(),
            "norm_epsilon": self.norm_epsilon,
            **self._norm_config,
        }


def _first_mask(mask):
    """Keras caches one dropout mask per gate once recurrent dropout is on; one is used here."""
    return mask[0] if isinstance(mask, list | tuple) else mask
