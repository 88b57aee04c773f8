"""`layers.image` against independent references: the expected values of TensorFlow Addons'
own tests (tensorflow/addons `tensorflow_addons/image/tests/`), and SciPy
(`scipy.ndimage.label`, `distance_transform_edt`, `median_filter`, `rotate`)."""

import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage

import layers.image as img

DTYPES = [tf.uint8, tf.int32, tf.int64, tf.float16, tf.float32, tf.float64]

# TFA's connected_components_test: one winding component.
SNAKE = np.array(
    [
        [0, 0, 0, 0, 0, 0, 0, 0, 0],
        [0, 1, 1, 1, 1, 0, 0, 0, 0],
        [0, 0, 0, 0, 1, 1, 1, 1, 0],
        [0, 0, 0, 0, 0, 0, 0, 1, 0],
        [0, 1, 1, 1, 1, 1, 1, 1, 0],
        [0, 1, 0, 0, 0, 0, 0, 0, 0],
        [0, 1, 0, 1, 1, 1, 1, 1, 0],
        [0, 1, 0, 0, 0, 0, 0, 1, 0],
        [0, 1, 1, 1, 1, 1, 1, 1, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 0],
    ]
)


def scipy_labels(images):
    """`scipy.ndimage.label` per image, ids numbered on across the batch (TFA's rule)."""
    out, offset = [], 0
    for image in images:
        labels, count = ndimage.label(image)
        out.append(np.where(labels > 0, labels + offset, 0))
        offset += count
    return np.stack(out)


def test_connected_components_tfa_expectations():
    disconnected = np.array(
        [
            [1, 0, 0, 1, 0, 0, 0, 0, 1],
            [0, 1, 0, 0, 0, 1, 0, 1, 0],
            [1, 0, 1, 0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 1, 0, 0, 0, 0],
            [0, 0, 1, 0, 0, 0, 0, 0, 0],
        ],
        bool,
    )
    expected = [
        [1, 0, 0, 2, 0, 0, 0, 0, 3],
        [0, 4, 0, 0, 0, 5, 0, 6, 0],
        [7, 0, 8, 0, 0, 0, 9, 0, 0],
        [0, 0, 0, 0, 10, 0, 0, 0, 0],
        [0, 0, 11, 0, 0, 0, 0, 0, 0],
    ]
    np.testing.assert_equal(img.connected_components(disconnected).numpy(), expected)
    np.testing.assert_equal(img.connected_components(SNAKE.astype(bool)).numpy(), SNAKE)
    images = np.array(
        [
            [[1, 1, 1, 1], [1, 0, 0, 1], [1, 0, 0, 1], [1, 1, 1, 1]],
            [[1, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 1]],
            [[1, 1, 0, 1], [0, 1, 1, 0], [1, 0, 1, 0], [0, 0, 1, 1]],
        ],
        bool,
    )
    expected = [
        [[1, 1, 1, 1], [1, 0, 0, 1], [1, 0, 0, 1], [1, 1, 1, 1]],
        [[2, 0, 0, 3], [0, 0, 0, 0], [0, 0, 0, 0], [4, 0, 0, 5]],
        [[6, 6, 0, 7], [0, 6, 6, 0], [8, 0, 6, 0], [0, 0, 6, 6]],
    ]
    np.testing.assert_equal(img.connected_components(images).numpy(), expected)
    ones = img.connected_components(tf.ones((4, 5, 6), tf.bool)).numpy()
    np.testing.assert_equal(ones, np.tile(np.arange(1, 5)[:, None, None], [1, 5, 6]))
    np.testing.assert_equal(img.connected_components(tf.zeros((2, 3, 4))).numpy(), 0)


def test_connected_components_snake_cut_anywhere_gives_two():
    for i, j in zip(*np.nonzero(SNAKE), strict=True):
        if (i, j) in [(1, 1), (6, 3)]:  # the two ends
            continue
        cut = SNAKE.copy()
        cut[i, j] = 0
        assert img.connected_components(cut).numpy().max() == 2


@pytest.mark.parametrize("density", [0.3, 0.55, 0.8])
def test_connected_components_matches_scipy_label(density):
    rng = np.random.default_rng(int(density * 10))
    images = rng.random((3, 40, 50)) < density
    np.testing.assert_equal(img.connected_components(images).numpy(), scipy_labels(images))


