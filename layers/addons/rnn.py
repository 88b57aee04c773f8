"""`tfa.rnn` on Keras 3: TFA's RNN cells (`layers.recurrent`), for `keras.layers.RNN`."""

from layers.recurrent import (
    ESNCell,
    LayerNormLSTMCell,
    LayerNormSimpleRNNCell,
    NASCell,
    PeepholeLSTMCell,
)

__all__ = ["ESNCell", "LayerNormLSTMCell", "LayerNormSimpleRNNCell", "NASCell", "PeepholeLSTMCell"]
