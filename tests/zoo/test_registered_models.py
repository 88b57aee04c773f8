"""Every registered model, built tiny, runs; one configuration per model class gets the full
shared model checks (the others differ only in configuration values)."""

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


def _first_name_per_builder() -> set[str]:
    seen, names = set(), set()
    for name in zoo.list_models():
        builder = zoo.get_spec(name).builder
        if builder not in seen:
            seen.add(builder)
            names.add(name)
    return names


FULLY_CHECKED = _first_name_per_builder()


def _example(name):
    spec = zoo.get_spec(name)

    def build():
        return zoo.create(name, **spec.tiny)

    model = build()
    inputs = (spec.example_inputs or inputs_from_specs)(model, 4)
    targets = np.arange(4) % model.num_classes if isinstance(model, ClassifierTask) else None
    return spec, build, model, inputs, targets


@pytest.mark.parametrize("name", sorted(FULLY_CHECKED))
def test_registered_model_passes_the_shared_checks(name):
    spec, build, _, inputs, targets = _example(name)
    harness.run_model_test(build, inputs, targets, init_kwargs={**spec.defaults, **spec.tiny})


@pytest.mark.parametrize("name", sorted(set(zoo.list_models()) - FULLY_CHECKED))
def test_registered_model_builds_predicts_and_trains(name):
    spec, _, model, inputs, targets = _example(name)
    harness.assert_config_covers_signature(model, {**spec.defaults, **spec.tiny})
    outputs = model(inputs, training=False)
    assert all(np.all(np.isfinite(np.asarray(o))) for o in np.atleast_1d(outputs) if o is not None)
    if targets is None or not model.compiled:
        model.compile(optimizer="sgd", loss="mse")
        targets = harness._random_like(model(inputs))
    history = model.fit(inputs, targets, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
