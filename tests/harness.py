"""Shared checks that every layer, model, optimizer, schedule, loss and callback test runs.

Each `run_*_test` exercises one component the way users do (symbolic and eager calls,
`tf.function`, XLA, `mixed_float16`, `.keras` save/load, `tf.distribute.MirroredStrategy`, real
`fit`) and raises `AssertionError` on the first contract it breaks. The config check compares
`get_config()` with the constructor's signature, so an argument missing on both sides of a
round trip is still caught.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import keras
import numpy as np
import tensorflow as tf

PACKAGE = "keras_zoo"
_PLAIN_TYPES = (int, float, str, bool, type(None))


# --------------------------------------------------------------------------------------------
# Configuration and registration
# --------------------------------------------------------------------------------------------


def constructor_arguments(cls: type) -> list[str]:
    """Names of the explicit arguments of `cls.__init__` (no `self`, `*args`, `**kwargs`)."""
    skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return [p.name for p in params if p.kind not in skip]


def _normalize(value):
    if isinstance(value, tuple | list):
        return [_normalize(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _values_match(stored, given) -> bool:
    """Equality for plain config values; floats within float32 rounding."""
    stored, given = _normalize(stored), _normalize(given)
    if isinstance(given, list):
        return (
            isinstance(stored, list)
            and len(stored) == len(given)
            and all(_values_match(s, g) for s, g in zip(stored, given, strict=True))
        )
    if isinstance(given, float) and isinstance(stored, int | float):
        return math.isclose(stored, given, rel_tol=1e-6, abs_tol=1e-12)
    return stored == given


def _is_plain(value) -> bool:
    if isinstance(value, tuple | list):
        return all(_is_plain(v) for v in value)
    return isinstance(value, _PLAIN_TYPES)


def assert_config_covers_signature(obj, init_kwargs: dict[str, Any] | None = None) -> dict:
    """Asserts that `obj.get_config()` holds every constructor argument of `type(obj)`.

    Plain values passed in `init_kwargs` (numbers, strings, tuples of them) must also come back
    unchanged, so an argument that is stored under the right key but ignored is caught too.

    Returns:
        The config.
    """
    cls = type(obj)
    config = obj.get_config()
    missing = [name for name in constructor_arguments(cls) if name not in config]
    if missing:
        raise AssertionError(
            f"{cls.__name__}.get_config() lacks constructor argument(s) {missing}; "
            f"config keys: {sorted(config)}"
        )
    for name, value in (init_kwargs or {}).items():
        if name in config and _is_plain(value) and not _values_match(config[name], value):
            raise AssertionError(
                f"{cls.__name__}.get_config()[{name!r}] is {config[name]!r}, but the "
                f"constructor received {name}={value!r}"
            )
    return config


def assert_registered(cls: type) -> None:
    """Asserts `cls` is registered with `keras.saving` under package `"keras_zoo"`."""
    registered = keras.saving.get_registered_name(cls)
    if not registered.startswith(f"{PACKAGE}>"):
        raise AssertionError(
            f"{cls.__name__} is not registered with "
            f"@keras.saving.register_keras_serializable(package={PACKAGE!r}); "
            f"registered name: {registered!r}"
        )


def assert_config_round_trip(obj, init_kwargs: dict[str, Any] | None = None) -> dict:
    """Config check, registration check, and `from_config(get_config())` giving the same config."""
    cls = type(obj)
    assert_registered(cls)
    config = assert_config_covers_signature(obj, init_kwargs)
    clone = cls.from_config(config)
    if clone.get_config() != config:
        raise AssertionError(
            f"{cls.__name__}.from_config(config).get_config() differs from config:\n"
            f"{clone.get_config()}\n!=\n{config}"
        )
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(obj))
    if type(restored) is not cls:
        raise AssertionError(f"deserialising a {cls.__name__} gave a {type(restored).__name__}")
    return config


# --------------------------------------------------------------------------------------------
# Environment helpers
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Sets the global Keras dtype policy for the block and restores the previous one."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


@functools.cache
def mirrored_strategy() -> tf.distribute.MirroredStrategy:
    """A `MirroredStrategy` over two logical CPU devices (configured in `tests/conftest.py`).

    One instance per process: separate instances reuse collective-op keys and then abort each
    other's all-reduces.
    """
    devices = tf.config.list_logical_devices("CPU")
    if len(devices) < 2:
        raise AssertionError(
            "Two logical CPU devices are needed; tests/conftest.py configures them before "
            f"TensorFlow initialises. Found: {[d.name for d in devices]}"
        )
    return tf.distribute.MirroredStrategy([d.name for d in devices[:2]])


def run_in_mirrored_strategy(fn: Callable[[tf.distribute.Strategy], Any]) -> Any:
    """Calls `fn(strategy)` inside the scope of a two-device `MirroredStrategy`."""
    strategy = mirrored_strategy()
    with strategy.scope():
        return fn(strategy)


def run_mixed_and_distributed(
    fn: Callable[[bool], Any], *, mixed: bool, distributed: bool
) -> tuple[Any, str]:
    """One fresh run for both checks: `fn` under `mixed_float16` (when `mixed`) inside a
    two-device `MirroredStrategy` (when `distributed`).

    `fn(build_optimizer_first)` builds and trains; outside a strategy it should build the
    optimizer first (see `_fit_one_epoch`). Returns `fn`'s result and a label for messages.
    """
    policy = "mixed_float16" if mixed else keras.config.dtype_policy().name
    what = " under ".join((["mixed_float16"] * mixed) + (["MirroredStrategy"] * distributed))

    def run(strategy=None):
        with dtype_policy(policy):
            return fn(strategy is None)

    return (run_in_mirrored_strategy(run) if distributed else run()), what


@contextlib.contextmanager
def temporary_path(filename: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as directory:
        yield os.path.join(directory, filename)


def _to_numpy(structure):
    return keras.tree.map_structure(lambda t: keras.ops.convert_to_numpy(t), structure)


def assert_allclose(actual, expected, atol: float = 1e-5, rtol: float = 1e-5, what: str = ""):
    actual_flat = keras.tree.flatten(_to_numpy(actual))
    expected_flat = keras.tree.flatten(_to_numpy(expected))
    if len(actual_flat) != len(expected_flat):
        raise AssertionError(f"{what}: {len(actual_flat)} outputs != {len(expected_flat)}")
    for a, e in zip(actual_flat, expected_flat, strict=True):
        np.testing.assert_allclose(
            np.asarray(a, np.float64), np.asarray(e, np.float64), atol=atol, rtol=rtol, err_msg=what
        )


def _assert_finite(structure, what: str) -> None:
    for value in keras.tree.flatten(_to_numpy(structure)):
        value = np.asarray(value)
        if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
            raise AssertionError(f"{what}: non-finite values in the output")


def _one_batch(structure) -> tf.data.Dataset:
    """A `tf.data` pipeline of one element: `structure` unsplit (a whole graph)."""
    as_tuples = keras.tree.traverse(
        lambda s: tuple(s) if isinstance(s, list) else None, _to_numpy(structure)
    )
    return tf.data.Dataset.from_tensors(as_tuples)


def _symbolic_inputs(input_data):
    return keras.tree.map_structure(
        lambda a: keras.Input(shape=np.shape(a)[1:], dtype=str(np.asarray(a).dtype)), input_data
    )


def _batch_size(input_data) -> int:
    return int(np.shape(keras.tree.flatten(input_data)[0])[0])


def _random_like(structure, seed: int = 0):
    rng = np.random.default_rng(seed)
    return keras.tree.map_structure(
        lambda t: rng.normal(size=np.shape(t)).astype("float32"), _to_numpy(structure)
    )


def _is_float_structure(structure) -> bool:
    return all(
        np.issubdtype(np.asarray(v).dtype, np.floating)
        for v in keras.tree.flatten(_to_numpy(structure))
    )


def _weights_changed(before: list[np.ndarray], after: list[np.ndarray]) -> bool:
    return any(not np.array_equal(b, a) for b, a in zip(before, after, strict=True))


def _fit_one_epoch(
    model: keras.Model,
    x,
    y,
    batch_size: int,
    *,
    build_optimizer_first: bool = False,
    whole_batch: bool = False,
) -> float:
    """One epoch of `fit`; the loss must be finite.

    Without a distribution strategy, `fit` creates the optimizer's variables while tracing the
    training step, and TensorFlow then traces the step a second time without them. That path
    (the users' path) does not depend on the model, and the model checks take it where they fit
    in float32 without XLA; other fits pass `build_optimizer_first=True` to create the
    variables beforehand and trace once.

    With `whole_batch`, `(x, y)` is one batch that is not split (a graph: its arrays do not
    share a first axis); under a strategy every replica trains on all of it.
    """
    if build_optimizer_first and model.built and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    if whole_batch:
        strategy = tf.distribute.get_strategy()
        data = _one_batch((x, y))
        if strategy.num_replicas_in_sync > 1:
            # The elements of one input pipeline go to its replicas in turn: one copy each.
            data = strategy.distribute_datasets_from_function(
                lambda context: _one_batch((x, y)).repeat(
                    context.num_replicas_in_sync // context.num_input_pipelines
                )
            )
        history = model.fit(data, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)
    else:
        history = model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
    loss = history.history["loss"][-1]
    if not np.isfinite(loss):
        raise AssertionError(f"training loss is not finite: {loss}")
    return loss


# --------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------


def run_layer_test(
    cls: type,
    init_kwargs: dict[str, Any],
    input_data,
    *,
    expected_output_shape=None,
    expected_output=None,
    call_kwargs: dict[str, Any] | None = None,
    stochastic: bool = False,
    run_training: bool = True,
    run_jit: bool = True,
    run_mixed_precision: bool = True,
    expected_mixed_dtype: str | None = "float16",
    run_saving: bool = True,
    run_distributed: bool = True,
    whole_batch: bool = False,
    atol: float = 1e-5,
    rtol: float = 1e-5,
) -> dict[str, Any]:
    """Runs the shared checks on a layer class.

    Args:
        cls: the layer class.
        init_kwargs: constructor arguments.
        input_data: a NumPy array or a structure (list/dict) of arrays; the first axis is the batch.
        expected_output_shape: the concrete output shape (or structure of shapes), if known.
        expected_output: reference output values, if known.
        call_kwargs: extra keyword arguments for `layer(...)` (e.g. `training=True`).
        stochastic: the layer draws random numbers at inference; outputs are compared by shape,
            not value, across call modes and save/load.
        run_training: fit one epoch of a model holding the layer and require the weights to move.
        run_jit: compare a `jit_compile=True` call with the eager one and, with `run_training`,
            an XLA `fit` of a fresh model (built inside the compiled step) with the plain one.
        run_mixed_precision: build and train under the `mixed_float16` global policy (the
            training step runs under `MirroredStrategy` too when `run_distributed`).
        expected_mixed_dtype: output dtype under `mixed_float16` (`None` skips the check).
        run_saving: save a model holding the layer as `.keras`, reload, compare outputs.
        run_distributed: fit one step under a two-device `MirroredStrategy` (with
            `mixed_float16` when `run_mixed_precision` and `run_training`).
        whole_batch: `input_data` is one batch whose arrays do not share a first axis (a
            graph's node features and edge indices): the training steps take it unsplit, and
            under `MirroredStrategy` each replica gets all of it.
        atol, rtol: tolerances for value comparisons.

    Returns:
        A dict with the eager `"output"` and the `"layer"` it came from.
    """
    call_kwargs = dict(call_kwargs or {})
    batch = _batch_size(input_data)

    layer = cls(**init_kwargs)
    assert_config_round_trip(layer, init_kwargs)

    # Symbolic call.
    symbolic_out = cls(**init_kwargs)(_symbolic_inputs(input_data), **call_kwargs)
    if expected_output_shape is not None:
        expected = _map_shapes(lambda s: (None, *s[1:]), expected_output_shape)
        got = keras.tree.map_structure(lambda t: tuple(t.shape), symbolic_out)
        if _normalize(got) != _normalize(expected):
            raise AssertionError(f"symbolic output shape {got} != {expected}")

    # Eager call.
    output = layer(input_data, **call_kwargs)
    _assert_finite(output, "eager call")
    if expected_output_shape is not None:
        got = keras.tree.map_structure(lambda t: tuple(t.shape), output)
        if _normalize(got) != _normalize(_map_shapes(tuple, expected_output_shape)):
            raise AssertionError(f"eager output shape {got} != {expected_output_shape}")
    if expected_output is not None:
        assert_allclose(output, expected_output, atol, rtol, "eager output vs expected")

    # Graph and XLA calls of the same layer.
    modes = [("tf.function", False)] + ([("jit_compile", True)] if run_jit else [])
    for what, jit in modes:
        fn = tf.function(lambda x: layer(x, **call_kwargs), jit_compile=jit)
        out = fn(input_data)
        if stochastic:
            _assert_same_shapes(out, output, what)
        else:
            assert_allclose(out, output, atol * 10, rtol * 10, f"{what} vs eager")

    floating = _is_float_structure(output)
    if run_training and floating:
        step = functools.partial(
            _layer_training_step, cls, init_kwargs, input_data, call_kwargs, batch
        )
        trained, random = step(build_optimizer_first=True, whole_batch=whole_batch)
        if run_jit:
            # The users' XLA path: `compile(jit_compile=True)`, and the first `fit` builds
            # everything inside the compiled step.
            compiled, _ = step(jit=True, whole_batch=whole_batch)
            if not random:
                assert_allclose(compiled, trained, atol * 10, rtol * 10, "XLA fit vs plain fit")

    if run_mixed_precision:
        with dtype_policy("mixed_float16"):
            mixed_layer = cls(**init_kwargs)
            mixed_out = mixed_layer(input_data, **call_kwargs)
            _assert_finite(mixed_out, "mixed_float16 call")
            if expected_mixed_dtype is not None and floating:
                dtypes = {
                    keras.backend.standardize_dtype(t.dtype) for t in keras.tree.flatten(mixed_out)
                }
                if dtypes != {expected_mixed_dtype}:
                    raise AssertionError(
                        f"under mixed_float16 the output dtype is {dtypes}, "
                        f"expected {expected_mixed_dtype}"
                    )

    if run_saving:
        inputs = _symbolic_inputs(input_data)
        model = keras.Model(inputs, cls(**init_kwargs)(inputs, **call_kwargs))
        before = model(input_data)
        with temporary_path("layer.keras") as path:
            model.save(path)
            loaded = keras.saving.load_model(path)
        after = loaded(input_data)
        if stochastic:
            _assert_same_shapes(after, before, ".keras round trip")
        else:
            assert_allclose(after, before, atol, rtol, ".keras round trip")

    mixed_training = run_mixed_precision and run_training and floating
    distributed_training = run_distributed and floating
    if mixed_training or distributed_training:
        # One step covers both (the float32 step above runs on one device).
        run_mixed_and_distributed(
            lambda build_first: _layer_training_step(
                cls,
                init_kwargs,
                input_data,
                call_kwargs,
                batch,
                build_optimizer_first=build_first,
                whole_batch=whole_batch,
            ),
            mixed=mixed_training,
            distributed=distributed_training,
        )

    return {"output": output, "layer": layer}


def _is_shape(value) -> bool:
    return isinstance(value, tuple | list) and all(isinstance(v, int | type(None)) for v in value)


def _map_shapes(fn, shapes):
    """Applies `fn` to each shape tuple in a structure (dict/list) of shapes."""
    if _is_shape(shapes):
        return fn(tuple(shapes))
    if isinstance(shapes, dict):
        return {k: _map_shapes(fn, v) for k, v in shapes.items()}
    return [_map_shapes(fn, v) for v in shapes]


def _assert_same_shapes(actual, expected, what: str) -> None:
    a = keras.tree.map_structure(lambda t: tuple(t.shape), actual)
    e = keras.tree.map_structure(lambda t: tuple(t.shape), expected)
    if a != e:
        raise AssertionError(f"{what}: output shapes {a} != {e}")


def _layer_training_step(
    cls,
    init_kwargs,
    input_data,
    call_kwargs,
    batch,
    build_optimizer_first: bool = False,
    whole_batch: bool = False,
    jit: bool = False,
) -> tuple[list[np.ndarray], bool]:
    """One epoch of SGD on a model holding a new layer (seeded: every call starts alike).

    Returns:
        The layer's trainable weights after the epoch, and whether it draws random numbers
        (then two runs need not agree: XLA has its own random number generator).
    """
    keras.utils.set_random_seed(0)
    inputs = _symbolic_inputs(input_data)
    layer = cls(**init_kwargs)
    outputs = layer(inputs, **call_kwargs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", jit_compile=jit)
    targets = _random_like(model(input_data))
    before = [keras.ops.convert_to_numpy(w) for w in layer.trainable_weights]
    _fit_one_epoch(
        model,
        input_data,
        targets,
        batch_size=batch,
        build_optimizer_first=build_optimizer_first,
        whole_batch=whole_batch,
    )
    after = [keras.ops.convert_to_numpy(w) for w in layer.trainable_weights]
    if before and not _weights_changed(before, after):
        raise AssertionError(f"{cls.__name__}: one training step left every trainable weight as is")
    random = any(sublayer._seed_generators for sublayer in layer._flatten_layers())
    return after, random


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


def run_model_test(
    build_fn: Callable[[], keras.Model],
    input_data,
    targets=None,
    *,
    init_kwargs: dict[str, Any] | None = None,
    stochastic: bool = False,
    run_jit: bool = True,
    run_mixed_precision: bool = True,
    run_saving: bool = True,
    run_distributed: bool = True,
    whole_batch: bool = False,
    atol: float = 1e-4,
    rtol: float = 1e-4,
) -> keras.Model:
    """Runs the shared checks on a model.

    One model is built, called, and predicted on `tf.data`; it is saved as `.keras` and
    reloaded, and the reloaded copy predicts and fits one epoch under XLA (one model and one
    training trace for the round trip and XLA). A fresh copy built under `mixed_float16` is
    fitted under a two-device `MirroredStrategy` (the plain graph-mode `fit`), saved and
    reloaded with its optimizer state. Each traced training step is a distinct check; none is
    traced twice for the same configuration.

    Args:
        build_fn: returns a fresh model (compiled for its task, or not).
        input_data: inputs for a small batch.
        targets: training targets; when `None`, random targets shaped like the outputs are used
            with mean squared error.
        init_kwargs: the constructor arguments `build_fn` used, to check that plain values come
            back from `get_config()`.
        run_jit: predict and fit under XLA (the reloaded copy; a fresh one without
            `run_saving`).
        stochastic, run_mixed_precision, run_saving, run_distributed, whole_batch, atol,
            rtol: as in `run_layer_test` (with `whole_batch`, `predict` also takes the one
            batch unsplit).

    Returns:
        The model built first (trained when neither the mixed precision nor the distributed
        fit ran on a copy of it).
    """
    batch = _batch_size(input_data)

    def build_compiled() -> keras.Model:
        model = build_fn()
        if targets is None or not model.compiled:
            model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", metrics=None)
        return model

    def fit_targets(model):
        return targets if targets is not None else _random_like(model(input_data))

    def fit_and_require_learning(model, what: str, **kwargs) -> None:
        before = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
        _fit_one_epoch(model, input_data, fit_targets(model), whole_batch=whole_batch, **kwargs)
        after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
        if not _weights_changed(before, after):
            raise AssertionError(f"{what}: one epoch of fit left every trainable weight as is")

    model = build_compiled()
    if type(model) not in (keras.Model, keras.Sequential) and not _is_plain_functional(model):
        assert_registered(type(model))
        assert_config_covers_signature(model, init_kwargs)

    # Eager call and predict on a tf.data pipeline.
    output = model(input_data, training=False)
    _assert_finite(output, "eager call")
    if whole_batch:
        dataset = _one_batch(input_data)
    else:
        dataset = tf.data.Dataset.from_tensor_slices(input_data).batch(max(1, batch // 2))
    predicted = model.predict(dataset, verbose=0)
    if not stochastic:
        assert_allclose(predicted, output, atol, rtol, "predict on tf.data vs eager call")

    fresh_fit = run_mixed_precision or run_distributed
    if not fresh_fit or not (run_saving or run_jit):
        # The plain graph-mode `fit` in float32, on the path users take (the optimizer builds
        # inside the first traced step); otherwise the fresh copy and the XLA fit cover it.
        fit_and_require_learning(model, "fit", batch_size=max(1, batch // 2))
    elif model.built and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)  # saved with its (untouched) slots

    if run_saving:
        # The reloaded copy is also the XLA model: its `predict` and its epoch of `fit` compile
        # with XLA, so the round trip and XLA cost one model and one training trace.
        expected = model(input_data, training=False)
        loaded = _save_and_reload(model, "model.keras")
        if run_jit:
            loaded.jit_compile = True
        reloaded = loaded.predict(_one_batch(input_data) if whole_batch else input_data, verbose=0)
        if not stochastic:
            _assert_reloaded_output(loaded, input_data, reloaded, expected, run_jit, atol, rtol)
        fit_and_require_learning(
            loaded, "XLA fit" if run_jit else "fit", batch_size=batch, build_optimizer_first=True
        )
    elif run_jit:
        inference = tf.function(lambda x: model(x, training=False), jit_compile=True)
        out = inference(input_data)
        if not stochastic:
            assert_allclose(out, model(input_data, training=False), atol, rtol, "XLA vs eager")
        jit_model = build_compiled()
        jit_model.compile(optimizer=jit_model.optimizer, loss=jit_model.loss, jit_compile=True)
        fit_and_require_learning(jit_model, "XLA fit", batch_size=batch, build_optimizer_first=True)

    if fresh_fit:
        # One fresh model covers both (the XLA fit above covers float32 training).
        def fit_fresh(_build_first: bool) -> keras.Model:  # fit builds it (the users' path)
            fresh = build_compiled()
            _assert_finite(fresh(input_data, training=False), "fresh copy's call")
            half = max(1, batch // 2)
            if run_mixed_precision:
                # The loss scale starts high, and the steps that overflow are skipped: the
                # weights need not move in one epoch, the loss must stay finite.
                _fit_one_epoch(
                    fresh, input_data, fit_targets(fresh), batch_size=half, whole_batch=whole_batch
                )
            else:
                fit_and_require_learning(fresh, "MirroredStrategy fit", batch_size=half)
            return fresh

        fresh, _ = run_mixed_and_distributed(
            fit_fresh, mixed=run_mixed_precision, distributed=run_distributed
        )
        if run_saving:
            # Reloaded under the float32 global policy, a mixed precision model must stay so.
            reloaded = _save_and_reload(fresh, "fresh.keras")
            if run_mixed_precision and reloaded.dtype_policy.name != "mixed_float16":
                raise AssertionError(
                    f"a mixed_float16 model reloaded as {reloaded.dtype_policy.name}: "
                    "its get_config() must carry `dtype`"
                )

    return model


def _save_and_reload(model: keras.Model, filename: str) -> keras.Model:
    """A `.keras` round trip that must keep the class and the optimizer's step count."""
    with temporary_path(filename) as path:
        model.save(path)
        loaded = keras.saving.load_model(path)
    if type(loaded) is not type(model):
        raise AssertionError(f"reloaded a {type(loaded).__name__}, saved a {type(model)}")
    if int(loaded.optimizer.iterations.numpy()) != int(model.optimizer.iterations.numpy()):
        raise AssertionError(
            f"the optimizer state of a {model.dtype_policy.name} model did not survive "
            f"the .keras round trip: {int(model.optimizer.iterations.numpy())} steps saved, "
            f"{int(loaded.optimizer.iterations.numpy())} reloaded"
        )
    return loaded


def _assert_reloaded_output(loaded, input_data, reloaded, expected, jit, atol, rtol) -> None:
    """Compares the reloaded model's `predict` with the saved model's output.

    When `predict` ran under XLA and differs, the eager call of the reloaded model tells the
    two possible causes apart in the message.
    """
    try:
        assert_allclose(reloaded, expected, atol, rtol, ".keras round trip")
    except AssertionError as error:
        if not jit:
            raise
        try:
            assert_allclose(loaded(input_data, training=False), expected, atol, rtol, ".keras")
        except AssertionError:
            raise error from None
        raise AssertionError(f"XLA vs eager (of the reloaded model): {error}") from None


def _is_plain_functional(model) -> bool:
    return type(model).__module__.startswith("keras.")


# --------------------------------------------------------------------------------------------
# Optimizers
# --------------------------------------------------------------------------------------------


def _regression_problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(32, 6)).astype("float32")
    w = rng.normal(size=(6, 1)).astype("float32")
    y = (x @ w + 0.1 * rng.normal(size=(32, 1))).astype("float32")
    return x, y


def _regression_model(seed: int = 0, width: int = 8) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(width, activation="tanh", name="hidden"),
            keras.layers.Dense(1, name="out"),
        ]
    )


