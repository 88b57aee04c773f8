"""`quantize_model`: a quantization-aware training copy of a Sequential or Functional model."""

from __future__ import annotations

import keras

from layers.quantization.activation_quantizer import ActivationQuantizer
from layers.quantization.flatten import flatten_model
from layers.quantization.quantized_layers import (
    FUSABLE_ACTIVATIONS,
    QuantizedConv2D,
    QuantizedDense,
    QuantizedDepthwiseConv2D,
)
from layers.regularization import StochasticDepth

# Layers whose int8 output keeps its input's range in TFLite: no quantizer of their own.
_RANGE_PRESERVING = (
    keras.layers.MaxPooling2D,
    keras.layers.Dropout,
    keras.layers.Flatten,
    keras.layers.Reshape,
    keras.layers.ZeroPadding2D,
    keras.layers.Identity,
)
# Layers TFLite runs in int8 once their output has a range.
_INT8_OPS = (
    keras.layers.GlobalAveragePooling2D,
    keras.layers.AveragePooling2D,
    keras.layers.Add,
    keras.layers.Multiply,
    keras.layers.Concatenate,
    StochasticDepth,
    keras.layers.ReLU,
    keras.layers.Activation,
    keras.layers.Softmax,
)


def _activation_name(layer) -> str | None:
    """The layer's activation as a name TFLite can fuse, or `"other"`."""
    if isinstance(layer, keras.layers.ReLU):
        plain = layer.negative_slope == 0 and layer.threshold == 0
        if plain and layer.max_value is None:
            return "relu"
        return "relu6" if plain and layer.max_value == 6 else "other"
    activation = getattr(layer, "activation", None)
    name = None if activation is None else keras.activations.serialize(activation)
    name = name if isinstance(name, str | type(None)) else "other"
    return None if name == "linear" else (name if name in FUSABLE_ACTIVATIONS else "other")


def _consumers(model: keras.Model) -> dict[int, list]:
    """Maps `id(layer)` to the layers of `model` that take its output."""
    consumers: dict[int, list] = {}
    for layer in model.layers:
        for node in layer._inbound_nodes:
            for parent in node.parent_nodes:
                consumers.setdefault(id(parent.operation), []).append(layer)
    return consumers


def _plan_folding(model: keras.Model) -> tuple[dict[int, tuple], set[int]]:
    """Finds Conv/Dense -> BatchNormalization [-> ReLU/ReLU6] chains with no branching.

    Returns:
        `{id(linear_layer): (batch_norm or None, activation name)}` and the ids of the layers
        absorbed into a quantized layer.
    """
    consumers = _consumers(model)
    plan, absorbed = {}, set()
    linear = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)
    for layer in model.layers:
        if not isinstance(layer, linear) or type(layer) is keras.layers.SeparableConv2D:
            continue
        if isinstance(layer, keras.layers.Conv2D) and (
            layer.groups != 1 or tuple(layer.dilation_rate) != (1, 1)
        ):
            continue
        activation = _activation_name(layer)
        if activation == "other":
            continue
        tail, batch_norm = layer, None
        nxt = consumers.get(id(tail), [])
        if (
            activation is None
            and len(nxt) == 1
            and isinstance(nxt[0], keras.layers.BatchNormalization)
            and nxt[0].axis in (-1, len(layer.output.shape) - 1)
            and nxt[0].center
            and nxt[0].scale
        ):
            batch_norm = tail = nxt[0]
            absorbed.add(id(batch_norm))
            nxt = consumers.get(id(tail), [])
        if (
            activation is None
            and len(nxt) == 1
            and isinstance(nxt[0], keras.layers.ReLU | keras.layers.Activation)
            and _activation_name(nxt[0]) in ("relu", "relu6")
        ):
            activation = _activation_name(nxt[0])
            absorbed.add(id(nxt[0]))
        plan[id(layer)] = (batch_norm, activation)
    return plan, absorbed


def _quantized_layer(layer, batch_norm, activation):
    config = layer.get_config()
    common = {
        "use_bias": config["use_bias"],
        "fold_batch_norm": batch_norm is not None,
        "activation": activation,
        "name": layer.name,
    }
    if batch_norm is not None:
        common["bn_momentum"] = float(batch_norm.momentum)
        common["bn_epsilon"] = float(batch_norm.epsilon)
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        new = QuantizedDepthwiseConv2D(
            config["kernel_size"],
            config["strides"],
            config["padding"],
            config["depth_multiplier"],
            **common,
        )
    elif isinstance(layer, keras.layers.Conv2D):
        new = QuantizedConv2D(
            config["filters"], config["kernel_size"], config["strides"], config["padding"], **common
        )
    else:
        new = QuantizedDense(config["units"], **common)
    return new


