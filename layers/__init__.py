"""keras-zoo's building blocks for `model.fit` users.

Layers are importable flat (`from layers import SparseAttention`); training components live in
their modules: `layers.optimizers`, `layers.schedules`, `layers.callbacks`, `layers.losses`,
`layers.metrics`. The label-mixing loss and metric that `zoo train` switches to are also flat
(`SparseLabelSmoothingCrossentropy`, `MixedLabelAccuracy`).
"""

from layers import callbacks, graph, losses, metrics, optimizers, schedules
from layers.attention import (
    AdaptiveComputationTime,
    FusedMultiHeadAttention,
    SparseAttention,
    TransformerEncoderBlock,
)
from layers.bayesian import Conv2DFlipout, DenseFlipout, DenseReparameterization
from layers.convolution import DeformableConv2D, InvertedResidual, SqueezeExcite, WSConv2D
from layers.embedding import (
    PositionEmbedding,
    RelativePositionBias,
    RotaryEmbedding,
    SinusoidalPositionEmbedding,
)
from layers.graph import (
    AttentionGraphPooling,
    GATConv,
    GatedGraphConv,
    GCNConv,
    GraphPooling,
    SAGEConv,
)
from layers.losses import SparseLabelSmoothingCrossentropy
from layers.metrics import MixedLabelAccuracy
from layers.normalization import InstanceNormalization
from layers.recurrent import HMLSTM, QRNN, AttentionDecoder, HMLSTMCell, IndRNN, IndRNNCell
from layers.regularization import DropBlock2D, MCDropout, ShakeoutDense, StochasticDepth

__all__ = [
    "HMLSTM",
    "QRNN",
    "AdaptiveComputationTime",
    "AttentionDecoder",
    "AttentionGraphPooling",
    "Conv2DFlipout",
    "DeformableConv2D",
    "DenseFlipout",
    "DenseReparameterization",
    "DropBlock2D",
    "FusedMultiHeadAttention",
    "GATConv",
    "GCNConv",
    "GatedGraphConv",
    "GraphPooling",
    "HMLSTMCell",
    "IndRNN",
    "IndRNNCell",
    "InstanceNormalization",
    "InvertedResidual",
    "MCDropout",
    "MixedLabelAccuracy",
    "PositionEmbedding",
    "RelativePositionBias",
    "RotaryEmbedding",
    "SAGEConv",
    "ShakeoutDense",
    "SinusoidalPositionEmbedding",
    "SparseAttention",
    "SparseLabelSmoothingCrossentropy",
    "SqueezeExcite",
    "StochasticDepth",
    "TransformerEncoderBlock",
    "WSConv2D",
    "callbacks",
    "graph",
    "losses",
    "metrics",
    "optimizers",
    "schedules",
]
