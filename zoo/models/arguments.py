"""Configuration from the constructor's signature, for the zoo's functional models.

A functional `keras.Model` subclass builds its graph in `__init__`; its config is the arguments
that `__init__` received. `ConstructorConfig` records them when the object is created (before
`__init__` runs, the way Keras's own `Operation.__new__` records a layer's arguments), so no
model writes `get_config` by hand: tuples become lists, Keras objects (a backbone, a
preprocessor, an initializer) are serialised with `keras.saving.serialize_keras_object` and come
back through `from_config`.
"""

from __future__ import annotations

import inspect
import types
from typing import Any

import keras
import numpy as np

# Keys `keras.Model.get_config` returns for every model; never constructor-specific.
BASE_KEYS = ("name", "trainable", "dtype")


def constructor_argument_names(cls: type) -> list[str]:
    """Names of the explicit arguments of `cls.__init__` (no `self`, `*args`, `**kwargs`)."""
    skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return [p.name for p in parameters if p.kind not in skip]


def to_config_value(value: Any) -> Any:
    """`value` as it is stored in a config: JSON-friendly, Keras objects serialised."""
    if isinstance(value, tuple | list):
        return [to_config_value(v) for v in value]
    if isinstance(value, dict):
        return {k: to_config_value(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "get_config"):
        return keras.saving.serialize_keras_object(value)
    return value


def is_serialized_object(value: Any) -> bool:
    """Whether `value` is what `serialize_keras_object` makes of a Keras object."""
    return isinstance(value, dict) and "class_name" in value and "config" in value


def from_config_value(value: Any) -> Any:
    """Undoes `to_config_value` for serialised Keras objects (plain values stay as they are)."""
    if is_serialized_object(value):
        return keras.saving.deserialize_keras_object(value)
    return value


class ConstructorConfig:
    """Mixin for `keras.Model` subclasses: `get_config` returns the constructor's arguments.

    Put it before `keras.Model` in the bases. Every explicit argument of the concrete class's
    `__init__` (defaults included) is recorded as the object is created; `get_config` returns
    them with the model's name, trainable flag and dtype policy, and `from_config` is
    `cls(**config)` with serialised Keras objects deserialised first.
    """

    def __new__(cls, *args, **kwargs):
        instance = super().__new__(cls, *args, **kwargs)
        try:
            bound = inspect.signature(cls.__init__).bind(instance, *args, **kwargs)
        except TypeError:
            # Keras calls `cls.__new__(cls)` bare when it makes a class functional; `__init__`
            # then reports the missing arguments itself.
            bound = None
        arguments = {}
        if bound is not None:
            bound.apply_defaults()
            arguments = {name: bound.arguments[name] for name in constructor_argument_names(cls)}
        # A read-only mapping: Keras's saving walks dict attributes for weights, and the live
        # backbone must be saved once, under its own attribute.
        object.__setattr__(instance, "_constructor_arguments", types.MappingProxyType(arguments))
        return instance

    @property
    def constructor_arguments(self) -> dict[str, Any]:
        """The arguments `__init__` received, defaults filled in (live objects, not configs)."""
        return dict(self._constructor_arguments)

    def get_config(self) -> dict[str, Any]:
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
        }
        for name, value in self._constructor_arguments.items():
            config[name] = to_config_value(value)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        config = {key: from_config_value(value) for key, value in config.items()}
        return cls(**config)


def resolve_dtype_policy(dtype) -> keras.DTypePolicy:
    """The policy for a model's layers: `dtype` if given, else the global policy.

    Models pass it to every layer they create, so a model built under `mixed_float16` reloads
    as `mixed_float16` whatever the global policy is at load time.
    """
    return keras.dtype_policies.get(dtype) if dtype is not None else keras.config.dtype_policy()