def _copy_weights(new, layer, batch_norm) -> None:
    kernel = getattr(layer, "depthwise_kernel", None)
    new.kernel.assign(layer.kernel if kernel is None else kernel)
    if new.use_bias:
        new.bias.assign(layer.bias)
    if batch_norm is not None:
        new.gamma.assign(batch_norm.gamma)
        new.beta.assign(batch_norm.beta)
        new.moving_mean.assign(batch_norm.moving_mean)
        new.moving_variance.assign(batch_norm.moving_variance)


def quantize_model(model: keras.Model, activation_momentum: float = 0.99) -> keras.Model:
    """Returns a quantization-aware training copy of a Sequential or Functional model.

    The model is first flattened (`flatten_model`): nested Functional models, such as a zoo
    classifier's backbone, are inlined, and `InvertedResidual` and `SqueezeExcite` blocks are
    expanded into their convolutions, batch norms, activations and adds, so each of them is
    quantized and folded like a plain layer and every int8 tensor TFLite will hold gets its range.
    Conv2D, DepthwiseConv2D and Dense layers become `QuantizedConv2D`, `QuantizedDepthwiseConv2D`
    and `QuantizedDense` (int8 weights, symmetric, per output channel). A BatchNormalization that
    is the only consumer of such a layer is folded into it, and a following ReLU/ReLU6 is fused,
    matching what TFLite runs. An `ActivationQuantizer` (asymmetric int8, one moving-average range
    per tensor) follows the model inputs and every layer whose output range TFLite needs;
    max pooling, dropout, flatten, reshape and padding keep their input's range. Layers of any
    other kind are left in float and named in the returned model's `float_layers` attribute;
    converting such a model to a fully integer TFLite model needs representative data for them.

    The float model's weights (and batch-norm statistics) are copied, so QAT fine-tunes from them.
    Compile the returned model before `fit`.

    Args:
        model: a built Sequential or Functional Keras model.
        activation_momentum: moving-average decay of the activation ranges. Defaults to `0.99`.

    Returns:
        A new Functional model.

    Example:

    ```python
    qat = quantize_model(float_model)
    qat.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    qat.fit(x, y, epochs=2)
    tflite_bytes = serving.to_tflite(qat, quantize="int8")
    ```

    Reference:
        Jacob et al., "Quantization and Training of Neural Networks for Efficient
        Integer-Arithmetic-Only Inference", CVPR 2018. https://arxiv.org/abs/1712.05877
    """
    if not isinstance(model, keras.Model) or not hasattr(model, "inputs") or not model.built:
        raise TypeError(
            "`model` must be a built Sequential or Functional keras.Model. "
            f"Received: model={model!r}"
        )
    try:
        graph = flatten_model(model)
    except (AttributeError, ValueError, TypeError) as error:
        raise TypeError(
            "`model` must be a Sequential or Functional keras.Model (a subclassed model has no "
            f"graph to rewrite). Received: model={model!r}"
        ) from error
    plan, absorbed = _plan_folding(graph)
    originals: dict[int, keras.layers.Layer] = {}
    float_layers: list[str] = []

    def clone(layer):
        if id(layer) in plan:
            new = _quantized_layer(layer, *plan[id(layer)])
            originals[id(new)] = (layer, plan[id(layer)][0])
            return new
        if id(layer) in absorbed:
            return keras.layers.Identity(name=layer.name)
        if not isinstance(layer, _RANGE_PRESERVING + _INT8_OPS):
            float_layers.append(layer.name)
        return layer.__class__.from_config(layer.get_config())

    inputs = keras.tree.map_structure(
        lambda t: keras.Input(batch_shape=t.shape, dtype=t.dtype, name=t.name), graph.input
    )
    quantized_inputs = {
        id(t): ActivationQuantizer(activation_momentum, name=f"quantize_{t.name}")(t)
        for t in keras.tree.flatten(inputs)
    }

    def call(layer, *args, **kwargs):
        args = keras.tree.map_structure(lambda t: quantized_inputs.get(id(t), t), args)
        if isinstance(layer, keras.layers.Identity):
            return args[0]
        output = layer(*args, **kwargs)
        if isinstance(layer, _RANGE_PRESERVING):
            return output
        return ActivationQuantizer(activation_momentum, name=f"{layer.name}_quantize")(output)

    quantized = keras.models.clone_model(
        graph,
        input_tensors=inputs,
        clone_function=clone,
        call_function=call,
    )
    for layer in quantized.layers:
        if id(layer) in originals:
            _copy_weights(layer, *originals[id(layer)])
    for source in graph.layers:
        if id(source) in plan or id(source) in absorbed or not source.weights:
            continue
        quantized.get_layer(source.name).set_weights(source.get_weights())
    quantized.float_layers = float_layers
    return quantized
