"""`layers.image` in graphs: inside `tf.function` with unknown batch and image sizes, in a
`tf.data` map, in a reloaded SavedModel (and a Keras model), and gradients where TFA has them."""

import os
import tempfile

import keras
import numpy as np
import pytest
import tensorflow as tf

import layers.image as img

RNG = np.random.default_rng(7)
IMAGES = RNG.uniform(0, 1, size=(2, 8, 9, 3)).astype("float32")
FLOW = RNG.normal(size=(2, 8, 9, 2)).astype("float32")
BINARY = (RNG.random((2, 8, 9)) < 0.5).astype("int32")


def pipeline(images, flow, binary):
    """Every op once, on a batch whose sizes are unknown when traced."""
    uint8 = tf.cast(images * 255.0, tf.uint8)
    return {
        "mean": img.mean_filter2d(images, 3),
        "median": img.median_filter2d(images, (3, 2), padding="SYMMETRIC"),
        "gaussian": img.gaussian_filter2d(images, 5, 1.5, padding="CONSTANT"),
        "rotate": img.rotate(images, 0.3, "bilinear", "reflect"),
        "transform": img.transform(images, [1.0, 0.1, 1.0, 0.0, 1.0, -1.0, 0.0, 0.0]),
        "translate": img.translate(images, [1.0, 2.0], fill_mode="wrap"),
        "shear_x": img.shear_x(uint8[0], 0.3, 5),
        "shear_y": img.shear_y(uint8[0], 0.3, 5),
        "translate_xy": img.translate_xy(uint8[0], [1, 2], 5),
        "warp": img.dense_image_warp(images, flow),
        "bilinear": img.interpolate_bilinear(images, tf.reshape(flow, [tf.shape(flow)[0], -1, 2])),
        "resampler": img.resampler(images, flow + 2.0),
        "labels": img.connected_components(binary),
        "distance": img.euclidean_dist_transform(tf.cast(binary, tf.uint8)),
        "sharpness": img.sharpness(uint8, 1.5),
        "equalize": img.equalize(uint8),
        "blend": img.blend(uint8[0], uint8[1], 0.4),
        "hsv": img.adjust_hsv_in_yiq(images, 0.5, 1.2, 0.9),
        "cutout": img.cutout(images, 4, (2, 3)),
        "sparse": img.sparse_image_warp(
            images,
            [[[2.0, 2.0], [5.0, 6.0]]] * 2,
            [[[3.0, 2.0], [5.0, 5.0]]] * 2,
            num_boundary_points=1,
        )[0],
        "spline": img.interpolate_spline(flow[:, 0], images[:, 0], flow[:, 1], 2),
    }


SPECS = (
    tf.TensorSpec([None, None, None, 3], tf.float32),
    tf.TensorSpec([None, None, None, 2], tf.float32),
    tf.TensorSpec([None, None, None], tf.int32),
)


def assert_same(actual, expected):
    for key, value in expected.items():
        np.testing.assert_allclose(
            np.asarray(actual[key]), np.asarray(value), atol=1e-5, err_msg=key
        )


def test_tf_function_with_unknown_shapes_and_saved_model_reload():
    """One trace of every op (batch and sizes unknown), run as a graph and after a reload."""
    module = tf.Module()
    module.run = tf.function(pipeline, input_signature=SPECS)
    eager = pipeline(IMAGES, FLOW, BINARY)
    assert_same(module.run(IMAGES, FLOW, BINARY), eager)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "image_ops")
        tf.saved_model.save(module, path)
        del module
        reloaded = tf.saved_model.load(path)
        assert_same(reloaded.run(IMAGES, FLOW, BINARY), eager)


