"""`flatten_model`: one flat Functional graph of plain Keras layers, ready for quantization.

Quantization-aware training has to see every convolution, batch norm and activation that TFLite
will run, with a fake-quantized tensor wherever TFLite keeps an int8 tensor. A nested Functional
model (a zoo classifier's backbone) or a composite block (`InvertedResidual`, `SqueezeExcite`)
hides those ops inside one layer, so they are rewritten here into the same ops as separate Keras
layers, with the same weights. The flat model computes exactly what the original computes.
"""

from __future__ import annotations

import keras

from layers.convolution import InvertedResidual, SqueezeExcite

_GLOBAL_POOLING = {
    3: keras.layers.GlobalAveragePooling1D,
    4: keras.layers.GlobalAveragePooling2D,
    5: keras.layers.GlobalAveragePooling3D,
}


class _Builder:
    """Calls fresh copies of layers on new symbolic tensors, keeping layer names unique."""

    def __init__(self):
        self.names: set[str] = set()

    def unique(self, name: str, prefix: str) -> str:
        candidate = name if name not in self.names else f"{prefix}_{name}"
        index = 1
        while candidate in self.names:
            candidate = f"{prefix}_{name}_{index}"
            index += 1
        self.names.add(candidate)
        return candidate

    def copy(self, layer, name: str, prefix: str, *args, **kwargs):
        """A fresh layer from `layer`'s config, called on `args`, with `layer`'s weights."""
        config = {**layer.get_config(), "name": self.unique(name, prefix)}
        new = layer.__class__.from_config(config)
        outputs = new(*args, **kwargs)
        new.set_weights(layer.get_weights())
        return outputs

    def add(self, cls, name: str, prefix: str, dtype, inputs, **config):
        """Builds a `cls` layer named `name` (made unique under `prefix`) and calls it."""
        return cls(**config, dtype=dtype, name=self.unique(name, prefix))(inputs)

    def run(self, model: keras.Model, inputs, prefix: str):
        """Runs `model`'s graph on `inputs`, inlining nested models and expanding blocks."""

        def call(layer, *args, **kwargs):
            if isinstance(layer, keras.Sequential):
                layer = layer._functional
            if hasattr(layer, "_run_through_graph"):
                nested = args[0] if len(args) == 1 else args
                return self.run(layer, nested, layer.name)
            if isinstance(layer, InvertedResidual):
                return self.inverted_residual(layer, args[0], kwargs.get("training"))
            if isinstance(layer, SqueezeExcite):
                return self.squeeze_excite(layer, args[0], layer.name)
            return self.copy(layer, layer.name, prefix, *args, **kwargs)

        return model._run_through_graph(inputs, call_fn=call)

    def part(self, block, layer, *args, **kwargs):
        """A copy of one of `block`'s sublayers, named `<block>_<sublayer>`."""
        return self.copy(layer, f"{block.name}_{layer.name}", block.name, *args, **kwargs)

    def conv_norm(self, block, conv, norm, x, training):
        return self.part(block, norm, self.part(block, conv, x), training=training)

    def activation(self, function, dtype, name: str, prefix: str, x):
        activation = keras.activations.serialize(function)
        return self.add(keras.layers.Activation, name, prefix, dtype, x, activation=activation)

    def inverted_residual(self, block: InvertedResidual, inputs, training):
        dtype = block.dtype_policy
        prefix = block.name
        x = inputs
        if block.expand is not None:
            x = self.conv_norm(block, block.expand, block.expand_norm, x, training)
            x = self.activation(block.activation, dtype, f"{prefix}_expand_act", prefix, x)
        x = self.conv_norm(block, block.depthwise, block.depthwise_norm, x, training)
        x = self.activation(block.activation, dtype, f"{prefix}_depthwise_act", prefix, x)
        if block.squeeze_excite is not None:
            x = self.squeeze_excite(block.squeeze_excite, x, prefix)
        x = self.conv_norm(block, block.project, block.project_norm, x, training)
        if not block.residual:
            return x
        if block.stochastic_depth is not None:
            return self.part(block, block.stochastic_depth, [inputs, x], training=training)
        return self.add(keras.layers.Add, f"{prefix}_add", prefix, dtype, [inputs, x])

    def squeeze_excite(self, block: SqueezeExcite, inputs, prefix: str):
        dtype = block.dtype_policy
        rank = len(inputs.shape)
        pooled = self.add(_GLOBAL_POOLING[rank], f"{prefix}_se_pool", prefix, dtype, inputs)
        gate = pooled
        # Dense and its activation as two layers, so the Dense quantizes whatever the activation.
        for dense, act in (
            (block.squeeze, f"{prefix}_se_act"),
            (block.excite, f"{prefix}_se_gate"),
        ):
            config = {**dense.get_config(), "activation": None}
            config["name"] = self.unique(f"{prefix}_se_{dense.name}", prefix)
            linear = keras.layers.Dense.from_config(config)
            gate = linear(gate)
            linear.set_weights(dense.get_weights())
            gate = self.activation(dense.activation, dtype, act, prefix, gate)
        shape = (1,) * (rank - 2) + (inputs.shape[-1],)
        gate = self.add(
            keras.layers.Reshape, f"{prefix}_se_reshape", prefix, dtype, gate, target_shape=shape
        )
        return self.add(keras.layers.Multiply, f"{prefix}_se_scale", prefix, dtype, [inputs, gate])


def flatten_model(model: keras.Model) -> keras.Model:
    """Returns a copy of a Functional model with nested models and composite blocks expanded.

    Nested Functional and Sequential models are inlined; `InvertedResidual` becomes its
    Conv2D / BatchNormalization / Activation / DepthwiseConv2D / Add layers and `SqueezeExcite`
    its pooling / Dense / Activation / Reshape / Multiply layers. Every layer of the copy is new
    (the original model is not touched) and holds the original's weights, so both compute the
    same outputs. Layer names are kept where they are unique; an inlined layer whose name is
    taken is prefixed with its block's or model's name.

    Args:
        model: a built Sequential or Functional model.

    Returns:
        A new Functional model of plain layers with the same inputs and outputs.

    Example:

    ```python
    flat = flatten_model(zoo.create("mobilenet_v2_050_32"))
    [layer.name for layer in flat.layers][:4]  # images, stem_conv, stem_bn, stem_act
    ```
    """
    graph = model._functional if isinstance(model, keras.Sequential) else model
    builder = _Builder()
    inputs = keras.tree.map_structure(
        lambda t: keras.Input(batch_shape=t.shape, dtype=t.dtype, name=builder.unique(t.name, "")),
        graph.input,
    )
    outputs = builder.run(graph, inputs, model.name)
    return keras.Model(inputs, outputs, name=model.name)
