"""Recurrent layers: QRNN, IndRNN, HM-LSTM and an attention decoder for seq2seq RNNs."""

from layers.recurrent.attention_decoder import AttentionDecoder
from layers.recurrent.hmlstm import HMLSTM, BoundarySlopeAnnealing, HMLSTMCell
from layers.recurrent.indrnn import AbsoluteValueClip, IndRNN, IndRNNCell
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
]