def test_tf_data_map():
    def augment(image, flow, binary):
        return (
            img.rotate(img.median_filter2d(image, 3), 0.5),
            img.dense_image_warp(image[None], flow[None])[0],
            img.connected_components(binary),
            img.random_cutout(image[None], 4, seed=1)[0],
        )

    data = tf.data.Dataset.from_tensor_slices((IMAGES, FLOW, BINARY)).map(augment).batch(2)
    rotated, warped, labels, cut = next(iter(data))
    np.testing.assert_allclose(rotated, img.rotate(img.median_filter2d(IMAGES, 3), 0.5), atol=1e-6)
    np.testing.assert_allclose(warped, img.dense_image_warp(IMAGES, FLOW), atol=1e-5)
    for i in range(2):  # per-image labels in a map restart at 1
        np.testing.assert_equal(labels[i].numpy(), img.connected_components(BINARY[i]).numpy())
    assert cut.shape == IMAGES.shape and np.sum(cut.numpy() == 0) == 2 * 16 * 3


def test_inside_a_keras_model_and_export():
    inputs = keras.Input((8, 9, 3))
    blurred = keras.layers.Lambda(lambda x: img.gaussian_filter2d(img.rotate(x, 0.2), 3))(inputs)
    model = keras.Model(inputs, blurred)
    expected = img.gaussian_filter2d(img.rotate(IMAGES, 0.2), 3)
    np.testing.assert_allclose(model(IMAGES), expected, atol=1e-6)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "export")
        model.export(path, verbose=False)
        reloaded = tf.saved_model.load(path)
        np.testing.assert_allclose(reloaded.serve(IMAGES), expected, atol=1e-6)


def test_gradients_flow_where_tfa_has_them():
    images, flow = tf.constant(IMAGES), tf.constant(FLOW)
    data = tf.constant(IMAGES)
    warp = tf.constant(RNG.uniform(0, 7, size=(2, 5, 2)).astype("float32"))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([images, flow, data, warp])
        warped = tf.reduce_sum(img.dense_image_warp(images, flow) ** 2)
        resampled = tf.reduce_sum(img.resampler(data, warp) ** 2)
        filtered = tf.reduce_sum(
            img.gaussian_filter2d(images) + img.rotate(images, 0.4, "bilinear")
        )
    for grad in tape.gradient(warped, [images, flow]) + tape.gradient(resampled, [data, warp]):
        assert grad is not None and np.isfinite(grad.numpy()).all()
    assert tape.gradient(filtered, images) is not None
    # Finite differences on the flow (away from integer positions).
    theoretical, numerical = tf.test.compute_gradient(
        lambda f: img.dense_image_warp(images[:1, :4, :4], f), [flow[:1, :4, :4] * 0.1 + 0.25]
    )
    np.testing.assert_allclose(theoretical[0], numerical[0], atol=2e-2)


def test_jit_compiled_filters_and_warp():
    # (`ImageProjectiveTransformV3`, behind `transform` / `rotate`, has no XLA kernel on CPU.)
    @tf.function(jit_compile=True)
    def compiled(images, flow):
        return (
            img.median_filter2d(images, 3),
            img.mean_filter2d(images, 3),
            img.dense_image_warp(images, flow),
        )

    out = compiled(IMAGES, FLOW)
    expected = (
        img.median_filter2d(IMAGES, 3),
        img.mean_filter2d(IMAGES, 3),
        img.dense_image_warp(IMAGES, FLOW),
    )
    for a, b in zip(out, expected, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_rank_unknown_until_run_time():
    """As TFA's `test_unknown_shape`: one trace serves 2-D, 3-D and 4-D images."""

    def ops(x):
        return (
            img.rotate(x, 0.0),
            img.transform(x, [1, 0, 0, 0, 1, 0, 0, 0]),
            img.median_filter2d(x, 3),
            img.gaussian_filter2d(x, 3),
            img.euclidean_dist_transform(tf.cast(x, tf.uint8)),
        )

    traced = tf.function(ops).get_concrete_function(tf.TensorSpec(None, tf.float32))
    for shape in [(2, 4), (2, 4, 3), (1, 2, 4, 3)]:
        image = tf.ones(shape)
        for out, expected in zip(traced(image), ops(image), strict=True):
            assert out.shape == shape
            np.testing.assert_allclose(out, expected, atol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank 2, 3 or 4"):
        traced(tf.ones((2,)))
