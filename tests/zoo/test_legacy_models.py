"""`.keras` files saved before the family convention (one per family) still load and reproduce
their outputs. The files come from `tests/fixtures/legacy_models/make_legacy_models.py` run at
commit c5697fb; they are never regenerated."""

import os

import keras
import numpy as np
import pytest

import zoo  # noqa: F401  (registers the zoo's classes with Keras)

HERE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "legacy_models")
NAMES = sorted(f[: -len(".keras")] for f in os.listdir(HERE) if f.endswith(".keras"))


def _split(arrays):
    inputs = {k[len("input_") :]: arrays[k] for k in arrays.files if k.startswith("input_")}
    outputs = {k[len("output_") :]: arrays[k] for k in arrays.files if k.startswith("output_")}
    inputs = inputs or arrays["input"]
    outputs = outputs or arrays["output"]
    return inputs, outputs


def test_there_is_one_file_per_family():
    assert len(NAMES) >= 14


@pytest.mark.parametrize("name", NAMES)
def test_legacy_file_loads_with_equal_outputs_and_optimizer_state(name):
    model = keras.saving.load_model(os.path.join(HERE, f"{name}.keras"))
    inputs, expected = _split(np.load(os.path.join(HERE, f"{name}.npz")))
    outputs = model(inputs, training=False)
    if isinstance(expected, dict):
        for key, value in expected.items():
            np.testing.assert_allclose(np.asarray(outputs[key]), value, rtol=1e-5, atol=1e-5)
    else:
        np.testing.assert_allclose(np.asarray(outputs), expected, rtol=1e-5, atol=1e-5)
    assert int(model.optimizer.iterations.numpy()) == 1
