"""keras-zoo's building blocks for `model.fit` users.

Layers are importable flat (`from layers import SparseAttention`); training components live in
their modules: `layers.optimizers`, `layers.schedules`, `layers.callbacks`, `layers.losses`,
`layers.metrics`. The label-mixing loss and metric that `zoo train` switches to are also flat
(`SparseLabelSmoothingCrossentropy`, `MixedLabelAccuracy`). Sequence tools have their own
modules too: `layers.crf` (linear-chain CRF), `layers.seq2seq` (attention, beam search),
`layers.text` (skip-grams, time parsing); `layers.privacy` is DP-SGD (`make_private`, also
flat); `layers.addons` is TensorFlow Addons' API under its own names (`from layers import addons
as tfa`).
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
from layers.crf import CRF
from layers.embedding import (
    EmbeddingBag,
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
from layers.normalization import FusedBatchNormalization, InstanceNormalization
from layers.privacy import DPOptimizer, PrivateTraining, make_private
from layers.recurrent import (
    ESN,
    HMLSTM,
    QRNN,
    AttentionDecoder,
    ESNCell,
    HMLSTMCell,
    IndRNN,
    IndRNNCell,
    LayerNormLSTMCell,
    LayerNormSimpleRNNCell,
    NASCell,
    PeepholeLSTMCell,
)
from layers.regularization import DropBlock2D, MCDropout, ShakeoutDense, StochasticDepth

__all__ = [
    "DPOptimizer",
    "PrivateTraining",
    "make_private",
    "CRF",
    "ESN",
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
    "ESNCell",
    "EmbeddingBag",
    "FusedBatchNormalization",
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
    "LayerNormLSTMCell",
    "LayerNormSimpleRNNCell",
    "MCDropout",
    "MixedLabelAccuracy",
    "NASCell",
    "PeepholeLSTMCell",
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