def test_euclidean_dist_transform_matches_scipy():
    rng = np.random.default_rng(1)
    images = (rng.random((2, 17, 23, 2)) < 0.9).astype("uint8")
    out = img.euclidean_dist_transform(images, tf.float64).numpy()
    for b in range(2):
        for c in range(2):
            expected = ndimage.distance_transform_edt(images[b, :, :, c])
            np.testing.assert_allclose(out[b, :, :, c], expected, rtol=1e-12)
    # TFA's distance_transform_test: a single zero in the middle of a 5x5 image.
    single = np.ones((5, 5), "uint8")
    single[2, 2] = 0
    expected = np.sqrt(np.add.outer((np.arange(5) - 2) ** 2, (np.arange(5) - 2) ** 2))
    np.testing.assert_allclose(img.euclidean_dist_transform(single).numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "padding, mode", [("REFLECT", "mirror"), ("SYMMETRIC", "reflect"), ("CONSTANT", "constant")]
)
def test_median_filter2d_matches_scipy(padding, mode):
    rng = np.random.default_rng(2)
    image = rng.normal(size=(11, 13)).astype("float32")
    for size in [(3, 3), (5, 3), (1, 7)]:
        out = img.median_filter2d(image, size, padding=padding, constant_values=0.25).numpy()
        expected = ndimage.median_filter(image, size=size, mode=mode, cval=0.25)
        np.testing.assert_allclose(out, expected)


@pytest.mark.parametrize("padding, mode", [("REFLECT", "mirror"), ("SYMMETRIC", "reflect")])
def test_mean_filter2d_matches_scipy(padding, mode):
    image = np.random.default_rng(3).normal(size=(2, 9, 10, 3))
    out = img.mean_filter2d(image, 5, padding=padding).numpy()
    expected = ndimage.uniform_filter(image, size=(1, 5, 5, 1), mode=mode)
    np.testing.assert_allclose(out, expected, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_rotate_tfa_expectations(dtype):
    image = tf.reshape(tf.cast(tf.range(25), dtype), (5, 5))
    batch = tf.tile(image[None, :, :, None], [3, 1, 1, 1])
    out = img.rotate(batch, tf.constant([np.pi / 4.0, 1.0, -np.pi / 2.0]))
    expected = [
        [
            [0, 3, 8, 9, 0],
            [1, 7, 8, 13, 19],
            [6, 6, 12, 18, 18],
            [5, 11, 16, 17, 23],
            [0, 15, 16, 21, 0],
        ],
        [
            [0, 3, 9, 14, 0],
            [2, 7, 8, 13, 19],
            [1, 6, 12, 18, 23],
            [5, 11, 16, 17, 22],
            [0, 10, 15, 21, 0],
        ],
        [
            [20, 15, 10, 5, 0],
            [21, 16, 11, 6, 1],
            [22, 17, 12, 7, 2],
            [23, 18, 13, 8, 3],
            [24, 19, 14, 9, 4],
        ],
    ]
    np.testing.assert_equal(out.numpy()[..., 0], expected)
    assert out.dtype == dtype
    # compose: rotate by pi / 2, then shift right by 1.
    square = tf.constant([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 1, 0], [0, 0, 0, 0]], dtype)
    rotation = img.angles_to_projective_transforms(np.pi / 2, 4, 4)
    composed = img.compose_transforms([rotation, [1, 0, -1, 0, 1, 0, 0, 0]])
    expected = [[0, 0, 0, 0], [0, 1, 0, 1], [0, 1, 0, 1], [0, 1, 1, 1]]
    np.testing.assert_equal(img.transform(square, composed).numpy(), expected)
    np.testing.assert_equal(img.transform(tf.constant([[1, 2], [3, 4]], dtype), [1] * 8).numpy(), 4)


def test_rotate_bilinear_tfa_expectations_and_scipy():
    ring = np.zeros((5, 5), "float32")
    ring[1:4, 1:4] = 1.0
    ring[2, 2] = 0.0
    expected = [
        [0.000, 0.000, 0.343, 0.000, 0.000],
        [0.000, 0.586, 0.914, 0.586, 0.000],
        [0.343, 0.914, 0.000, 0.914, 0.343],
        [0.000, 0.586, 0.914, 0.586, 0.000],
        [0.000, 0.000, 0.343, 0.000, 0.000],
    ]
    out = img.rotate(ring, np.pi / 4.0, interpolation="BILINEAR").numpy()
    np.testing.assert_allclose(out, expected, atol=1e-3)
    uint8 = img.rotate((ring * 255).astype("uint8"), np.pi / 4.0, "bilinear").numpy()
    expected_uint8 = [
        [0, 0, 87, 0, 0],
        [0, 149, 233, 149, 0],
        [87, 233, 0, 233, 87],
        [0, 149, 233, 149, 0],
        [0, 0, 87, 0, 0],
    ]
    np.testing.assert_equal(uint8, expected_uint8)
    for mode, scipy_mode in [("reflect", "reflect"), ("nearest", "nearest"), ("wrap", "grid-wrap")]:
        out = img.rotate(ring, np.pi / 4.0, interpolation="bilinear", fill_mode=mode).numpy()
        reference = ndimage.rotate(ring, 45, order=1, mode=scipy_mode, reshape=False)
        np.testing.assert_allclose(out, reference, atol=5e-6)


