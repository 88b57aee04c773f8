"""Every registered model, built tiny, runs; one configuration per built model class (and
backbone class) gets the full shared model checks (the others differ only in configuration
values, a tiny model that is identical to the fully checked one is not trained again, and a
backbone class that a fully checked task holds is checked through that task)."""

import keras
import numpy as np
import pytest

import zoo
from tests import harness


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


def build_tiny(name: str) -> keras.Model | None:
    """The tiny model that `name` builds (presets and task builders included), or `None`.

    A name that fails to build is kept as its own class: its full check then reports the
    error, and the other models are still collected and checked.
    """
    try:
        return zoo.create(name, **zoo.get_spec(name).tiny)
    except Exception:
        return None


def model_class(model: keras.Model) -> tuple[type, type | None]:
    """The model's class and its backbone's: a task class that takes several backbone classes
    (the graph node classifier) is a different network with each."""
    backbone = getattr(model, "backbone", None)
    return type(model), type(backbone) if backbone is not None else None


def _first_name_per_class() -> dict[str, tuple | str]:
    """The first registered name (in sorted order) of each built model class (with its
    backbone class).

    A backbone class that a fully checked task model holds is left out: that task's checks
    (`.keras` round trip, XLA, mixed precision, two replicas) run through the same backbone, so
    the backbone's own entry gets the lighter check below.
    """
    chosen: dict[tuple | str, str] = {}
    built: dict[str, keras.Model | None] = {}
    for name in zoo.list_models():
        built[name] = build_tiny(name)
        chosen.setdefault(model_class(built[name]) if built[name] is not None else name, name)
    inside_tasks = {
        type(built[name].backbone)
        for name in chosen.values()
        if built[name] is not None and getattr(built[name], "backbone", None) is not None
    }
    return {
        name: cls
        for cls, name in chosen.items()
        if isinstance(cls, str) or cls[0] not in inside_tasks
    }


FULLY_CHECKED = _first_name_per_class()
CLASSIFIER_TASKS = ("classifier", "node_classifier", "graph_classifier")


def _example(name):
    spec = zoo.get_spec(name)

    def build():
        return zoo.create(name, **spec.tiny)

    model = build()
    inputs = (spec.example_inputs or inputs_from_specs)(model, 4)
    targets = None
    if spec.task in CLASSIFIER_TASKS:
        # Per example, node or graph: as many labels as the model has output rows.
        rows = 4 if spec.task == "classifier" else int(model(inputs).shape[0])
        targets = np.arange(rows) % model.num_classes
    return spec, build, model, inputs, targets


def whole_batch(model) -> bool:
    """Whether the model takes one graph per step (see `harness.run_model_test`)."""
    return getattr(model, "whole_batch_inputs", False)


@pytest.mark.heavy
@pytest.mark.parametrize("name", sorted(FULLY_CHECKED))
def test_registered_model_passes_the_shared_checks(name):
    spec, build, model, inputs, targets = _example(name)
    harness.run_model_test(
        build,
        inputs,
        targets,
        init_kwargs={**spec.defaults, **spec.tiny},
        whole_batch=whole_batch(model),
    )


def _without_names(value):
    """`value` (a config) with every `"name"` entry removed: names are auto-numbered per build."""
    if isinstance(value, dict):
        return {k: _without_names(v) for k, v in value.items() if k != "name"}
    if isinstance(value, list | tuple):
        return [_without_names(v) for v in value]
    return value


def same_model(model, other) -> bool:
    """Whether two models have the same class, configuration and compile configuration.

    `get_config()` covers every constructor argument (the shared checks enforce it), so such a
    model is the one the full checks trained, and training it again would repeat that run.
    """

    def fingerprint(m):
        compile_config = m.get_compile_config() if m.compiled else None
        return type(m), _without_names(m.get_config()), _without_names(compile_config)

    return fingerprint(model) == fingerprint(other)


@pytest.mark.parametrize("name", sorted(set(zoo.list_models()) - set(FULLY_CHECKED)))
def test_registered_model_builds_predicts_and_trains(name):
    spec, _, model, inputs, targets = _example(name)
    harness.assert_config_covers_signature(model, {**spec.defaults, **spec.tiny})
    outputs = model(inputs, training=False)
    for output in filter(lambda o: o is not None, keras.tree.flatten(outputs)):
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(output)))
    checked = next((n for n, cls in FULLY_CHECKED.items() if cls == model_class(model)), None)
    if checked is not None and same_model(model, _example(checked)[2]):
        return  # its tiny version is the fully checked model: one fit of it is enough
    if targets is None or not model.compiled:
        model.compile(optimizer="sgd", loss="mse", metrics=None)
        targets = harness._random_like(model(inputs))
    # The optimizer builds before `fit`, so the step is traced once (see harness._fit_one_epoch).
    model.optimizer.build(model.trainable_variables)
    harness._fit_one_epoch(model, inputs, targets, batch_size=4, whole_batch=whole_batch(model))
