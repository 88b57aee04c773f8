"""Pooling from TensorFlow Addons on Keras 3: `max_pool_with_argmax` (as
`tf.nn.max_pool_with_argmax`), `MaxUnpooling2D`, `MaxUnpooling2DV2`, `SpatialPyramidPooling2D`,
and TFA's adaptive poolings, checked against TFA's numbers
(`tests/fixtures/tfa/tfa_layers.npz`)."""

import os

import numpy as np
import pytest
import tensorflow as tf

from layers.pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
    MaxUnpooling2D,
    MaxUnpooling2DV2,
    SpatialPyramidPooling2D,
    max_pool_with_argmax,
)
from tests import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "tfa_layers.npz")
with np.load(FIXTURE) as _data:
    TFA = {k: _data[k] for k in _data.files}
RNG = np.random.default_rng(0)


def close(actual, expected, atol=1e-5):
    np.testing.assert_allclose(np.asarray(actual), expected, atol=atol, rtol=1e-5)


@pytest.mark.parametrize(
    "name, ksize, strides, padding",
    [
        ("unpool_same", 2, 2, "SAME"),
        ("unpool_valid", 2, 2, "VALID"),
        ("argmax_3x2", (3, 2), (1, 2), "VALID"),
    ],
)
def test_max_pool_with_argmax_matches_tensorflow(name, ksize, strides, padding):
    pooled, argmax = max_pool_with_argmax(TFA["unpool_same_x"], ksize, strides, padding)
    close(pooled, TFA[name + "_pooled"])
    np.testing.assert_array_equal(argmax, TFA[name + "_argmax"])


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_max_pool_with_argmax_batch_index_ties_and_xla(padding):
    x = np.round(RNG.normal(size=(3, 5, 4, 2))).astype("float32")  # many ties
    want = tf.nn.max_pool_with_argmax(x, (2, 3), (2, 1), padding, include_batch_in_index=True)
    fn = tf.function(
        lambda x: max_pool_with_argmax(x, (2, 3), (2, 1), padding, True), jit_compile=True
    )
    got = fn(x)
    close(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_max_unpooling_matches_tfa(padding):
    name = f"unpool_{padding.lower()}"
    layer = MaxUnpooling2D(pool_size=2, strides=2, padding=padding)
    close(layer(TFA[name + "_pooled"], TFA[name + "_argmax"]), TFA[name + "_y"])
    close(layer([TFA[name + "_pooled"], TFA[name + "_argmax"]]), TFA[name + "_y"])


def test_max_unpooling_v2_matches_tfa():
    layer = MaxUnpooling2DV2((2, 5, 6, 3))
    close(layer(TFA["unpool_v2_pooled"], TFA["unpool_v2_argmax"]), TFA["unpool_v2_y"])


def _pooled_pair(shape, padding="SAME"):
    pooled, argmax = max_pool_with_argmax(RNG.normal(size=shape).astype("float32"), 2, 2, padding)
    return [np.asarray(pooled), np.asarray(argmax)]


def test_max_unpooling_shared_checks():
    harness.run_layer_test(
        MaxUnpooling2D,
        {"pool_size": (2, 2), "strides": (2, 2), "padding": "SAME"},
        _pooled_pair((4, 4, 6, 2)),
        expected_output_shape=(4, 4, 6, 2),
        run_training=False,
        run_distributed=False,
    )


def test_max_unpooling_v2_shared_checks():
    harness.run_layer_test(
        MaxUnpooling2DV2,
        {"output_size": (4, 3, 5, 2)},
        _pooled_pair((4, 3, 5, 2)),
        expected_output_shape=(4, 3, 5, 2),
        run_training=False,
        run_distributed=False,
    )


def test_pooling_bad_input():
    with pytest.raises(ValueError, match="padding='same'"):
        MaxUnpooling2D(padding="same")
    with pytest.raises(ValueError, match="pool_size=0"):
        MaxUnpooling2D(pool_size=0)
    with pytest.raises(ValueError, match=r"output_size=\(2, 3\)"):
        MaxUnpooling2DV2((2, 3))
    with pytest.raises(ValueError, match="same shape"):
        MaxUnpooling2D()(np.ones((1, 2, 2, 1), "float32"), np.zeros((1, 2, 2, 2), "int64"))
    with pytest.raises(ValueError, match="4-D"):
        max_pool_with_argmax(np.ones((2, 3, 4), "float32"), 2, 2)
    with pytest.raises(ValueError, match="padding='FULL'"):
        max_pool_with_argmax(np.ones((1, 3, 4, 1), "float32"), 2, 2, "FULL")
    with pytest.raises(ValueError, match="bins=\\[\\]"):
        SpatialPyramidPooling2D([])
    with pytest.raises(ValueError, match="data_format='nhwc'"):
        SpatialPyramidPooling2D([1], data_format="nhwc")


def test_spatial_pyramid_pooling_matches_tfa():
    close(SpatialPyramidPooling2D([1, 2, [3, 2]])(TFA["spp_x"]), TFA["spp_y"])
    layer = SpatialPyramidPooling2D([1, 2], data_format="channels_first")
    close(layer(TFA["spp_first_x"]), TFA["spp_first_y"])


def test_spatial_pyramid_pooling_shared_checks():
    harness.run_layer_test(
        SpatialPyramidPooling2D,
        {"bins": [[1, 1], [2, 3]], "data_format": "channels_last"},
        RNG.normal(size=(4, 5, 7, 2)).astype("float32"),
        expected_output_shape=(4, 7, 2),
        run_training=False,
        run_distributed=False,
    )


ADAPTIVE = {
    1: (AdaptiveAveragePooling1D, AdaptiveMaxPooling1D, 3),
    2: (AdaptiveAveragePooling2D, AdaptiveMaxPooling2D, (3, 2)),
    3: (AdaptiveAveragePooling3D, AdaptiveMaxPooling3D, (2, 3, 1)),
}


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_adaptive_pooling_matches_tfa(rank):
    average, maximum, size = ADAPTIVE[rank]
    x = TFA[f"adaptive{rank}d_x"]
    close(average(size)(x), TFA[f"adaptive{rank}d_avg"])
    close(maximum(size)(x), TFA[f"adaptive{rank}d_max"])
    # channels_first gives the same numbers on the moved axes.
    moved = np.moveaxis(x, -1, 1)
    close(np.moveaxis(maximum(size, "channels_first")(moved), 1, -1), TFA[f"adaptive{rank}d_max"])


@pytest.mark.parametrize(
    "cls, size, shape",
    [
        (AdaptiveAveragePooling1D, 1, (4, 6, 2)),
        (AdaptiveMaxPooling1D, 2, (4, 6, 2)),
        (AdaptiveAveragePooling2D, (1, 2), (4, 3, 4, 2)),
        (AdaptiveMaxPooling2D, (3, 1), (4, 3, 4, 2)),
        (AdaptiveAveragePooling3D, (1, 2, 1), (4, 2, 2, 3, 2)),
        (AdaptiveMaxPooling3D, (2, 1, 3), (4, 2, 2, 3, 2)),
    ],
)
def test_adaptive_pooling_shared_checks(cls, size, shape):
    rank = len(shape) - 2
    sizes = (size,) * rank if isinstance(size, int) else size
    harness.run_layer_test(
        cls,
        {"output_size": sizes, "data_format": "channels_last"},
        RNG.normal(size=shape).astype("float32"),
        expected_output_shape=(shape[0], *sizes, shape[-1]),
        run_training=False,
        run_distributed=False,
        run_saving=rank == 2,
    )


def test_adaptive_pooling_bad_input():
    with pytest.raises(ValueError, match="output_size=0"):
        AdaptiveAveragePooling1D(0)
    with pytest.raises(ValueError, match=r"output_size=\(2, 2\)"):
        AdaptiveMaxPooling3D((2, 2))
    with pytest.raises(ValueError, match="divisible"):
        AdaptiveMaxPooling2D(4)(np.ones((1, 6, 8, 1), "float32"))
    with pytest.raises(ValueError, match="4-D"):
        AdaptiveMaxPooling2D(2)(np.ones((1, 6, 1), "float32"))
