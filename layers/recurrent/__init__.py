"""Recurrent layers: QRNN, IndRNN, HM-LSTM, an attention decoder for seq2seq RNNs, and
TensorFlow Addons' cells (layer-normalized LSTM and simple RNN, peephole LSTM, NAS, echo state
network)."""

from layers.recurrent.attention_decoder import AttentionDecoder
from layers.recurrent.esn import ESN, ESNCell
from layers.recurrent.hmlstm import HMLSTM, BoundarySlopeAnnealing, HMLSTMCell
from layers.recurrent.indrnn import AbsoluteValueClip, IndRNN, IndRNNCell
from layers.recurrent.layer_norm_lstm import LayerNormLSTMCell
from layers.recurrent.layer_norm_simple_rnn import LayerNormSimpleRNNCell
from layers.recurrent.nas_cell import NASCell
from layers.recurrent.peephole_lstm import PeepholeLSTMCell
from layers.recurrent.qrnn import QRNN

__all__ = [
    "QRNN",
    "AbsoluteValueClip",
    "AttentionDecoder",
    "BoundarySlopeAnnealing",
    "HMLSTM",
    "HMLSTMCell",
    "IndRNN",
    "IndRNNCell",
    "ESN",
    "ESNCell",
    "LayerNormLSTMCell",
    "LayerNormSimpleRNNCell",
    "NASCell",
    "PeepholeLSTMCell",
]
