"""Quantization-aware training to int8 (Jacob et al. 2018) for Keras 3 models.

`quantize_model(model)` returns a trainable copy with int8 fake quantization (weights per output
channel, symmetric; activations per tensor, asymmetric, moving-average ranges) and batch norm
folded into the preceding convolution; `serving.to_tflite(qat_model, quantize="int8")` turns it
into a fully integer TFLite model with the learned ranges. Nested models and composite blocks
(`InvertedResidual`, `SqueezeExcite`) are first expanded into plain layers by `flatten_model`.
"""

from layers.quantization.activation_quantizer import ActivationQuantizer
from layers.quantization.fake_quant import (
    fake_quant_per_channel,
    fake_quant_per_tensor,
    fake_quant_symmetric,
)
from layers.quantization.flatten import flatten_model
from layers.quantization.quantize import quantize_model
from layers.quantization.quantized_layers import (
    QuantizedConv2D,
    QuantizedDense,
    QuantizedDepthwiseConv2D,
)

# tfmot's name for the same entry point.
quantize_apply = quantize_model
quantize_aware = quantize_model

__all__ = [
    "ActivationQuantizer",
    "QuantizedConv2D",
    "QuantizedDense",
    "QuantizedDepthwiseConv2D",
    "fake_quant_per_channel",
    "fake_quant_per_tensor",
    "fake_quant_symmetric",
    "flatten_model",
    "quantize_apply",
    "quantize_aware",
    "quantize_model",
]