def run_optimizer_test(
    cls: type,
    init_kwargs: dict[str, Any],
    *,
    steps: int = 6,
    resume_steps: int = 4,
    run_jit: bool = True,
    run_mixed_precision: bool = True,
    run_distributed: bool = True,
    atol: float = 1e-6,
) -> dict[str, Any]:
    """Runs the shared checks on an optimizer class.

    Trains a small regression model for `steps` full-batch steps, saves it as `.keras` with the
    optimizer state, reloads it and trains both copies `resume_steps` more steps: the reloaded
    copy must follow the original exactly (slot variables restored). Also requires the loss to
    fall, XLA to agree with the plain run, and a `mixed_float16` run under a two-device
    `MirroredStrategy` to stay finite.

    Returns:
        A dict with the final `"weights"` and the per-step `"losses"` of the plain run.
    """
    optimizer = cls(**init_kwargs)
    assert_config_round_trip(optimizer, init_kwargs)
    x, y = _regression_problem()
    batch = len(x)

    def train(model, n, jit=False, fresh_optimizer=True, build_first=False, one_epoch=False):
        """`n` full-batch steps; the loss of each (one epoch each), or with `one_epoch` their
        mean (finite only if each is): a new epoch costs a new input iterator, about a quarter
        of a CPU second under `MirroredStrategy`."""
        if fresh_optimizer:
            model.compile(optimizer=cls(**init_kwargs), loss="mse", jit_compile=jit)
        if build_first:
            # The plain run built the slots inside the traced step; the others build them first
            # and trace once (see `_fit_one_epoch`).
            model.optimizer.build(model.trainable_variables)
        if one_epoch:
            data = tf.data.Dataset.from_tensors((x, y)).repeat(n)
            history = model.fit(data, epochs=1, verbose=0, shuffle=False)
        else:
            history = model.fit(x, y, batch_size=batch, epochs=n, verbose=0, shuffle=False)
        return history.history["loss"]

    # A hidden layer of 384 weights: the users' XLA path below needs one that large (a slot
    # variable initialised from it cannot be lifted out of an XLA step unless the optimizer
    # creates it outside, in `tf.init_scope`), and this plain run is its reference.
    model = _regression_model(width=64)
    losses = train(model, steps)
    if not np.all(np.isfinite(losses)) or not losses[-1] < losses[0]:
        raise AssertionError(f"{cls.__name__}: the loss did not fall: {losses}")
    plain_weights = model.get_weights()

    with temporary_path("optimizer.keras") as path:
        model.save(path)
        loaded = keras.saving.load_model(path)
    if type(loaded.optimizer) is not cls:
        raise AssertionError(f"reloaded optimizer is a {type(loaded.optimizer).__name__}")
    assert_allclose(
        [v.numpy() for v in loaded.optimizer.variables],
        [v.numpy() for v in model.optimizer.variables],
        0,
        0,
        "optimizer variables after the .keras round trip",
    )
    train(model, resume_steps, fresh_optimizer=False, one_epoch=True)
    train(loaded, resume_steps, fresh_optimizer=False, one_epoch=True)
    assert_allclose(
        loaded.get_weights(), model.get_weights(), atol, atol, "resumed training after reload"
    )

    if run_jit:
        # The users' XLA path (the optimizer builds inside the compiled step), from the same
        # initial weights as the plain run: the same weights after `steps` steps.
        compiled = _regression_model(width=64)
        train(compiled, steps, jit=True, one_epoch=True)
        assert_allclose(compiled.get_weights(), plain_weights, 1e-4, 1e-4, "XLA vs plain")

    if run_mixed_precision or run_distributed:
        # One run covers both (the plain run above covers float32 on one device).
        def fit_fresh(build_first: bool):
            fresh = _regression_model()
            return fresh, train(fresh, steps, build_first=build_first, one_epoch=True)

        (fresh, fresh_losses), what = run_mixed_and_distributed(
            fit_fresh, mixed=run_mixed_precision, distributed=run_distributed
        )
        if not np.all(np.isfinite(fresh_losses)):
            raise AssertionError(f"{what}: losses are not finite: {fresh_losses}")
        if run_mixed_precision and not isinstance(
            fresh.optimizer, keras.optimizers.LossScaleOptimizer
        ):
            raise AssertionError("under mixed_float16 the optimizer was not loss-scaled")

    return {"weights": model.get_weights(), "losses": losses}


