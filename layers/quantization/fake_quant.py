"""Straight-through fake quantization ops that TensorFlow's TFLite converter recognises.

Both functions wrap `tf.quantization.fake_quant_with_min_max_vars*`: the forward pass rounds to the
int8 grid, the gradient passes through unchanged inside the range (the straight-through estimator
of Jacob et al. 2018) and the converter reads the ranges straight from the ops.
"""

from __future__ import annotations

import tensorflow as tf

NUM_BITS = 8


def fake_quant_per_channel(kernel: tf.Tensor) -> tf.Tensor:
    """Symmetric int8 fake quantization of `kernel` per output channel (its last axis).

    The range of each channel is `[-max|w|, max|w|]` on the narrow grid `[-127, 127]`, so the zero
    point is 0, as TFLite requires for int8 weights.

    Args:
        kernel: float32 weights whose last axis is the output channel.

    Returns:
        The kernel rounded to its int8 grid and mapped back to float.
    """
    axes = list(range(len(kernel.shape) - 1))
    # The range follows the weights but is not itself trained (tfmot's LastValueQuantizer).
    bound = tf.stop_gradient(tf.maximum(tf.reduce_max(tf.abs(kernel), axis=axes), 1e-8))
    return tf.quantization.fake_quant_with_min_max_vars_per_channel(
        kernel, -bound, bound, num_bits=NUM_BITS, narrow_range=True
    )


def fake_quant_symmetric(kernel: tf.Tensor) -> tf.Tensor:
    """Symmetric int8 fake quantization of `kernel` with one range for the whole tensor.

    Used for Dense kernels: TFLite's converter transposes them to its fully connected layout,
    which per-channel ranges do not survive.

    Args:
        kernel: float32 weights.

    Returns:
        The kernel rounded to the narrow int8 grid `[-127, 127]` and mapped back to float.
    """
    bound = tf.stop_gradient(tf.maximum(tf.reduce_max(tf.abs(kernel)), 1e-8))
    return tf.quantization.fake_quant_with_min_max_vars(
        kernel, -bound, bound, num_bits=NUM_BITS, narrow_range=True
    )


def fake_quant_per_tensor(x: tf.Tensor, minimum: tf.Tensor, maximum: tf.Tensor) -> tf.Tensor:
    """Asymmetric int8 fake quantization of an activation with one range for the whole tensor.

    Args:
        x: float32 activations.
        minimum: scalar lower end of the range (at most 0).
        maximum: scalar upper end of the range (at least 0).

    Returns:
        `x` clipped to the range, rounded to 256 levels and mapped back to float.
    """
    return tf.quantization.fake_quant_with_min_max_vars(
        x, minimum, maximum, num_bits=NUM_BITS, narrow_range=False
    )
