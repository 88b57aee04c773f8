"""LSTM cell with peephole connections (TensorFlow Addons' cell)."""

from __future__ import annotations

import keras

from layers.validation import check_bool, check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="keras_zoo")
class PeepholeLSTMCell(keras.layers.LSTMCell):
    """`keras.layers.LSTMCell` whose gates also look at the cell state (peephole connections).

    The input and forget gates add `p_i * c_{t-1}` and `p_f * c_{t-1}` to their
    pre-activations, and the output gate adds `p_o * c_t` (the new cell state), with one
    peephole weight vector per gate, as in Sak et al.'s LSTM. Peepholes let the gates time
    events precisely (Gers et al.). Everything else, dropout included, is Keras's `LSTMCell`.
    This is `tfa.rnn.PeepholeLSTMCell`: the same arguments and defaults, and its weight list
    (`kernel`, `recurrent_kernel`, `bias`, then `input_gate_peephole_weights`,
    `forget_gate_peephole_weights`, `output_gate_peephole_weights`, initialized like the
    kernel) loads through `set_weights`.

    Args:
        units: positive integer, dimensionality of the output and of both states.
        activation: activation of the candidate and of the output. Defaults to `"tanh"`.
        recurrent_activation: activation of the gates. Defaults to `"sigmoid"`.
        use_bias: whether to add a bias. Defaults to `True`.
        kernel_initializer: initializer of the input kernel and of the peephole weights.
            Defaults to `"glorot_uniform"`.
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
        seed: optional integer seed of the dropout masks (Keras 3's cells take one).
            Defaults to `None`.
        **kwargs: base `Layer` arguments.

    Example:

    ```python
    rnn = keras.layers.RNN(PeepholeLSTMCell(4), return_sequences=True, return_state=True)
    outputs, h, c = rnn(np.random.rand(30, 23, 9).astype("float32"))  # (30, 23, 4), (30, 4) x2
    ```

    References:
        Gers, Schraudolph, Schmidhuber, "Learning Precise Timing with LSTM Recurrent Networks",
        JMLR 3, 2002.
        Sak, Senior, Beaufays, "Long Short-Term Memory Recurrent Neural Network Architectures
        for Large Scale Acoustic Modeling", Interspeech 2014.
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

    def build(self, input_shape):
        super().build(input_shape)
        self.input_gate_peephole_weights = self._peephole("input_gate_peephole_weights")
        self.forget_gate_peephole_weights = self._peephole("forget_gate_peephole_weights")
        self.output_gate_peephole_weights = self._peephole("output_gate_peephole_weights")

    def _peephole(self, name: str):
        return self.add_weight(shape=(self.units,), name=name, initializer=self.kernel_initializer)

    def _compute_carry_and_output(self, x, h_tm1, c_tm1):
        # The split-kernel path Keras takes with recurrent dropout (one mask per gate).
        units = self.units
        z = [
            x_gate + keras.ops.matmul(h_gate, self.recurrent_kernel[:, k * units : (k + 1) * units])
            for k, (x_gate, h_gate) in enumerate(zip(x, h_tm1, strict=True))
        ]
        return self._compute_carry_and_output_fused(z, c_tm1)

    def _compute_carry_and_output_fused(self, z, c_tm1):
        z_input, z_forget, z_candidate, z_output = z
        input_gate = self.recurrent_activation(z_input + self.input_gate_peephole_weights * c_tm1)
        forget_gate = self.recurrent_activation(
            z_forget + self.forget_gate_peephole_weights * c_tm1
        )
        carry = forget_gate * c_tm1 + input_gate * self.activation(z_candidate)
        output_gate = self.recurrent_activation(
            z_output + self.output_gate_peephole_weights * carry
        )
        return carry, output_gate
