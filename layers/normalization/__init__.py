"""Normalization layers: instance normalization, and TensorFlow Addons' `WeightNormalization`,
`FilterResponseNormalization`, `PoincareNormalize` and `SpectralNormalization` (TFA's weight
order) on Keras 3."""

from layers.normalization.filter_response import FilterResponseNormalization
from layers.normalization.instance import InstanceNormalization
from layers.normalization.poincare import PoincareNormalize
from layers.normalization.spectral_normalization import SpectralNormalization
from layers.normalization.weight_normalization import WeightNormalization

__all__ = [
    "FilterResponseNormalization",
    "InstanceNormalization",
    "PoincareNormalize",
    "SpectralNormalization",
    "WeightNormalization",
]
