"""Per-tensor activation fake quantization with moving-average ranges."""

from __future__ import annotations

import keras
import tensorflow as tf

from layers.quantization.fake_quant import fake_quant_per_tensor
from layers.validation import check_unit_interval


@keras.saving.register_keras_serializable(package="keras_zoo")
class ActivationQuantizer(keras.layers.Layer):
    """Fake-quantizes activations to asymmetric int8 with one range per tensor.

    While training, the range follows an exponential moving average of each batch's minimum and
    maximum (the first batch sets it directly); at inference the stored range is used, so the
    values the model is evaluated with are the ones TFLite's int8 kernels compute. The range always
    contains 0, so that 0 is exactly representable (zero padding, ReLU). Gradients pass straight
    through inside the range and are zero outside it.

    Args:
        momentum: decay of the moving averages of the range. Defaults to `0.99`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    x = keras.Input((8,))
    y = ActivationQuantizer()(keras.layers.Dense(4)(x))
    ```

    Reference:
        Jacob et al., "Quantization and Training of Neural Networks for Efficient
        Integer-Arithmetic-Only Inference", CVPR 2018. https://arxiv.org/abs/1712.05877
    """

    def __init__(self, momentum: float = 0.99, **kwargs):
        super().__init__(**kwargs)
        self.momentum = check_unit_interval(
            "momentum", momentum, include_low=True, include_high=False
        )
        self.supports_masking = True

    def build(self, input_shape):
        kwargs = {"trainable": False, "autocast": False, "aggregation": "mean"}
        self.range_min = self.add_weight(name="range_min", shape=(), initializer="zeros", **kwargs)
        self.range_max = self.add_weight(name="range_max", shape=(), initializer="zeros", **kwargs)
        self.seen = self.add_weight(name="seen", shape=(), initializer="zeros", **kwargs)

    def call(self, inputs, training=False):
        x = tf.cast(inputs, "float32")
        if training:
            batch_min = tf.minimum(tf.reduce_min(x), 0.0)
            batch_max = tf.maximum(tf.reduce_max(x), 0.0)
            first = tf.equal(self.seen, 0.0)
            m = self.momentum
            self.range_min.assign(
                tf.where(first, batch_min, m * self.range_min + (1 - m) * batch_min)
            )
            self.range_max.assign(
                tf.where(first, batch_max, m * self.range_max + (1 - m) * batch_max)
            )
            self.seen.assign(1.0)
        # A never-trained quantizer has range [0, 0]; keep the op well defined.
        upper = tf.maximum(self.range_max, self.range_min + 1e-6)
        return tf.cast(fake_quant_per_tensor(x, self.range_min, upper), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum}
