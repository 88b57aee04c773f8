"""The base of every zoo backbone: a functional network whose config is its arguments."""

from __future__ import annotations

from typing import Any

import keras

from zoo.models.arguments import ConstructorConfig, resolve_dtype_policy


class Backbone(ConstructorConfig, keras.Model):
    """A functional feature extractor: built in `__init__`, configured by its arguments.

    Subclasses validate their arguments, resolve the dtype policy with
    `Backbone.dtype_policy_from(kwargs)`, build the graph with that policy on every layer and
    call `super().__init__(inputs=..., outputs=..., dtype=policy, **kwargs)`. Every explicit
    argument of the subclass's `__init__` is then an attribute (unless `keras.Model` already
    has an attribute of that name, such as `input_shape`) and part of `get_config`, so
    `from_config` is `cls(**config)` and no subclass writes `get_config` by hand.

    Outputs are a dict: `{"sequence_output": ...}` for token models (with `"pooled_output"`
    where the architecture has a pooler), `{"feature_map": ...}` or `{"sequence_output": ...}`
    for image models.

    Named configurations are registry entries with `task="backbone"`; `from_preset` builds one.

    Example:

    ```python
    @keras.saving.register_keras_serializable(package="keras_zoo")
    class TinyBackbone(Backbone):
        def __init__(self, hidden_dim: int = 8, **kwargs):
            dtype = self.dtype_policy_from(kwargs)
            inputs = keras.Input((4,), name="features")
            outputs = keras.layers.Dense(hidden_dim, dtype=dtype)(inputs)
            super().__init__(inputs=inputs, outputs={"sequence_output": outputs},
                             dtype=dtype, **kwargs)

    TinyBackbone(hidden_dim=16).get_config()["hidden_dim"]  # 16
    ```
    """

    def __init__(self, *, inputs, outputs, dtype=None, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.dtype_policy = resolve_dtype_policy(dtype)  # Functional ignores a `dtype` argument
        for name, value in self._constructor_arguments.items():
            if not hasattr(type(self), name) and name not in self.__dict__:
                setattr(self, name, value)

    @staticmethod
    def dtype_policy_from(kwargs: dict[str, Any]) -> keras.DTypePolicy:
        """Pops `dtype` from a subclass's `**kwargs` and returns the policy to build with."""
        return resolve_dtype_policy(kwargs.pop("dtype", None))

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> Backbone:
        """Builds the registered backbone preset `name` (random weights), `overrides` applied.

        Args:
            name: a registry name whose task is `"backbone"` (see `zoo.list_models(task=
                "backbone")`) and whose class is `cls` or a subclass of it.
            **overrides: arguments replacing the preset's.

        Example:

        ```python
        backbone = BertBackbone.from_preset("bert_tiny_en_uncased", dropout=0.0)
        ```
        """
        from zoo import registry

        spec = registry.get_spec(name)
        if spec.task != "backbone" or not _is_subclass(spec.builder, cls):
            raise ValueError(
                f"{name!r} is not a {cls.__name__} preset (it is a {spec.task!r} of family "
                f"{spec.family!r}). Backbone presets of this class: "
                f"{preset_names(cls)}. Received: name={name!r}"
            )
        return spec.build(**overrides)


def _is_subclass(builder, cls: type) -> bool:
    return isinstance(builder, type) and issubclass(builder, cls)


def preset_names(cls: type) -> list[str]:
    """Registry names of the backbone presets of `cls` (or its subclasses)."""
    from zoo import registry

    return [
        name
        for name in registry.list_models(task="backbone")
        if _is_subclass(registry.get_spec(name).builder, cls)
    ]
