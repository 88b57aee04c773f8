"""`layers.image` on bad input: errors that name the argument and the value."""

import numpy as np
import pytest
import tensorflow as tf

import layers.image as img

IMAGE = np.zeros((2, 6, 7, 3), "float32")


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda: img.mean_filter2d(np.zeros((2, 2, 2, 2, 2))),
            ValueError,
            r"image.shape=\(2, 2, 2, 2, 2\)",
        ),
        (
            lambda: img.median_filter2d(np.zeros(5)),
            ValueError,
            r"rank 2 or 3 or 4.*image.shape=\(5,\)",
        ),
        (lambda: img.mean_filter2d(IMAGE, 0), ValueError, r"filter_shape=0"),
        (lambda: img.median_filter2d(IMAGE, (3, -1)), ValueError, r"filter_shape=\(3, -1\)"),
        (lambda: img.gaussian_filter2d(IMAGE, (3, 3, 3)), ValueError, r"filter_shape=\(3, 3, 3\)"),
        (lambda: img.mean_filter2d(IMAGE, 3, padding="WRAP"), ValueError, r"padding='WRAP'"),
        (lambda: img.median_filter2d(IMAGE, 3, padding=None), ValueError, r"padding=None"),
        (lambda: img.gaussian_filter2d(IMAGE, 3, sigma=-1.0), ValueError, r"sigma=-1.0"),
        (
            lambda: img.gaussian_filter2d(IMAGE, 3, sigma=(1.0, 2.0, 3.0)),
            ValueError,
            r"sigma=\(1.0",
        ),
        (lambda: img.mean_filter2d(np.array([["a"]])), TypeError, r"image.dtype=string"),
    ],
)
def test_filters_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: img.transform(np.zeros(4), [1] * 8), ValueError, r"images.shape=\(4,\)"),
        (lambda: img.transform(IMAGE.astype(bool), [1] * 8), TypeError, r"images.dtype=bool"),
        (lambda: img.transform(IMAGE, [1] * 7), ValueError, r"transforms.shape=\(7,\)"),
        (lambda: img.transform(IMAGE, [1] * 8, "bicubic"), ValueError, r"interpolation='bicubic'"),
        (
            lambda: img.transform(IMAGE, [1] * 8, fill_mode="mirror"),
            ValueError,
            r"fill_mode='mirror'",
        ),
        (
            lambda: img.transform(IMAGE, [1] * 8, output_shape=[3]),
            ValueError,
            r"output_shape.shape=\(1,\)",
        ),
        (lambda: img.rotate(IMAGE, [[0.1]]), ValueError, r"angles.shape=\(1, 1\)"),
        (lambda: img.rotate(IMAGE.astype("complex64"), 0.1), TypeError, r"images.dtype=complex64"),
        (lambda: img.translate(IMAGE, [1.0, 2.0, 3.0]), ValueError, r"translations.shape=\(3,\)"),
        (lambda: img.shear_x(IMAGE, 0.1, 0), ValueError, r"image.shape=\(2, 6, 7, 3\)"),
        (
            lambda: img.translate_xy(IMAGE[0, :, :, 0], [1, 1], 0),
            ValueError,
            r"image.shape=\(6, 7\)",
        ),
        (lambda: img.compose_transforms([]), ValueError, r"transforms=\[\]"),
    ],
)
def test_transforms_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda: img.dense_image_warp(IMAGE, np.zeros((2, 6, 6, 2), "float32")),
            ValueError,
            r"\(2, 6, 7, 2\).*flow.shape=\(2, 6, 6, 2\)",
        ),
        (
            lambda: img.dense_image_warp(IMAGE, np.zeros((2, 6, 7, 3), "float32")),
            ValueError,
            r"flow.shape=\(2, 6, 7, 3\)",
        ),
        (
            lambda: img.dense_image_warp(IMAGE[0], np.zeros((6, 7, 2))),
            ValueError,
            r"image.shape=\(6, 7, 3\)",
        ),
        (
            lambda: img.dense_image_warp(IMAGE.astype("int32"), np.zeros((2, 6, 7, 2))),
            TypeError,
            r"image.dtype=int32",
        ),
        (
            lambda: img.dense_image_warp(IMAGE[:, :1], np.zeros((2, 1, 7, 2))),
            ValueError,
            r"height of at least 2",
        ),
        (
            lambda: img.interpolate_bilinear(IMAGE, np.zeros((2, 5, 2)), indexing="yx"),
            ValueError,
            r"indexing='yx'",
        ),
        (
            lambda: img.interpolate_bilinear(IMAGE, np.zeros((2, 5, 3))),
            ValueError,
            r"query_points.shape=\(2, 5, 3\)",
        ),
        (lambda: img.resampler(IMAGE, np.zeros((2, 5, 3))), ValueError, r"warp.shape=\(2, 5, 3\)"),
        (
            lambda: img.interpolate_spline(
                np.zeros((1, 3, 2)), np.zeros((1, 3, 1)), np.zeros((1, 4, 3)), 2
            ),
            ValueError,
            r"query_points.shape=\(1, 4, 3\)",
        ),
        (
            lambda: img.interpolate_spline(
                np.zeros((1, 3, 2)), np.zeros((1, 3, 1)), np.zeros((1, 4, 2)), 0
            ),
            ValueError,
            r"order=0",
        ),
        (
            lambda: img.sparse_image_warp(IMAGE, np.zeros((2, 3, 2)), np.zeros((2, 4, 2))),
            ValueError,
            r"dest_control_point_locations.shape=\(2, 4, 2\)",
        ),
        (
            lambda: img.sparse_image_warp(
                IMAGE, np.zeros((2, 3, 2)), np.zeros((2, 3, 2)), num_boundary_points=-1
            ),
            ValueError,
            r"num_boundary_points=-1",
        ),
    ],
)
def test_warping_rejects_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: img.connected_components(IMAGE), ValueError, r"images.shape=\(2, 6, 7, 3\)"),
        (lambda: img.connected_components(np.array([["a"]])), TypeError, r"images.dtype=string"),
        (lambda: img.euclidean_dist_transform(IMAGE), TypeError, r"images.dtype=float32"),
        (
            lambda: img.euclidean_dist_transform(IMAGE.astype("uint8"), tf.int32),
            TypeError,
            r"dtype=int32",
        ),
        (lambda: img.cutout(IMAGE, 3), ValueError, r"mask_size=3"),
        (lambda: img.cutout(IMAGE, (4, 5)), ValueError, r"mask_size=\[4, 5\]"),
        (lambda: img.cutout(IMAGE[0], 4), ValueError, r"images.shape=\(6, 7, 3\)"),
        (lambda: img.cutout(IMAGE, 4.0), TypeError, r"mask_size.dtype=float32"),
        (lambda: img.cutout(IMAGE, 4, offset=(1, 2, 3)), ValueError, r"offset.shape=\(3,\)"),
        (lambda: img.random_cutout(IMAGE, 5), ValueError, r"mask_size=5"),
        (lambda: img.equalize(IMAGE, bins=1), ValueError, r"bins=1"),
        (
            lambda: img.adjust_hsv_in_yiq(IMAGE[..., :2], 0.1),
            ValueError,
            r"image.shape=\(2, 6, 7, 2\)",
        ),
        (lambda: img.adjust_hsv_in_yiq(IMAGE[0, :, 0], 0.1), ValueError, r"image.shape=\(6, 3\)"),
        (lambda: img.random_hsv_in_yiq(IMAGE, -0.1), ValueError, r"max_delta_hue=-0.1"),
        (lambda: img.random_hsv_in_yiq(IMAGE, 0, 1.2, 1.1), ValueError, r"lower_saturation=1.2"),
        (lambda: img.random_hsv_in_yiq(IMAGE, 0, 1, 1, -1, 1), ValueError, r"lower_value=-1"),
    ],
)
def test_labels_distance_color_cutout_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
