"""`tfa.layers` on Keras 3: TFA's layers under their TFA names, arguments and weight orders.

`GroupNormalization` is Keras's own (TFA's defaults, weights and numbers); `StochasticDepth` is
`TFAStochasticDepth` (TFA's one draw per batch and inference-time scaling; the project's
`layers.StochasticDepth` is the per-example variant).
"""

from keras.layers import GroupNormalization

from layers.activation_layers import GELU, TLU, Maxout, Snake, Sparsemax
from layers.attention.multi_head_attention_tfa import MultiHeadAttention
from layers.convolution.correlation_cost import CorrelationCost
from layers.crf import CRF
from layers.embedding import EmbeddingBag
from layers.noisy_dense import NoisyDense
from layers.normalization import (
    FilterResponseNormalization,
    InstanceNormalization,
    PoincareNormalize,
    SpectralNormalization,
    WeightNormalization,
)
from layers.polynomial_crossing import PolynomialCrossing
from layers.pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
    MaxUnpooling2D,
    MaxUnpooling2DV2,
    SpatialPyramidPooling2D,
)
from layers.recurrent import ESN
from layers.regularization.stochastic_depth_tfa import TFAStochasticDepth as StochasticDepth

__all__ = [
    "CRF",
    "ESN",
    "GELU",
    "TLU",
    "AdaptiveAveragePooling1D",
    "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D",
    "AdaptiveMaxPooling2D",
    "AdaptiveMaxPooling3D",
    "CorrelationCost",
    "EmbeddingBag",
    "FilterResponseNormalization",
    "GroupNormalization",
    "InstanceNormalization",
    "MaxUnpooling2D",
    "MaxUnpooling2DV2",
    "Maxout",
    "MultiHeadAttention",
    "NoisyDense",
    "PoincareNormalize",
    "PolynomialCrossing",
    "Snake",
    "Sparsemax",
    "SpatialPyramidPooling2D",
    "SpectralNormalization",
    "StochasticDepth",
    "WeightNormalization",
]
