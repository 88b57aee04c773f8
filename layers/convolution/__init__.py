"""Convolution layers: deformable convolution, squeeze-and-excitation, inverted residual blocks
and weight-standardized convolution.

Separable and dilated convolutions are keras's (`keras.layers.SeparableConv2D`,
`keras.layers.Conv2D(dilation_rate=...)`).
"""

from layers.convolution.deformable_conv import DeformableConv2D, deform_conv2d
from layers.convolution.inverted_residual import InvertedResidual
from layers.convolution.squeeze_excite import SqueezeExcite
from layers.convolution.ws_conv import WSConv2D, standardize_kernel

__all__ = [
    "DeformableConv2D",
    "InvertedResidual",
    "SqueezeExcite",
    "WSConv2D",
    "deform_conv2d",
    "standardize_kernel",
]
