"""Convolution layers: harness checks and references written from the papers."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.convolution import (
    DeformableConv2D,
    InvertedResidual,
    SqueezeExcite,
    WSConv2D,
    deform_conv2d,
)
from tests import harness

RNG = np.random.default_rng(0)
IMAGES = RNG.normal(size=(2, 6, 6, 4)).astype("float32")


# --------------------------------------------------------------------------------------------
# DeformableConv2D
# --------------------------------------------------------------------------------------------


def numpy_deform_conv(x, offsets, mask, kernel, strides, padding, dilation):
    """The paper's y(p) = sum_k w_k * m_k * x(p0 + p_k + dp_k), with the bilinear kernel
    x(p) = sum_q max(0, 1 - |q_y - p_y|) * max(0, 1 - |q_x - p_x|) * x(q) over the whole map."""
    batch, height, width, channels = x.shape
    kh, kw, _, filters = kernel.shape
    taps = kh * kw
    out_h, out_w = offsets.shape[1:3]
    groups = offsets.shape[-1] // (2 * taps)
    per_group = channels // groups
    if padding == "same":
        top = max((out_h - 1) * strides[0] + (kh - 1) * dilation[0] + 1 - height, 0) // 2
        left = max((out_w - 1) * strides[1] + (kw - 1) * dilation[1] + 1 - width, 0) // 2
    else:
        top = left = 0
    out = np.zeros((batch, out_h, out_w, filters))
    for b in range(batch):
        for i in range(out_h):
            for j in range(out_w):
                for ki in range(kh):
                    for kj in range(kw):
                        k = ki * kw + kj
                        for g in range(groups):
                            dy, dx = offsets[b, i, j, 2 * (g * taps + k) : 2 * (g * taps + k) + 2]
                            py = i * strides[0] - top + ki * dilation[0] + dy
                            px = j * strides[1] - left + kj * dilation[1] + dx
                            wy = np.maximum(0.0, 1.0 - np.abs(np.arange(height) - py))
                            wx = np.maximum(0.0, 1.0 - np.abs(np.arange(width) - px))
                            chans = slice(g * per_group, (g + 1) * per_group)
                            value = np.einsum("h,w,hwc->c", wy, wx, x[b, :, :, chans])
                            m = 1.0 if mask is None else mask[b, i, j, g * taps + k]
                            out[b, i, j] += m * value @ kernel[ki, kj, chans]
    return out


def test_deformable_conv_harness():
    harness.run_layer_test(
        DeformableConv2D,
        {"filters": 5, "kernel_size": (3, 3), "padding": "same", "offset_groups": 2},
        IMAGES,
        expected_output_shape=(2, 6, 6, 5),
        atol=1e-4,
        rtol=1e-4,
    )


def test_deformable_conv_unmodulated_harness_with_strides():
    # The mixed-precision and distributed paths are the modulated test's; this one adds the
    # config, XLA and save/load paths of a layer without `mask_conv`, strided and non-square.
    harness.run_layer_test(
        DeformableConv2D,
        {"filters": 3, "kernel_size": (2, 3), "strides": (2, 2), "modulated": False},
        IMAGES,
        expected_output_shape=(2, 3, 2, 3),
        run_mixed_precision=False,
        run_distributed=False,
        atol=1e-4,
        rtol=1e-4,
    )


@pytest.mark.parametrize(
    "kernel_size, strides, padding, dilation",
    [
        ((3, 3), (1, 1), "valid", (1, 1)),
        ((3, 3), (2, 2), "same", (1, 1)),
        ((2, 3), (1, 2), "same", (1, 1)),
        ((3, 2), (1, 1), "same", (2, 1)),
        ((1, 1), (2, 1), "valid", (1, 1)),
    ],
)
def test_zero_offsets_unit_mask_is_plain_conv(kernel_size, strides, padding, dilation):
    x = RNG.normal(size=(2, 7, 6, 4)).astype("float32")
    conv = keras.layers.Conv2D(
        5, kernel_size, strides=strides, padding=padding, dilation_rate=dilation, use_bias=False
    )
    expected = conv(x)
    out_h, out_w = expected.shape[1:3]
    taps = kernel_size[0] * kernel_size[1]
    offsets = np.zeros((2, out_h, out_w, 2 * 2 * taps), "float32")
    mask = np.ones((2, out_h, out_w, 2 * taps), "float32")
    got = deform_conv2d(x, offsets, conv.kernel, mask, strides, padding, dilation)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_fresh_layer_is_a_conv2d_with_the_same_kernel():
    plain = DeformableConv2D(5, (3, 3), padding="same", modulated=False)
    modulated = DeformableConv2D(5, (3, 3), padding="same", use_bias=False)
    plain.build(IMAGES.shape)
    modulated.build(IMAGES.shape)
    conv = keras.layers.Conv2D(5, 3, padding="same")
    conv.build(IMAGES.shape)
    conv.set_weights([plain.kernel.numpy(), RNG.normal(size=5).astype("float32")])
    plain.bias.assign(conv.bias)
    np.testing.assert_allclose(plain(IMAGES), conv(IMAGES), atol=1e-5)
    # DCNv2's mask is sigmoid(0) = 0.5 at initialisation.
    unbiased = keras.ops.conv(IMAGES, modulated.kernel, padding="same")
    np.testing.assert_allclose(modulated(IMAGES), 0.5 * unbiased, atol=1e-5)


@pytest.mark.parametrize(
    "strides, padding, dilation, groups",
    [((1, 1), "same", (1, 1), 1), ((2, 1), "same", (1, 2), 2), ((1, 1), "valid", (1, 1), 4)],
)
def test_random_offsets_match_numpy_reference(strides, padding, dilation, groups):
    x = RNG.normal(size=(2, 5, 6, 4)).astype("float32")
    kernel = RNG.normal(size=(3, 3, 4, 3)).astype("float32")
    # keras's conv refuses strides and dilation together; the deformable sampler does not.
    if padding == "same":
        out_hw = [-(-n // s) for n, s in zip((5, 6), strides, strict=True)]
    else:
        out_hw = [
            (n - 2 * d - 1) // s + 1 for n, s, d in zip((5, 6), strides, dilation, strict=True)
        ]
    out_shape = (2, *out_hw)
    # Offsets up to +-3 pixels: fractional positions, and some fully or partly off the map.
    offsets = RNG.uniform(-3, 3, size=(*out_shape[:3], 2 * groups * 9)).astype("float32")
    mask = RNG.uniform(0, 1, size=(*out_shape[:3], groups * 9)).astype("float32")
    expected = numpy_deform_conv(x, offsets, mask, kernel, strides, padding, dilation)
    got = deform_conv2d(x, offsets, kernel, mask, strides, padding, dilation)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)
    xla = tf.function(
        lambda a, o, m: deform_conv2d(a, o, kernel, m, strides, padding, dilation),
        jit_compile=True,
    )
    np.testing.assert_allclose(xla(x, offsets, mask), expected, atol=1e-4, rtol=1e-4)


def test_layer_uses_predicted_offsets_and_masks():
    layer = DeformableConv2D(3, (3, 3), strides=(2, 2), padding="same", offset_groups=2)
    layer.build(IMAGES.shape)
    for conv in (layer.offset_conv, layer.mask_conv):
        conv.set_weights([0.3 * RNG.normal(size=w.shape).astype("float32") for w in conv.weights])
    offsets = keras.ops.convert_to_numpy(layer.offset_conv(IMAGES))
    mask = keras.ops.convert_to_numpy(keras.ops.sigmoid(layer.mask_conv(IMAGES)))
    assert np.abs(offsets).max() > 0.5
    expected = (
        numpy_deform_conv(IMAGES, offsets, mask, layer.kernel.numpy(), (2, 2), "same", (1, 1))
        + layer.bias.numpy()
    )
    np.testing.assert_allclose(layer(IMAGES), expected, atol=1e-4, rtol=1e-4)


def test_offset_branch_receives_gradients_at_zero_offsets():
    layer = DeformableConv2D(3, (3, 3), padding="same")
    x = tf.constant(IMAGES)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) ** 2)
    grads = tape.gradient(loss, layer.offset_conv.trainable_weights)
    assert all(np.abs(g.numpy()).max() > 0 for g in grads)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"filters": 0, "kernel_size": 3}, "filters=0"),
        ({"filters": 2, "kernel_size": (3, 0)}, r"kernel_size=\(3, 0\)"),
        ({"filters": 2, "kernel_size": 3, "padding": "causal"}, "padding='causal'"),
        ({"filters": 2, "kernel_size": 3, "offset_groups": 0}, "offset_groups=0"),
    ],
)
def test_deformable_conv_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DeformableConv2D(**kwargs)


def test_deformable_conv_offset_groups_must_divide_channels():
    with pytest.raises(ValueError, match="offset_groups=3"):
        DeformableConv2D(2, 3, offset_groups=3)(IMAGES)


# --------------------------------------------------------------------------------------------
# SqueezeExcite
# --------------------------------------------------------------------------------------------


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_squeeze_excite_harness():
    harness.run_layer_test(
        SqueezeExcite, {"reduction": 2}, IMAGES, expected_output_shape=IMAGES.shape
    )


@pytest.mark.parametrize("shape", [(2, 5, 32), (2, 4, 3, 32), (2, 2, 3, 2, 32)])
def test_squeeze_excite_matches_numpy_reference(shape):
    x = RNG.normal(size=shape).astype("float32")
    layer = SqueezeExcite(reduction=16)
    out = layer(x)
    w1, b1, w2, b2 = (w.numpy() for w in layer.weights)
    assert w1.shape == (32, 2)  # 32 channels // reduction 16
    squeezed = x.mean(axis=tuple(range(1, len(shape) - 1)))
    gate = sigmoid(np.maximum(squeezed @ w1 + b1, 0.0) @ w2 + b2)
    expected = x * gate.reshape((shape[0],) + (1,) * (len(shape) - 2) + (32,))
    np.testing.assert_allclose(out, expected, atol=1e-5, rtol=1e-5)


def test_squeeze_channels_overrides_reduction():
    layer = SqueezeExcite(squeeze_channels=3)
    layer(IMAGES)
    assert layer.squeeze.kernel.shape == (4, 3)


def test_squeeze_excite_rejects_bad_arguments():
    with pytest.raises(ValueError, match="reduction=0"):
        SqueezeExcite(reduction=0)
    with pytest.raises(ValueError, match="squeeze_channels=-1"):
        SqueezeExcite(squeeze_channels=-1)


# --------------------------------------------------------------------------------------------
# InvertedResidual
# --------------------------------------------------------------------------------------------


def numpy_depthwise_same(x, kernel, stride):
    batch, height, width, channels = x.shape
    kh, kw = kernel.shape[:2]
    out_h, out_w = -(-height // stride), -(-width // stride)
    top = max((out_h - 1) * stride + kh - height, 0) // 2
    left = max((out_w - 1) * stride + kw - width, 0) // 2
    padded = np.zeros((batch, height + kh, width + kw, channels))
    padded[:, top : top + height, left : left + width] = x
    out = np.zeros((batch, out_h, out_w, channels))
    for i in range(out_h):
        for j in range(out_w):
            window = padded[:, i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[:, i, j] = np.einsum("bhwc,hwc->bc", window, kernel[..., 0])
    return out


def numpy_batch_norm(x, norm):
    gamma, beta, mean, var = (w.numpy() for w in norm.weights)
    return (x - mean) / np.sqrt(var + norm.epsilon) * gamma + beta


def randomise_batch_norms(layer):
    for sub in layer._flatten_layers(include_self=False, recursive=True):
        if isinstance(sub, keras.layers.BatchNormalization):
            sub.gamma.assign(RNG.uniform(0.5, 1.5, size=sub.gamma.shape))
            sub.beta.assign(RNG.normal(size=sub.beta.shape))
            sub.moving_mean.assign(RNG.normal(size=sub.moving_mean.shape))
            sub.moving_variance.assign(RNG.uniform(0.5, 2.0, size=sub.moving_variance.shape))


def numpy_inverted_residual(layer, x, stride, residual):
    relu6 = lambda v: np.clip(v, 0.0, 6.0)  # noqa: E731
    h = relu6(numpy_batch_norm(x @ layer.expand.kernel.numpy()[0, 0], layer.expand_norm))
    h = numpy_depthwise_same(h, layer.depthwise.kernel.numpy(), stride)
    h = relu6(numpy_batch_norm(h, layer.depthwise_norm))
    if layer.squeeze_excite is not None:
        w1, b1, w2, b2 = (w.numpy() for w in layer.squeeze_excite.weights)
        gate = sigmoid(np.maximum(h.mean(axis=(1, 2)) @ w1 + b1, 0.0) @ w2 + b2)
        h = h * gate[:, None, None, :]
    h = numpy_batch_norm(h @ layer.project.kernel.numpy()[0, 0], layer.project_norm)
    return x + h if residual else h


def test_inverted_residual_harness():
    # Eight samples: with two, the one-step fit can drop every residual branch and leave the
    # weights untouched.
    images = RNG.normal(size=(8, 6, 6, 4)).astype("float32")
    harness.run_layer_test(
        InvertedResidual,
        {"filters": 4, "expansion": 2, "se_ratio": 0.5, "survival_probability": 0.8},
        images,
        expected_output_shape=images.shape,
        atol=1e-4,
        rtol=1e-4,
    )


@pytest.mark.parametrize(
    "filters, stride, se_ratio, residual",
    [(4, 1, 0.25, True), (4, 2, None, False), (6, 1, 0.5, False)],
)
def test_inverted_residual_matches_numpy_reference(filters, stride, se_ratio, residual):
    layer = InvertedResidual(filters, expansion=3, strides=stride, se_ratio=se_ratio)
    layer.build(IMAGES.shape)
    randomise_batch_norms(layer)
    assert layer.residual is residual
    expected = numpy_inverted_residual(layer, IMAGES.astype("float64"), stride, residual)
    np.testing.assert_allclose(layer(IMAGES, training=False), expected, atol=1e-4, rtol=1e-4)
    if se_ratio is not None:
        assert layer.squeeze_excite.squeeze.kernel.shape[-1] == max(1, int(4 * se_ratio))


def test_expansion_one_has_no_expand_convolution():
    layer = InvertedResidual(4, expansion=1)
    layer(IMAGES)
    assert layer.expand is None
    assert [w.name for w in layer.weights if "kernel" in w.name] == ["kernel", "kernel"]


def test_stochastic_depth_drops_whole_branches_while_training():
    x = RNG.normal(size=(64, 4, 4, 4)).astype("float32")
    layer = InvertedResidual(4, expansion=2, survival_probability=0.5)
    layer.build(x.shape)
    randomise_batch_norms(layer)
    out = keras.ops.convert_to_numpy(layer(x, training=True))
    identical = np.all(out == x, axis=(1, 2, 3))
    assert 20 <= identical.sum() <= 44  # Binomial(64, 0.5) dropped branches.
    np.testing.assert_allclose(layer(x, training=False), layer(x, training=False))


def test_inverted_residual_rejects_bad_arguments():
    with pytest.raises(ValueError, match="survival_probability=0"):
        InvertedResidual(4, survival_probability=0)
    with pytest.raises(ValueError, match="expansion=0"):
        InvertedResidual(4, expansion=0)
    with pytest.raises(ValueError, match="se_ratio=-0.5"):
        InvertedResidual(4, se_ratio=-0.5)


# --------------------------------------------------------------------------------------------
# WSConv2D
# --------------------------------------------------------------------------------------------


def test_ws_conv_harness():
    # Small inputs: the standardized kernel has unit variance, and the harness's single
    # mixed_float16 step (loss scale 2**15) is skipped when float16 gradients overflow.
    harness.run_layer_test(
        WSConv2D,
        {"filters": 3, "kernel_size": (3, 3), "padding": "same", "epsilon": 1e-4},
        IMAGES * 0.1,
        expected_output_shape=(2, 6, 6, 3),
        atol=1e-4,
        rtol=1e-4,
    )


def test_ws_conv_matches_numpy_reference():
    layer = WSConv2D(3, (3, 3), strides=(2, 2), padding="same")
    layer.build(IMAGES.shape)
    layer.bias.assign(RNG.normal(size=3))
    w = layer.kernel.numpy().astype("float64")
    mean = w.mean(axis=(0, 1, 2), keepdims=True)
    var = ((w - mean) ** 2).mean(axis=(0, 1, 2), keepdims=True)
    standardized = (w - mean) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(standardized.mean(axis=(0, 1, 2)), 0.0, atol=1e-6)
    np.testing.assert_allclose(standardized.var(axis=(0, 1, 2)), 1.0, atol=1e-3)
    expected = keras.ops.conv(IMAGES, standardized.astype("float32"), 2, "same") + layer.bias
    np.testing.assert_allclose(layer(IMAGES), expected, atol=1e-5, rtol=1e-5)


def test_ws_conv_ignores_per_channel_affine_changes_of_the_kernel():
    layer = WSConv2D(3, (3, 3), use_bias=False)
    before = keras.ops.convert_to_numpy(layer(IMAGES))
    layer.kernel.assign(layer.kernel * np.array([2.0, 0.5, 3.0]) + np.array([1.0, -2.0, 0.3]))
    np.testing.assert_allclose(layer(IMAGES), before, atol=1e-3, rtol=1e-3)


def test_ws_conv_rejects_bad_epsilon():
    with pytest.raises(ValueError, match="epsilon=0"):
        WSConv2D(3, 3, epsilon=0)
