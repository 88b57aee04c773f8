"""Embeddings: position information for transformers (sinusoidal, learned, rotary, relative
biases) and `EmbeddingBag` (pooled lookups of bags of ids)."""

from layers.embedding.embedding_bag import EmbeddingBag
from layers.embedding.learned import PositionEmbedding
from layers.embedding.relative_position_bias import (
    RelativePositionBias,
    swin_relative_position_index,
    t5_relative_position_bucket,
)
from layers.embedding.rotary import RotaryEmbedding
from layers.embedding.sinusoidal import SinusoidalPositionEmbedding

__all__ = [
    "PositionEmbedding",
    "RelativePositionBias",
    "RotaryEmbedding",
    "SinusoidalPositionEmbedding",
    "swin_relative_position_index",
    "t5_relative_position_bucket",
    "EmbeddingBag",
]
