"""The model registry: named, ready-to-train models.

A registered name maps to a builder (a model class or a function returning a `keras.Model`) and
the keyword arguments that make it a named configuration. `create(name, **overrides)` builds it;
`list_models(pattern)` lists the names. Every registered model also declares a `tiny` set of
overrides that the test suite uses to build and run it on small inputs.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
from collections.abc import Callable
from typing import Any

import keras


class UnknownModelError(ValueError):
    """Raised by `create` for a name that is not registered."""


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A registered model: how to build it and how to test it small.

    Attributes:
        name: registry name.
        builder: callable returning a `keras.Model` from keyword arguments.
        defaults: keyword arguments that make this named configuration.
        description: one line shown by `zoo list`.
        tiny: overrides that make a small, fast version for tests.
        example_inputs: optional callable `(model, batch_size) -> inputs` for models whose inputs
            cannot be drawn from their input specs alone (token ids, for instance).
        search_space: optional callable `(hp) -> overrides` declaring the family's architecture
            hyperparameters for KerasTuner (see `zoo.tuning`).
    """

    name: str
    builder: Callable[..., keras.Model]
    defaults: dict[str, Any]
    description: str
    tiny: dict[str, Any]
    example_inputs: Callable[[keras.Model, int], Any] | None = None
    search_space: Callable[[Any], dict[str, Any]] | None = None

    def build(self, **overrides: Any) -> keras.Model:
        return self.builder(**{**self.defaults, **overrides})


_REGISTRY: dict[str, ModelSpec] = {}


def register(
    name: str,
    builder: Callable[..., keras.Model] | None = None,
    *,
    description: str = "",
    tiny: dict[str, Any] | None = None,
    example_inputs: Callable[[keras.Model, int], Any] | None = None,
    search_space: Callable[[Any], dict[str, Any]] | None = None,
    **defaults: Any,
):
    """Registers a model builder under `name`.

    Use it as a decorator on a class or function, or call it with the builder to register a named
    configuration of an existing class.

    Args:
        name: the registry name. Must be unused.
        builder: a model class or function returning a `keras.Model`. When omitted, `register`
            returns a decorator.
        description: one line shown by `zoo list`. Defaults to the builder's docstring summary.
        tiny: overrides that make a small, fast version for the parametrised test. Defaults to
            `{}`.
        example_inputs: optional callable `(model, batch_size) -> inputs` used by tests when
            inputs cannot be drawn from the model's input specs alone.
        search_space: optional callable `(hp) -> overrides` declaring architecture
            hyperparameters with a `keras_tuner.HyperParameters` object (see `zoo.tuning`).
        **defaults: keyword arguments that make this configuration.

    Example:

    ```python
    @zoo.register("mlp_tiny", hidden_units=(16,))
    class MLPClassifier(keras.Model): ...

    zoo.register("vit_tiny_32", ViTClassifier, image_size=32, patch_size=4)
    ```
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"`name` must be a non-empty string. Received: name={name!r}")

    def decorator(fn: Callable[..., keras.Model]) -> Callable[..., keras.Model]:
        if not callable(fn):
            raise TypeError(f"`builder` must be callable. Received: builder={fn!r}")
        if name in _REGISTRY:
            existing = _REGISTRY[name].builder
            raise ValueError(
                f"A model named {name!r} is already registered (by {existing.__module__}."
                f"{existing.__qualname__}). Received: name={name!r}"
            )
        summary = description or (fn.__doc__ or "").strip().split("\n")[0]
        _REGISTRY[name] = ModelSpec(
            name=name,
            builder=fn,
            defaults=dict(defaults),
            description=summary,
            tiny=dict(tiny or {}),
            example_inputs=example_inputs,
            search_space=search_space,
        )
        return fn

    if builder is None:
        return decorator
    decorator(builder)
    return builder


def unregister(name: str) -> None:
    """Removes `name` from the registry (for tests and interactive sessions)."""
    get_spec(name)
    del _REGISTRY[name]


def get_spec(name: str) -> ModelSpec:
    """Returns the `ModelSpec` registered under `name`.

    Raises:
        UnknownModelError: `name` is not registered; the message suggests the closest names.
    """
    if name in _REGISTRY:
        return _REGISTRY[name]
    close = difflib.get_close_matches(str(name), list(_REGISTRY), n=3, cutoff=0.4)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise UnknownModelError(
        f"Unknown model name {name!r}.{hint} Run `zoo list` to see all {len(_REGISTRY)} "
        f"registered models. Received: name={name!r}"
    )


def create(name: str, **overrides: Any) -> keras.Model:
    """Builds the registered model `name`, with `overrides` applied to its configuration.

    Args:
        name: a name from `list_models()`.
        **overrides: keyword arguments replacing the configuration's defaults.

    Returns:
        A built `keras.Model`; task models (classifiers) come compiled with sensible defaults.

    Example:

    ```python
    model = zoo.create("cnn_digits", dropout=0.2)
    model.fit(x, y, epochs=3)
    ```
    """
    return get_spec(name).build(**overrides)


def list_models(pattern: str | None = None) -> list[str]:
    """Returns the sorted registered names, filtered by a shell-style `pattern` (e.g. `"vit_*"`)."""
    names = sorted(_REGISTRY)
    if pattern is None:
        return names
    return [name for name in names if fnmatch.fnmatchcase(name, pattern)]
