"""Quantization-aware training: fake-quant numbers, BN folding, harness checks, quantize_model."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.convolution import InvertedResidual, SqueezeExcite
from layers.quantization import (
    ActivationQuantizer,
    QuantizedConv2D,
    QuantizedDense,
    QuantizedDepthwiseConv2D,
    fake_quant_per_channel,
    fake_quant_symmetric,
    flatten_model,
    quantize_model,
)
from tests import harness

RNG = np.random.default_rng(0)


def numpy_symmetric_int8(w, bound):
    """Jacob et al. 2018, eq. 1 with zero point 0 and the narrow grid [-127, 127]."""
    scale = bound / 127.0
    return np.clip(np.round(w / scale), -127, 127) * scale


def test_per_channel_weights_match_numpy():
    kernel = RNG.normal(size=(3, 3, 2, 4)).astype("float32")
    got = fake_quant_per_channel(tf.constant(kernel)).numpy()
    bound = np.abs(kernel).reshape(-1, 4).max(axis=0)
    np.testing.assert_allclose(got, numpy_symmetric_int8(kernel, bound), atol=1e-6)
    # Each channel uses at most 255 levels and hits its own maximum exactly.
    for c in range(4):
        assert len(np.unique(got[..., c])) <= 255
        np.testing.assert_allclose(np.abs(got[..., c]).max(), bound[c], rtol=1e-6)


def test_per_tensor_weights_and_straight_through_gradient():
    kernel = tf.constant([[0.5, -1.27], [0.004, 0.006]])
    with tf.GradientTape() as tape:
        tape.watch(kernel)
        out = fake_quant_symmetric(kernel)
    np.testing.assert_allclose(out.numpy(), [[0.5, -1.27], [0.0, 0.01]], atol=1e-6)
    np.testing.assert_allclose(tape.gradient(out, kernel).numpy(), np.ones((2, 2)))


def test_activation_ranges_follow_moving_average():
    layer = ActivationQuantizer(momentum=0.5)
    layer(np.array([[-1.0, 3.0]], "float32"), training=True)  # the first batch sets the range
    np.testing.assert_allclose([layer.range_min.numpy(), layer.range_max.numpy()], [-1.0, 3.0])
    layer(np.array([[1.0, 5.0]], "float32"), training=True)  # min clipped to 0, then averaged
    np.testing.assert_allclose([layer.range_min.numpy(), layer.range_max.numpy()], [-0.5, 4.0])
    # Inference: 256 levels over [-0.5, 4.0] (nudged so 0 is exact); out-of-range values clip.
    out = layer(np.array([[10.0, -3.0, 0.0]], "float32")).numpy()
    scale = 4.5 / 255
    np.testing.assert_allclose(out, [[4.0, -0.5, 0.0]], atol=scale)
    assert out[0, 2] == 0.0


def test_activation_quantizer_harness():
    harness.run_layer_test(ActivationQuantizer, {"momentum": 0.9}, RNG.normal(size=(4, 6)))


@pytest.mark.parametrize(
    "cls, kwargs, shape",
    [
        (
            QuantizedConv2D,
            {
                "filters": 4,
                "kernel_size": (3, 3),
                "padding": "same",
                "fold_batch_norm": True,
                "activation": "relu",
                "use_bias": False,
            },
            (2, 5, 5, 3),
        ),
        (
            QuantizedDepthwiseConv2D,
            {
                "kernel_size": (3, 3),
                "strides": (2, 2),
                "depth_multiplier": 2,
                "fold_batch_norm": True,
                "activation": "relu6",
            },
            (2, 5, 5, 3),
        ),
        (QuantizedDense, {"units": 4, "bn_momentum": 0.9}, (4, 6)),
    ],
)
def test_quantized_layers_harness(cls, kwargs, shape):
    harness.run_layer_test(cls, kwargs, RNG.normal(size=shape).astype("float32"), atol=1e-4)


def test_folded_conv_matches_numpy_fold_of_conv_and_batch_norm():
    x = RNG.normal(size=(2, 4, 4, 2)).astype("float32")
    conv = keras.layers.Conv2D(3, 3, padding="same", use_bias=True)
    bn = keras.layers.BatchNormalization(epsilon=1e-3)
    float_out = bn(conv(x), training=False)
    for v, value in zip(
        bn.weights,
        [RNG.uniform(0.5, 2, 3), RNG.normal(size=3), RNG.normal(size=3), RNG.uniform(0.5, 2, 3)],
        strict=True,
    ):
        v.assign(value.astype("float32"))
    float_out = bn(conv(x), training=False).numpy()
    layer = QuantizedConv2D(3, 3, padding="same", fold_batch_norm=True, bn_epsilon=1e-3)
    layer.build(x.shape)
    for name, value in [
        ("kernel", conv.kernel),
        ("bias", conv.bias),
        ("gamma", bn.gamma),
        ("beta", bn.beta),
        ("moving_mean", bn.moving_mean),
        ("moving_variance", bn.moving_variance),
    ]:
        getattr(layer, name).assign(value)
    got = layer(x).numpy()
    # NumPy reference of the fold: w * s quantized per channel, bias beta + (b - mean) * s.
    s = bn.gamma.numpy() / np.sqrt(bn.moving_variance.numpy() + 1e-3)
    w = numpy_symmetric_int8(
        conv.kernel.numpy() * s, np.abs(conv.kernel.numpy() * s).reshape(-1, 3).max(0)
    )
    b = bn.beta.numpy() + (conv.bias.numpy() - bn.moving_mean.numpy()) * s
    expected = tf.nn.conv2d(x, w, 1, "SAME").numpy() + b
    np.testing.assert_allclose(got, expected, atol=1e-5)
    # And the fold is the float conv + BN up to int8 weight rounding.
    np.testing.assert_allclose(got, float_out, atol=0.05)


def test_training_fold_updates_moving_statistics_from_batch():
    x = RNG.normal(2.0, 1.0, size=(8, 4, 4, 2)).astype("float32")
    layer = QuantizedConv2D(3, 1, fold_batch_norm=True, bn_momentum=0.0)
    layer(x, training=True)
    float_out = np.einsum("nhwc,cf->nhwf", x, layer.kernel.numpy()[0, 0]) + layer.bias.numpy()
    np.testing.assert_allclose(layer.moving_mean.numpy(), float_out.mean((0, 1, 2)), rtol=1e-4)
    np.testing.assert_allclose(layer.moving_variance.numpy(), float_out.var((0, 1, 2)), rtol=1e-3)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="activation='swish'"):
        QuantizedDense(4, activation="swish")
    with pytest.raises(ValueError, match="filters=0"):
        QuantizedConv2D(0)
    with pytest.raises(ValueError, match="momentum=1.5"):
        ActivationQuantizer(momentum=1.5)
    with pytest.raises(TypeError, match="model="):
        quantize_model("not a model")


def tiny_cnn():
    inputs = keras.Input((8, 8, 1), name="images")
    x = keras.layers.Conv2D(4, 3, padding="same", use_bias=False, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Activation("relu", name="act")(x)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.Dense(3, name="logits")(x)
    return keras.Model(inputs, x)


def mobilenet_v2_style():
    """Stem, one inverted residual block (expand, depthwise, linear project, add) and head."""
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU(6.0)(x)
    h = keras.layers.Conv2D(16, 1, use_bias=False)(x)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.ReLU(6.0)(h)
    h = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False)(h)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.ReLU(6.0)(h)
    h = keras.layers.Conv2D(8, 1, use_bias=False)(h)
    h = keras.layers.BatchNormalization()(h)
    x = keras.layers.Add()([x, h])
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(3)(x))


def test_quantize_model_folds_and_reproduces_float_model():
    model = tiny_cnn()
    x = RNG.uniform(size=(16, 8, 8, 1)).astype("float32")
    model(x, training=True)  # non-trivial BN statistics are not needed; weights are copied
    qat = quantize_model(model)
    names = [type(layer).__name__ for layer in qat.layers]
    assert "BatchNormalization" not in names and "Activation" not in names
    assert qat.float_layers == []
    assert qat.get_layer("conv").fold_batch_norm and qat.get_layer("conv").activation == "relu"
    # Calibrate the ranges with one training-mode pass; then QAT output ~ float output.
    qat(x, training=True)
    np.testing.assert_allclose(qat(x).numpy(), model(x).numpy(), atol=0.05)


def test_quantize_model_mobilenet_style_fit_and_keras_round_trip():
    model = mobilenet_v2_style()
    qat = quantize_model(model)
    types = [type(layer).__name__ for layer in qat.layers]
    assert types.count("QuantizedConv2D") == 3 and types.count("QuantizedDepthwiseConv2D") == 1
    assert "BatchNormalization" not in types and "ReLU" not in types
    x = RNG.uniform(size=(16, 8, 8, 3)).astype("float32")
    y = RNG.integers(0, 3, 16)
    qat.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = qat.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    with harness.temporary_path("qat.keras") as path:
        qat.save(path)
        loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), qat.predict(x, verbose=0), atol=1e-6)


def test_unsupported_layers_are_left_float_and_listed():
    inputs = keras.Input((6,))
    x = keras.layers.Dense(4, activation="swish", name="swish_dense")(inputs)
    x = keras.layers.LayerNormalization(name="norm")(x)
    qat = quantize_model(keras.Model(inputs, keras.layers.Dense(2)(x)))
    assert qat.float_layers == ["swish_dense", "norm"]
    assert isinstance(qat.get_layer("swish_dense"), keras.layers.Dense)


def squeeze_excite_blocks_model():
    """A nested Functional model of inverted residual blocks with SE and stochastic depth."""
    inner_in = keras.Input((4, 4, 8))
    h = InvertedResidual(8, expansion=2, se_ratio=0.5, survival_probability=0.5, name="ir")(
        inner_in
    )
    h = SqueezeExcite(squeeze_channels=2, gate_activation="hard_sigmoid", name="se")(h)
    inner = keras.Model(inner_in, {"features": h}, name="inner")
    inputs = keras.Input((4, 4, 8), name="images")
    x = inner(inputs)["features"]
    x = InvertedResidual(4, expansion=1, strides=2, activation="hard_swish", name="down")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="logits")(x))


def test_flatten_model_expands_blocks_with_the_same_outputs():
    model = squeeze_excite_blocks_model()
    x = RNG.normal(size=(4, 4, 4, 8)).astype("float32")
    model(x, training=True)  # move the batch-norm statistics away from their initial values
    inbound = [len(layer._inbound_nodes) for layer in model.layers]
    flat = flatten_model(model)
    assert [len(layer._inbound_nodes) for layer in model.layers] == inbound  # untouched
    names = [layer.name for layer in flat.layers]
    assert "inner" not in names and "ir" not in names and "down" not in names
    for name in [
        "ir_expand",
        "ir_expand_norm",
        "ir_depthwise_norm",
        "ir_se_squeeze",
        "ir_se_gate",
        "ir_stochastic_depth",
        "se_se_scale",
        "down_depthwise_act",
    ]:
        assert name in names
    assert "down_expand" not in names and "down_add" not in names  # expansion 1, stride 2
    np.testing.assert_allclose(flat(x).numpy(), model(x).numpy(), atol=1e-5)


def test_quantize_model_leaves_no_block_float():
    qat = quantize_model(squeeze_excite_blocks_model())
    assert qat.float_layers == []
    types = [type(layer).__name__ for layer in qat.layers]
    # expand, project, 2 SE dense (ir), 2 SE dense (se), project (down), logits.
    assert types.count("QuantizedConv2D") == 3 and types.count("QuantizedDense") == 5
    assert types.count("QuantizedDepthwiseConv2D") == 2
    assert "BatchNormalization" not in types
