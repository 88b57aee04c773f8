"""Pooling beyond Keras's own: max pooling that returns its argmax, TensorFlow Addons'
`MaxUnpooling2D` / `MaxUnpooling2DV2` that undo it, `SpatialPyramidPooling2D`, and TFA's
adaptive poolings (equal bins; Keras 3.15's `AdaptiveMaxPooling*D` crashes on an output size
of 1, see `layers.pooling.adaptive`)."""

from layers.pooling.adaptive import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
)
from layers.pooling.argmax_pooling import max_pool_with_argmax
from layers.pooling.max_unpooling import MaxUnpooling2D, MaxUnpooling2DV2
from layers.pooling.spatial_pyramid import SpatialPyramidPooling2D

__all__ = [
    "AdaptiveAveragePooling1D",
    "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D",
    "AdaptiveMaxPooling2D",
    "AdaptiveMaxPooling3D",
    "MaxUnpooling2D",
    "MaxUnpooling2DV2",
    "SpatialPyramidPooling2D",
    "max_pool_with_argmax",
]