# --------------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------------


def run_schedule_test(
    cls: type,
    init_kwargs: dict[str, Any],
    steps,
    *,
    expected=None,
    atol: float = 1e-7,
    rtol: float = 1e-6,
) -> np.ndarray:
    """Runs the shared checks on a learning-rate schedule class.

    Compares eager, `tf.function` and XLA values at `steps` (and `expected`, if given), checks
    the config, trains through `fit` with the schedule inside AdamW (with and without XLA: the
    same weights), and saves and reloads that model as `.keras` with the schedule intact.

    Returns:
        The eager values at `steps`.
    """
    schedule = cls(**init_kwargs)
    assert_config_round_trip(schedule, init_kwargs)
    steps = np.asarray(steps)
    values = np.array([float(schedule(int(s))) for s in steps])
    if expected is not None:
        np.testing.assert_allclose(values, expected, atol=atol, rtol=rtol)
    clone = cls.from_config(schedule.get_config())
    np.testing.assert_allclose([float(clone(int(s))) for s in steps], values, atol=atol, rtol=rtol)
    for jit in (False, True):
        fn = tf.function(lambda s: schedule(s), jit_compile=jit)
        graph = np.array([float(fn(tf.constant(int(s), tf.int64))) for s in steps])
        np.testing.assert_allclose(graph, values, atol=atol, rtol=max(rtol, 1e-6))

    x, y = _regression_problem()

    def fit_new_model(jit: bool) -> keras.Model:
        model = _regression_model()
        optimizer = keras.optimizers.AdamW(learning_rate=cls(**init_kwargs))
        model.compile(optimizer=optimizer, loss="mse", jit_compile=jit)
        model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
        return model

    model = fit_new_model(jit=False)
    compiled = fit_new_model(jit=True)  # the schedule traced inside an XLA training step
    assert_allclose(compiled.get_weights(), model.get_weights(), 1e-5, 1e-4, "XLA fit vs plain")
    with temporary_path("schedule.keras") as path:
        model.save(path)
        loaded = keras.saving.load_model(path)
    restored = loaded.optimizer._learning_rate
    if type(restored) is not cls or restored.get_config() != schedule.get_config():
        raise AssertionError(f"the schedule did not survive the .keras round trip: {restored}")
    return values


# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------


def run_loss_test(
    cls: type,
    init_kwargs: dict[str, Any],
    y_true,
    y_pred,
    *,
    expected=None,
    run_mixed_precision: bool = True,
    atol: float = 1e-5,
    rtol: float = 1e-5,
) -> float:
    """Runs the shared checks on a loss class.

    Compares eager, `tf.function` and XLA values (and `expected`, if given), requires finite
    gradients with respect to `y_pred`, evaluates float16 predictions, and trains a linear model
    producing `y_pred`-shaped outputs with the loss through `fit` (with and without XLA: the same
    weights), saved and reloaded as `.keras`.

    Returns:
        The eager loss value.
    """
    loss = cls(**init_kwargs)
    assert_config_round_trip(loss, init_kwargs)
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred, dtype="float32")
    value = float(loss(y_true, y_pred))
    if expected is not None:
        np.testing.assert_allclose(value, expected, atol=atol, rtol=rtol)
    for jit in (False, True):
        graph = float(tf.function(lambda t, p: loss(t, p), jit_compile=jit)(y_true, y_pred))
        np.testing.assert_allclose(graph, value, atol=atol * 10, rtol=rtol * 10)

    prediction = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        result = loss(y_true, prediction)
    gradient = tape.gradient(result, prediction)
    if gradient is None or not np.all(np.isfinite(gradient.numpy())):
        raise AssertionError(f"{cls.__name__}: gradient with respect to y_pred is missing or NaN")

    if run_mixed_precision:
        half = float(loss(y_true, y_pred.astype("float16")))
        np.testing.assert_allclose(half, value, rtol=2e-2, atol=2e-2)

    rng = np.random.default_rng(0)
    features = rng.normal(size=(len(y_true), 5)).astype("float32")

    def fit_new_model(jit: bool) -> keras.Model:
        keras.utils.set_random_seed(0)
        inputs = keras.Input((5,))
        flat = keras.layers.Dense(int(np.prod(y_pred.shape[1:])))(inputs)
        model = keras.Model(inputs, keras.layers.Reshape(y_pred.shape[1:])(flat))
        model.compile(
            optimizer=keras.optimizers.SGD(0.01), loss=cls(**init_kwargs), jit_compile=jit
        )
        _fit_one_epoch(model, features, y_true, batch_size=len(y_true))
        return model

    model = fit_new_model(jit=False)
    compiled = fit_new_model(jit=True)  # the loss traced inside an XLA training step
    assert_allclose(compiled.get_weights(), model.get_weights(), 1e-5, 1e-4, "XLA fit vs plain")
    evaluated = model.evaluate(features, y_true, batch_size=len(y_true), verbose=0)
    with temporary_path("loss.keras") as path:
        model.save(path)
        loaded = keras.saving.load_model(path)
    reloaded = loaded.evaluate(features, y_true, batch_size=len(y_true), verbose=0)
    np.testing.assert_allclose(reloaded, evaluated, rtol=1e-5, atol=1e-6)
    return value