def test_dense_image_warp_zero_and_integer_flow():
    images = np.random.default_rng(4).normal(size=(2, 6, 7, 3)).astype("float32")
    same = img.dense_image_warp(images, np.zeros((2, 6, 7, 2), "float32"))
    np.testing.assert_allclose(same.numpy(), images, atol=1e-6)
    flow = np.zeros((2, 6, 7, 2), "float32")
    flow[..., 1] = 1.0  # output[x] = image[x - 1], clamped at the left edge
    shifted = img.dense_image_warp(images, flow).numpy()
    np.testing.assert_allclose(shifted[:, :, 1:], images[:, :, :-1], atol=1e-6)
    np.testing.assert_allclose(shifted[:, :, 0], images[:, :, 0], atol=1e-6)


def test_resampler_at_pixel_centres_and_outside():
    data = np.random.default_rng(5).normal(size=(1, 4, 5, 2)).astype("float32")
    warp = np.array([[[2.0, 1.0], [4.0, 3.0], [-1.0, 0.0], [5.0, 1.0], [1.5, 0.0]]], "float32")
    out = img.resampler(data, warp).numpy()
    np.testing.assert_allclose(out[0, 0], data[0, 1, 2], atol=1e-6)
    np.testing.assert_allclose(out[0, 1], data[0, 3, 4], atol=1e-6)
    np.testing.assert_allclose(out[0, 2:4], 0.0)
    np.testing.assert_allclose(out[0, 4], (data[0, 0, 1] + data[0, 0, 2]) / 2, atol=1e-6)


def test_random_cutout_mask_size_and_position():
    images = tf.ones((8, 12, 14, 2))
    out = img.random_cutout(images, (4, 6), seed=3).numpy()
    for image in out:
        rows, cols = np.nonzero(image[..., 0] == 0)
        assert len(rows) == 4 * 6  # fixed size: the mask always fits
        assert rows.max() - rows.min() == 3 and cols.max() - cols.min() == 5


def test_random_hsv_in_yiq_degenerate_ranges_and_bounds():
    rgb = np.random.default_rng(6).uniform(size=(2, 3, 4, 3)).astype("float32")
    fixed = img.random_hsv_in_yiq(rgb, 0, 1.5, 1.5, 0.5, 0.5)
    np.testing.assert_allclose(fixed, img.adjust_hsv_in_yiq(rgb, 0, 1.5, 0.5), atol=1e-6)
    np.testing.assert_allclose(img.random_hsv_in_yiq(rgb), rgb, atol=1e-5)
    # Value scale only: Y, I and Q are all scaled, i.e. RGB scales by the drawn factor.
    out = img.random_hsv_in_yiq(rgb, lower_value=0.5, upper_value=0.8, seed=2).numpy()
    ratio = out / rgb
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-4)
    assert 0.5 <= ratio.flat[0] <= 0.8


def test_warping_mixed_dtypes_as_tfa():
    """Image and points (or flow) need not share a float dtype; the output has the image's."""
    grid = np.random.default_rng(8).uniform(size=(2, 5, 6, 3))
    points = np.random.default_rng(9).uniform(0, 5, size=(2, 4, 2))
    reference = img.interpolate_bilinear(grid, points).numpy()
    for grid_dtype in ("float16", "float32", "float64"):
        for point_dtype in ("float32", "float64"):
            out = img.interpolate_bilinear(grid.astype(grid_dtype), points.astype(point_dtype))
            assert out.dtype == grid_dtype
            np.testing.assert_allclose(out.numpy(), reference, atol=2e-3)
            flow = np.zeros((2, 5, 6, 2), point_dtype)
            warped = img.dense_image_warp(grid.astype(grid_dtype), flow)
            # (the last row / column is reached as `low + 1 * (high - low)`: one ulp in float16)
            np.testing.assert_allclose(warped.numpy(), grid.astype(grid_dtype), atol=1e-3)
