"""Attention layers and transformer blocks: sparse attention, ACT, the encoder block."""

from layers.attention.adaptive_computation_time import AdaptiveComputationTime
from layers.attention.fused_attention import FusedMultiHeadAttention
from layers.attention.sparse_attention import SparseAttention
from layers.attention.transformer_encoder_block import TransformerEncoderBlock

__all__ = [
    "AdaptiveComputationTime",
    "FusedMultiHeadAttention",
    "SparseAttention",
    "TransformerEncoderBlock",
]
