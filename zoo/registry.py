"""The model registry: named, ready-to-train models and the presets of every family.

A registered name maps to a builder (a model class, or a function returning a `keras.Model`),
the keyword arguments that make it a named configuration, the family it belongs to (`"vit"`,
`"bert"`, ...) and its task (`"backbone"`, `"classifier"`, `"masked_lm"`, ...). Presets are
registry entries: `Backbone.from_preset` and `Task.from_preset` build from them.
`create(name, **overrides)` builds any entry; `list_models(pattern, family=, task=)` lists the
names. Every registered model also declares a `tiny` set of overrides that the test suite uses
to build and run it on small inputs, and a `search_space` for `zoo tune` where it can be tuned.
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
        builder: callable returning a `keras.Model` from keyword arguments: a model class or a
            function. A `zoo.models.Task` class with a backbone class is built with
            `Task.from_arguments`, so `defaults` may mix task and backbone arguments.
        defaults: keyword arguments that make this named configuration.
        description: one line shown by `zoo list`.
        tiny: overrides that make a small, fast version for tests.
        family: the model family (one folder of the zoo), e.g. `"vit"` or `"bert"`.
        task: what the model does: `"backbone"` for a feature extractor (a preset), else the
            task, e.g. `"classifier"`.
        backbone: for a task class, the backbone class to build from the flat arguments when it
            is not the task's own `backbone_class` (e.g. a classifier on a RoBERTa backbone).
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
    family: str = "custom"
    task: str = "model"
    backbone: type | None = None
    example_inputs: Callable[[keras.Model, int], Any] | None = None
    search_space: Callable[[Any], dict[str, Any]] | None = None

    @property
    def tunable(self) -> bool:
        """Whether `zoo tune` can search this model (it declares a `search_space`)."""
        return self.search_space is not None

    def build(self, **overrides: Any) -> keras.Model:
        from zoo.models.task import Task

        arguments = {**self.defaults, **overrides}
        builder = self.builder
        builds_its_backbone = (
            isinstance(builder, type)
            and issubclass(builder, Task)
            and "backbone" not in arguments
            and (self.backbone or builder.backbone_class) is not None
        )
        if builds_its_backbone:
            return builder.from_arguments(backbone_class=self.backbone, **arguments)
        return builder(**arguments)


_REGISTRY: dict[str, ModelSpec] = {}


def register(
    name: str,
    builder: Callable[..., keras.Model] | None = None,
    *,
    family: str = "custom",
    task: str | None = None,
    backbone: type | None = None,
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
        family: the model family, the name of its folder (`"vit"`, `"bert"`). Defaults to
            `"custom"`.
        task: `"backbone"` for a backbone preset, else the task (`"classifier"`,
            `"masked_lm"`, ...). Defaults to `"backbone"` for a `zoo.models.Backbone` class and
            `"model"` otherwise.
        backbone: for a `zoo.models.Task` class, the backbone class its flat arguments build,
            when not the task's `backbone_class`. Defaults to `None`.
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
            family=family,
            task=task or _default_task(fn),
            backbone=backbone,
            example_inputs=example_inputs,
            search_space=search_space,
        )
        return fn

    if builder is None:
        return decorator
    decorator(builder)
    return builder


def _default_task(builder) -> str:
    from zoo.models.backbone import Backbone

    is_backbone = isinstance(builder, type) and issubclass(builder, Backbone)
    return "backbone" if is_backbone else "model"


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


def default_jit_compile(name: str) -> bool | str:
    """The registered model's family default for `jit_compile` (`Task.default_jit_compile`):
    `True` where XLA measured faster on CPU, else `"auto"` (Keras's default)."""
    return getattr(get_spec(name).builder, "default_jit_compile", "auto")


def list_models(
    pattern: str | None = None, *, family: str | None = None, task: str | None = None
) -> list[str]:
    """Returns the sorted registered names, filtered by a shell-style `pattern` (e.g. `"vit_*"`),
    a `family` (e.g. `"bert"`) and a `task` (e.g. `"backbone"` for the presets)."""
    return [
        name
        for name, spec in sorted(_REGISTRY.items())
        if (pattern is None or fnmatch.fnmatchcase(name, pattern))
        and (family is None or spec.family == family)
        and (task is None or spec.task == task)
    ]


def list_families() -> list[str]:
    """The sorted family names of the registered models."""
    return sorted({spec.family for spec in _REGISTRY.values()})
