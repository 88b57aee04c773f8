"""Every registered model, built tiny, passes the shared model checks."""

import numpy as np
import pytest

import zoo
from tests import harness
from zoo.task import ClassifierTask


def inputs_from_specs(model, batch_size: int):
    """Random inputs drawn from the model's input specs (unknown dimensions set to 8)."""
    rng = np.random.default_rng(0)
    arrays = []
    for tensor in model.inputs:
        shape = (batch_size, *(d or 8 for d in tensor.shape[1:]))
        if "int" in str(tensor.dtype):
            arrays.append(rng.integers(0, 2, size=shape).astype(str(tensor.dtype)))
        else:
            arrays.append(rng.normal(size=shape).astype("float32"))
    return arrays[0] if len(arrays) == 1 else arrays


@pytest.mark.parametrize("name", zoo.list_models())
def test_registered_model(name):
    spec = zoo.get_spec(name)

    def build():
        return zoo.create(name, **spec.tiny)

    model = build()
    make_inputs = spec.example_inputs or inputs_from_specs
    inputs = make_inputs(model, 4)
    targets = None
    if isinstance(model, ClassifierTask):
        targets = np.arange(4) % model.num_classes
    harness.run_model_test(build, inputs, targets, init_kwargs={**spec.defaults, **spec.tiny})
