"""Spectral normalization with TensorFlow Addons' weight order."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_zoo")
class SpectralNormalization(keras.layers.SpectralNormalization):
    """`keras.layers.SpectralNormalization` whose weight list is in TensorFlow Addons' order.

    The numbers are Keras's (the same as TFA's: one power-iteration update of `u` and a kernel
    divided by its largest singular value on each training call, `u` drawn from
    `TruncatedNormal(stddev=0.02)`), but Keras lists the weights as `[kernel, u, bias]` and TFA
    as `[kernel, bias, sn_u]`, i.e. the wrapped layer's weights, then `u`. `get_weights()` and
    `set_weights()` here use TFA's order, so arrays saved from a TFA model load as they are.

    Args:
        layer: a layer with a `kernel` or `embeddings` weight, or its serialized config.
        power_iterations: power-iteration steps per training call. Defaults to `1`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    dense = SpectralNormalization(keras.layers.Dense(10))
    y = dense(keras.random.normal((4, 8)), training=True)
    ```

    Reference:
        Miyato et al., "Spectral Normalization for Generative Adversarial Networks", ICLR 2018.
        https://arxiv.org/abs/1802.05957
    """

    def __init__(self, layer, power_iterations: int = 1, **kwargs):
        if isinstance(layer, dict):  # a serialized layer, as in a config
            layer = keras.saving.deserialize_keras_object(layer)
        if not isinstance(layer, keras.layers.Layer):
            raise TypeError(
                f"`layer` must be a `keras.layers.Layer` instance. Received: layer={layer!r}"
            )
        if not isinstance(power_iterations, int) or isinstance(power_iterations, bool):
            raise ValueError(
                f"`power_iterations` must be a positive integer. "
                f"Received: power_iterations={power_iterations!r}"
            )
        super().__init__(layer, power_iterations=power_iterations, **kwargs)

    def _tfa_ordered_weights(self):
        return [*self.layer.weights, self.vector_u]

    def get_weights(self):
        """The weights in TensorFlow Addons' order: the wrapped layer's, then `u`."""
        return [ops.convert_to_numpy(w) for w in self._tfa_ordered_weights()]

    def set_weights(self, weights):
        """Sets the weights from a list in TensorFlow Addons' order (the wrapped layer's, `u`)."""
        variables = self._tfa_ordered_weights()
        if len(weights) != len(variables):
            raise ValueError(
                f"`SpectralNormalization` expects {len(variables)} weights "
                f"({[v.path for v in variables]}). Received: {len(weights)} weights"
            )
        for variable, value in zip(variables, weights, strict=True):
            if tuple(variable.shape) != tuple(ops.shape(value)):
                raise ValueError(
                    f"Weight {variable.path} has shape {tuple(variable.shape)}. "
                    f"Received: shape={tuple(ops.shape(value))}"
                )
            variable.assign(value)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        # keras's `Wrapper.from_config` pops "layer" from the dict it is given; work on a copy.
        return super().from_config(dict(config), custom_objects=custom_objects)
