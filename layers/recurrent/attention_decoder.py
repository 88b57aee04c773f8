"""Attention decoder for sequence-to-sequence RNNs, built on keras's attention layers."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_bool, check_choice, check_positive_int

ATTENTION_TYPES = ("luong", "bahdanau")
RNN_TYPES = ("lstm", "gru")


@keras.saving.register_keras_serializable(package="keras_zoo")
class AttentionDecoder(keras.layers.Layer):
    """An RNN decoder that attends over the encoder outputs at every step.

    The decoder RNN (LSTM or GRU) reads the (teacher-forced) decoder inputs; its output `h_t`
    queries the encoder outputs `h_s`, giving attention weights `a_t` and a context
    `c_t = sum_s a_ts h_s`; the step's output is Luong's attentional state
    `tanh(W_c [c_t; h_t])`. The scores are:

    - `"luong"`: the general multiplicative score `h_t^T W_a h_s` (keras `Attention`).
    - `"bahdanau"`: the additive score `v^T tanh(W_1 h_t + W_2 h_s + b)` (keras
      `AdditiveAttention`).

    Both use the structure of Luong et al. (attention after the RNN step, no input feeding), so
    the whole target sequence is decoded in one call during training. For step-by-step
    inference call it on one step at a time with `return_state=True`, passing the returned
    states back as `initial_state`.

    Masks are honoured: a decoder mask masks the RNN and the queries, an encoder mask keeps
    padded encoder steps out of the attention (their weight is zero).

    Args:
        units: positive integer, size of the RNN state and of the output.
        attention: `"luong"` or `"bahdanau"`. Defaults to `"luong"`.
        rnn_type: `"lstm"` or `"gru"`. Defaults to `"lstm"`.
        return_attention_weights: also return the weights `(batch, target_time, source_time)`.
            Defaults to `False`.
        return_state: also return the final RNN states (`[h, c]` for LSTM, `[h]` for GRU).
            Defaults to `False`.
        dropout: float in [0, 1), dropout on the attention weights during training. Defaults
            to `0.0`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: `[decoder_inputs, encoder_outputs]`, `(batch, target_time, features)` and
            `(batch, source_time, encoder_units)`.
        mask: optional `[decoder_mask, encoder_mask]` (filled in by keras from `Embedding`
            masks or `Masking`).
        initial_state: optional list of RNN initial states, e.g. the encoder's final states.
        training: whether dropout is active.

    Returns:
        `outputs (batch, target_time, units)`, followed by the attention weights if
        `return_attention_weights` and the states if `return_state`.

    Example:

    ```python
    source = keras.Input((None,), dtype="int32")
    target = keras.Input((None,), dtype="int32")
    encoded, h, c = keras.layers.LSTM(32, return_sequences=True, return_state=True)(
        keras.layers.Embedding(100, 16, mask_zero=True)(source)
    )
    decoded = AttentionDecoder(32, attention="bahdanau")(
        [keras.layers.Embedding(100, 16, mask_zero=True)(target), encoded], initial_state=[h, c]
    )
    logits = keras.layers.Dense(100)(decoded)
    model = keras.Model([source, target], logits)
    ```

    References:
        Bahdanau, Cho, Bengio, "Neural Machine Translation by Jointly Learning to Align and
        Translate", ICLR 2015. Luong, Pham, Manning, "Effective Approaches to Attention-based
        Neural Machine Translation", EMNLP 2015.
    """

    def __init__(
        self,
        units: int,
        attention: str = "luong",
        rnn_type: str = "lstm",
        return_attention_weights: bool = False,
        return_state: bool = False,
        dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.attention = check_choice("attention", attention, ATTENTION_TYPES)
        self.rnn_type = check_choice("rnn_type", rnn_type, RNN_TYPES)
        self.return_attention_weights = check_bool(
            "return_attention_weights", return_attention_weights
        )
        self.return_state = check_bool("return_state", return_state)
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, int | float)
            or not 0 <= dropout < 1
        ):
            raise ValueError(f"`dropout` must be a float in [0, 1). Received: dropout={dropout!r}")
        self.dropout = float(dropout)

        dtype = kwargs.get("dtype")
        rnn_class = keras.layers.LSTM if rnn_type == "lstm" else keras.layers.GRU
        self.rnn = rnn_class(
            units, return_sequences=True, return_state=True, dtype=dtype, name="rnn"
        )
        self.key_projection = keras.layers.Dense(
            units, use_bias=attention == "bahdanau", dtype=dtype, name="key_projection"
        )
        if attention == "luong":
            self.query_projection = None
            self.score = keras.layers.Attention(dropout=dropout, dtype=dtype, name="score")
        else:
            self.query_projection = keras.layers.Dense(
                units, use_bias=False, dtype=dtype, name="query_projection"
            )
            self.score = keras.layers.AdditiveAttention(dropout=dropout, dtype=dtype, name="score")
        self.output_projection = keras.layers.Dense(
            units, activation="tanh", use_bias=False, dtype=dtype, name="output_projection"
        )
        self.supports_masking = True

    def _check_inputs(self, inputs):
        if not isinstance(inputs, list | tuple) or len(inputs) != 2:
            raise ValueError(
                "`inputs` must be a list `[decoder_inputs, encoder_outputs]`. "
                f"Received: inputs={inputs!r}"
            )

    def build(self, input_shape):
        self._check_inputs(input_shape)
        decoder_shape, encoder_shape = (tuple(s) for s in input_shape)
        self.rnn.build(decoder_shape)
        query_shape = (*decoder_shape[:-1], self.units)
        self.key_projection.build(encoder_shape)
        key_shape = (*encoder_shape[:-1], self.units)
        if self.query_projection is not None:
            self.query_projection.build(query_shape)
        self.score.build([query_shape, encoder_shape, key_shape])
        self.output_projection.build((*decoder_shape[:-1], self.units + encoder_shape[-1]))

    def call(self, inputs, mask=None, initial_state=None, training=False):
        self._check_inputs(inputs)
        decoder_inputs, encoder_outputs = inputs
        decoder_mask, encoder_mask = mask if mask is not None else (None, None)
        rnn_outputs = self.rnn(
            decoder_inputs, mask=decoder_mask, initial_state=initial_state, training=training
        )
        decoded, states = rnn_outputs[0], list(rnn_outputs[1:])

        query = decoded if self.query_projection is None else self.query_projection(decoded)
        keys = self.key_projection(encoder_outputs)
        context, weights = self.score(
            [query, encoder_outputs, keys],
            mask=[decoder_mask, encoder_mask],
            return_attention_scores=True,
            training=training,
        )
        outputs = self.output_projection(ops.concatenate([context, decoded], axis=-1))

        result = [outputs]
        if self.return_attention_weights:
            result.append(weights)
        if self.return_state:
            result.extend(states)
        return result[0] if len(result) == 1 else result

    def compute_output_shape(self, input_shape):
        decoder_shape, encoder_shape = input_shape
        result = [(*decoder_shape[:-1], self.units)]
        if self.return_attention_weights:
            result.append((*decoder_shape[:-1], encoder_shape[1]))
        if self.return_state:
            states = 2 if self.rnn_type == "lstm" else 1
            result.extend([(decoder_shape[0], self.units)] * states)
        return result[0] if len(result) == 1 else result

    def compute_mask(self, inputs, mask=None):
        decoder_mask = None if mask is None else mask[0]
        extra = int(self.return_attention_weights)
        if self.return_state:
            extra += 2 if self.rnn_type == "lstm" else 1
        return [decoder_mask] + [None] * extra if extra else decoder_mask

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "attention": self.attention,
            "rnn_type": self.rnn_type,
            "return_attention_weights": self.return_attention_weights,
            "return_state": self.return_state,
            "dropout": self.dropout,
        }
