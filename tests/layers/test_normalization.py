"""InstanceNormalization: harness checks and a NumPy reference."""

import numpy as np
import pytest

from layers.normalization import InstanceNormalization
from tests import harness

RNG = np.random.default_rng(0)


def numpy_instance_norm(x, gamma, beta, epsilon):
    axes = tuple(range(1, x.ndim - 1))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + epsilon) * gamma + beta


def test_instance_norm_harness():
    x = RNG.normal(2.0, 3.0, size=(2, 5, 4, 3)).astype("float32")
    harness.run_layer_test(
        InstanceNormalization,
        {"epsilon": 1e-5},
        x,
        expected_output=numpy_instance_norm(x, 1.0, 0.0, 1e-5),
        atol=1e-4,
        rtol=1e-4,
    )


@pytest.mark.parametrize("shape", [(3, 7, 4), (2, 5, 4, 3), (2, 3, 4, 2, 5)])
def test_instance_norm_matches_numpy_reference(shape):
    x = RNG.normal(1.0, 2.0, size=shape).astype("float32")
    layer = InstanceNormalization()
    layer.build(shape)
    gamma = RNG.normal(size=shape[-1]).astype("float32")
    beta = RNG.normal(size=shape[-1]).astype("float32")
    layer.set_weights([gamma, beta])
    expected = numpy_instance_norm(x.astype("float64"), gamma, beta, 1e-3)
    np.testing.assert_allclose(layer(x), expected, atol=1e-4, rtol=1e-4)


def test_channels_first_axis():
    x = RNG.normal(size=(2, 3, 5, 4)).astype("float32")
    out = InstanceNormalization(axis=1, epsilon=1e-5)(x)
    expected = numpy_instance_norm(np.moveaxis(x, 1, -1), 1.0, 0.0, 1e-5)
    np.testing.assert_allclose(out, np.moveaxis(expected, -1, 1), atol=1e-4, rtol=1e-4)


def test_config_has_no_group_count():
    layer = InstanceNormalization(center=False)
    layer.build((None, 4, 4, 6))
    config = layer.get_config()
    assert "groups" not in config
    assert InstanceNormalization.from_config(config).center is False
    with pytest.raises(TypeError, match="groups=2"):
        InstanceNormalization(groups=2)
