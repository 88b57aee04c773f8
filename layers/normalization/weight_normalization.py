"""Weight normalization: a wrapper that learns each kernel column's direction and length apart."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_bool


@keras.saving.register_keras_serializable(package="keras_zoo")
class WeightNormalization(keras.layers.Wrapper):
    """Wraps a layer with a `kernel` and uses `g * v / ||v||` as its kernel.

    `v` is the wrapped layer's own kernel (its direction) and `g` a learned length per output
    unit; norms are taken over every kernel axis but the last. On its first call the layer
    initialises `g` once (a boolean `initialized` weight records it), as TensorFlow Addons does:

    - `data_init=False`: `g = ||v||`, so the first outputs equal the wrapped layer's.
    - `data_init=True` (data-dependent initialisation): the wrapped layer is run on the first
      batch without its activation, with the kernel and bias it had when the wrapper was built
      (kept in two non-trainable copies); with `m` and `s**2` the per-unit mean and variance of
      that output, `g = g / sqrt(s**2 + 1e-10)` and the bias becomes `-m / sqrt(s**2 + 1e-10)`.

    Weights: `get_weights()` / `set_weights()` use TFA's order, `[g, <wrapped layer's weights>,
    initialized]`, followed with `data_init=True` by the two copies (`kernel`, then `bias`),
    so a TFA model's arrays load as they are.

    The first-call initialisation assigns variables inside the call (TensorFlow's `tf.cond`
    semantics through `keras.ops.cond`), so this layer follows TFA on the TensorFlow backend;
    recurrent layers are not supported.

    Args:
        layer: a `keras.layers.Layer` with a `kernel` (`Dense`, `Conv*D`...), or its serialized
            config.
        data_init: whether to use the data-dependent initialisation. Defaults to `True`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    dense = WeightNormalization(keras.layers.Dense(10), data_init=False)
    y = dense(keras.random.normal((4, 8)))
    ```

    Reference:
        Salimans and Kingma, "Weight Normalization: A Simple Reparameterization to Accelerate
        Training of Deep Neural Networks", NeurIPS 2016. https://arxiv.org/abs/1602.07868
    """

    def __init__(self, layer, data_init: bool = True, **kwargs):
        if isinstance(layer, dict):  # a serialized layer, as in a config
            layer = keras.saving.deserialize_keras_object(layer)
        if not isinstance(layer, keras.layers.Layer):
            raise TypeError(
                f"`layer` must be a `keras.layers.Layer` instance. Received: layer={layer!r}"
            )
        if isinstance(layer, keras.layers.RNN):
            raise TypeError(
                "`WeightNormalization` does not support recurrent layers on Keras 3. "
                f"Received: layer={layer.__class__.__name__}"
            )
        super().__init__(layer, **kwargs)
        self.data_init = check_bool("data_init", data_init)

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(input_shape)
        kernel = getattr(self.layer, "kernel", None)
        if kernel is None or not isinstance(kernel, keras.Variable):
            raise ValueError(
                "`WeightNormalization` must wrap a layer with a `kernel` weight. "
                f"Received: layer={self.layer.__class__.__name__}"
            )
        self.layer_depth = int(kernel.shape[-1])
        self.kernel_norm_axes = tuple(range(len(kernel.shape) - 1))
        self.g = self.add_weight(
            name="g", shape=(self.layer_depth,), initializer="ones", dtype=kernel.dtype
        )
        self.initialized = self.add_weight(
            name="initialized",
            shape=(),
            initializer="zeros",
            dtype="bool",
            trainable=False,
            aggregation="only_first_replica",
        )
        self.init_kernel = self.init_bias = None
        if self.data_init:
            self.init_kernel = self._copy(kernel, "init_kernel")
            if self._bias() is not None:
                self.init_bias = self._copy(self._bias(), "init_bias")
        self.built = True

    def _bias(self):
        bias = getattr(self.layer, "bias", None)
        return bias if isinstance(bias, keras.Variable) else None

    def _copy(self, variable, name):
        copy = self.add_weight(
            name=name,
            shape=variable.shape,
            initializer="zeros",
            dtype=variable.dtype,
            trainable=False,
        )
        copy.assign(variable.value)
        return copy

    def _tfa_ordered_weights(self):
        extra = [w for w in (self.init_kernel, self.init_bias) if w is not None]
        return [self.g, *self.layer.weights, self.initialized, *extra]

    def get_weights(self):
        """The weights in TensorFlow Addons' order (see the class docstring)."""
        return [ops.convert_to_numpy(w) for w in self._tfa_ordered_weights()]

    def set_weights(self, weights):
        """Sets the weights from a list in TensorFlow Addons' order (see the class docstring)."""
        variables = self._tfa_ordered_weights()
        if len(weights) != len(variables):
            raise ValueError(
                f"`WeightNormalization` expects {len(variables)} weights "
                f"({[v.path for v in variables]}). Received: {len(weights)} weights"
            )
        for variable, value in zip(variables, weights, strict=True):
            if tuple(variable.shape) != tuple(ops.shape(value)):
                raise ValueError(
                    f"Weight {variable.path} has shape {tuple(variable.shape)}. "
                    f"Received: shape={tuple(ops.shape(value))}"
                )
            variable.assign(value)

    def _initial_g_and_bias(self, inputs):
        """The values that TFA's first call gives `g` (and the bias, with `data_init`)."""
        if not self.data_init:
            flat = ops.reshape(self.layer.kernel, (-1, self.layer_depth))
            return ops.sqrt(ops.sum(ops.square(flat), axis=0)), None
        mapping = [(self.layer.kernel, self.init_kernel.value)]
        if self.init_bias is not None:
            mapping.append((self._bias(), self.init_bias.value))
        activation = getattr(self.layer, "activation", None)
        if activation is not None:
            self.layer.activation = keras.activations.linear
        try:
            with keras.StatelessScope(state_mapping=mapping):
                preactivation = ops.cast(self.layer(inputs), "float32")
        finally:
            if activation is not None:
                self.layer.activation = activation
        axes = tuple(range(len(preactivation.shape) - 1))
        mean, variance = ops.moments(preactivation, axes)
        scale = 1.0 / ops.sqrt(variance + 1e-10)
        if scale.shape[0] != self.layer_depth:  # e.g. depthwise or transposed kernels
            raise ValueError(
                "`data_init=True` needs a layer whose kernel's last axis is its output channels "
                f"({self.layer_depth} != {scale.shape[0]} outputs). "
                f"Received: layer={self.layer.__class__.__name__}"
            )
        g = ops.cast(self.g, "float32") * scale
        bias = -mean * scale if self._bias() is not None else None
        return g, bias

    def call(self, inputs, training=None):
        initialized = ops.not_equal(self.initialized, False)  # a tensor, not the variable
        bias = self._bias()

        def first_call():
            g, new_bias = self._initial_g_and_bias(inputs)
            g = ops.cast(g, self.g.dtype)
            if bias is None:
                return g
            if new_bias is None:  # data_init=False keeps the bias
                return g, ops.convert_to_tensor(bias)
            return g, ops.cast(new_bias, bias.dtype)

        def later_call():
            g = ops.convert_to_tensor(self.g)
            return g if bias is None else (g, ops.convert_to_tensor(bias))

        # The branches only compute; the assignments stay outside `cond` so that they also run
        # in a `tf.distribute` replica context.
        values = ops.cond(initialized, later_call, first_call)
        g = values if bias is None else values[0]
        self.g.assign(g)
        if bias is not None:
            bias.assign(values[1])
        self.initialized.assign(True)
        v = ops.convert_to_tensor(self.layer.kernel)
        norm = ops.sqrt(ops.sum(ops.square(v), axis=self.kernel_norm_axes, keepdims=True))
        kernel = v / ops.maximum(norm, 1e-6) * ops.cast(g, v.dtype)
        mapping = [(self.layer.kernel, kernel)]
        if bias is not None:
            mapping.append((bias, values[1]))
        with keras.StatelessScope(state_mapping=mapping):
            return self.layer(inputs)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "data_init": self.data_init}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        # keras's `Wrapper.from_config` pops "layer" from the dict it is given; work on a copy.
        return super().from_config(dict(config), custom_objects=custom_objects)
