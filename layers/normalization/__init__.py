"""Normalization layers: instance normalization, BatchNormalization on TensorFlow's fused kernel
(`FusedBatchNormalization`), and TensorFlow Addons' `WeightNormalization`,
`FilterResponseNormalization`, `PoincareNormalize` and `SpectralNormalization` (TFA's weight
order) on Keras 3."""

from layers.normalization.filter_response import FilterResponseNormalization
from layers.normalization.fused_batch_norm import FusedBatchNormalization
from layers.normalization.instance import InstanceNormalization
from layers.normalization.poincare import PoincareNormalize
from layers.normalization.spectral_normalization import SpectralNormalization
from layers.normalization.weight_normalization import WeightNormalization

__all__ = [
    "FilterResponseNormalization",
    "FusedBatchNormalization",
    "InstanceNormalization",
    "PoincareNormalize",
    "SpectralNormalization",
    "WeightNormalization",
]