# --------------------------------------------------------------------------------------------
# Callbacks
# --------------------------------------------------------------------------------------------


def run_callback_test(
    callback_fn: Callable[[], keras.callbacks.Callback],
    *,
    model_fn: Callable[[], keras.Model] | None = None,
    data=None,
    epochs: int = 2,
    batch_size: int = 8,
    run_jit: bool = True,
) -> tuple[keras.Model, keras.callbacks.History, keras.callbacks.Callback]:
    """Runs a callback through real `fit`, `evaluate` and `predict`, then a `.keras` round trip.

    Args:
        callback_fn: returns a fresh callback.
        model_fn: returns a compiled model; defaults to a small regression model with AdamW.
        data: `(x, y)`; defaults to a small regression problem.
        epochs: epochs of `fit`.
        batch_size: batch size.
        run_jit: also fit a fresh model (same seed) with `jit_compile=True` and require the same
            weights as the plain fit.

    Returns:
        `(model, history, callback)` for further assertions.
    """
    x, y = data if data is not None else _regression_problem()

    def new_model() -> keras.Model:
        if model_fn is not None:
            return model_fn()
        model = _regression_model()
        model.compile(optimizer=keras.optimizers.AdamW(0.01), loss="mse")
        return model

    if run_jit:
        # The users' XLA path with the callback: the same weights as without XLA.
        keras.utils.set_random_seed(0)
        compiled = new_model()
        compiled.jit_compile = True
        compiled.fit(
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            verbose=0,
            callbacks=[callback_fn()],
            shuffle=False,
        )
    keras.utils.set_random_seed(0)
    model = new_model()
    callback = callback_fn()
    history = model.fit(
        x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[callback], shuffle=False
    )
    if run_jit:
        assert_allclose(compiled.get_weights(), model.get_weights(), 1e-4, 1e-3, "XLA vs plain")
    if not all(np.isfinite(history.history["loss"])):
        raise AssertionError(f"fit with the callback gave non-finite losses: {history.history}")
    model.evaluate(x, y, batch_size=batch_size, verbose=0, callbacks=[callback])
    predictions = model.predict(x, batch_size=batch_size, verbose=0, callbacks=[callback])
    with temporary_path("callback.keras") as path:
        model.save(path)
        loaded = keras.saving.load_model(path)
    assert_allclose(loaded.predict(x, verbose=0), predictions, 1e-5, 1e-5, ".keras after callback")
    return model, history, callback
