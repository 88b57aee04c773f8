"""Shared fixtures for the serving tests: small exported models."""

import keras
import numpy as np
import pytest

import zoo


@pytest.fixture(scope="module")
def digits_model():
    keras.utils.set_random_seed(7)
    return zoo.create("cnn_digits", **zoo.get_spec("cnn_digits").tiny)


@pytest.fixture(scope="module")
def linear_model():
    """y = x . [1, 2, 3] + 0.5, a Sequential with known weights."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, name="value")])
    model.layers[0].set_weights([np.array([[1.0], [2.0], [3.0]]), np.array([0.5])])
    return model
