"""MultiOptimizer: a different optimizer for each group of layers."""

from __future__ import annotations

import keras
from keras.src.utils import tracking

from layers.optimizers._wrapper import resolve_optimizer


def _weight_names(layers) -> list[str]:
    """The paths of the trainable weights of a layer, a model or a list of them."""
    layers = layers if isinstance(layers, list | tuple) else [layers]
    for layer in layers:
        if not isinstance(layer, keras.layers.Layer):
            raise TypeError(
                "Each entry of `optimizers_and_layers` must be `(optimizer, layer)` with a "
                f"`keras.layers.Layer`, a `keras.Model` or a list of them. Received: {layer!r}"
            )
    return [weight.path for layer in layers for weight in layer.trainable_weights]


def _listed(variable, names: set[str]) -> bool:
    """Whether a spec's weight names hold the variable: its path, the end of its path after a
    `/` (`"head/kernel"` for `"sequential/head/kernel"`), or its name (TFA's end in `":0"`)."""
    path = getattr(variable, "path", variable.name)
    parts = path.split("/")
    endings = {"/".join(parts[i:]) for i in range(len(parts))}
    return bool((endings | {variable.name.split(":")[0]}) & names)


@keras.saving.register_keras_serializable(package="keras_zoo")
class MultiOptimizer(keras.optimizers.Optimizer):
    """Applies a different optimizer to each group of layers (discriminative layer training),
    with TensorFlow Addons' arguments (`tfa.optimizers.MultiOptimizer`).

    Each pair `(optimizer, layers)` gives the optimizer that updates the trainable weights of
    `layers` (a layer, a model, or a list of them); the layers may still be unbuilt, their
    weights are looked up when the optimizer is built. As in TFA, a weight that belongs to no
    group is not updated, and each optimizer keeps its own learning rate, iteration count and
    slots (saved in `.keras` files with the model). The saved config names the weights by
    path (`optimizer_specs`, `{"optimizer": ..., "weights": ["dense/kernel", ...]}`), which
    may also be passed directly: a weight is listed by its path, the end of its path
    (`"head/kernel"` for `"sequential/head/kernel"`), or its name (TFA's `":0"` suffix is
    dropped).

    Args:
        optimizers_and_layers: a list of `(optimizer, layers)` pairs.
        optimizer_specs: instead, a list of `{"optimizer": optimizer or its config,
            "weights": [weight paths]}`.
        name: defaults to `"MultiOptimizer"`.

    Example:

    ```python
    optimizer = MultiOptimizer(
        [(keras.optimizers.Adam(1e-4), backbone), (keras.optimizers.Adam(1e-2), head)]
    )
    model.compile(optimizer=optimizer, loss="mse")
    ```
    """

    def __init__(
        self,
        optimizers_and_layers: list | None = None,
        optimizer_specs: list | None = None,
        name: str = "MultiOptimizer",
        **kwargs,
    ):
        if (optimizers_and_layers is None) == (optimizer_specs is None):
            raise ValueError(
                "Pass exactly one of `optimizers_and_layers` and `optimizer_specs`. Received: "
                f"optimizers_and_layers={optimizers_and_layers!r}, "
                f"optimizer_specs={optimizer_specs!r}"
            )
        if kwargs:
            raise TypeError(
                f"MultiOptimizer takes no optimizer options; set them on the optimizers it "
                f"holds. Received: {sorted(kwargs)}"
            )
        super().__init__(learning_rate=0.0, name=name)
        optimizers, self._groups = [], []
        if optimizers_and_layers is not None:
            for entry in optimizers_and_layers:
                if not isinstance(entry, list | tuple) or len(entry) != 2:
                    raise TypeError(
                        "`optimizers_and_layers` must hold `(optimizer, layers)` pairs. "
                        f"Received: {entry!r}"
                    )
                optimizers.append(resolve_optimizer(entry[0]))
                _weight_names(entry[1])  # checks the layers now
                self._groups.append(entry[1])
        else:
            for spec in optimizer_specs:
                if not isinstance(spec, dict) or set(spec) != {"optimizer", "weights"}:
                    raise TypeError(
                        "Each optimizer spec must be `{'optimizer': ..., 'weights': [...]}`. "
                        f"Received: {spec!r}"
                    )
                optimizers.append(resolve_optimizer(spec["optimizer"]))
                self._groups.append([str(name) for name in spec["weights"]])
        self.optimizers = optimizers

    def _group_weight_names(self, group) -> list[str]:
        if isinstance(group, list) and group and all(isinstance(name, str) for name in group):
            return list(group)
        return _weight_names(group)

    @tracking.no_automatic_dependency_tracking
    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._owner = {}
        for index, group in enumerate(self._groups):
            names = {name.split(":")[0] for name in self._group_weight_names(group)}
            members = [v for v in var_list if _listed(v, names)]
            for variable in members:
                self._owner.setdefault(self._var_key(variable), index)
            self.optimizers[index].build(members)

    @property
    def variables(self):
        return self._variables + [v for opt in self.optimizers for v in opt.variables]

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None:
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            with keras.name_scope(self.name, caller=self):
                self.build(trainable_variables)
            self.built = True
        pairs = [[] for _ in self.optimizers]
        for gradient, variable in zip(grads, trainable_variables, strict=True):
            index = self._owner.get(self._var_key(variable))
            if index is not None and gradient is not None:
                pairs[index].append((gradient, variable))
        for optimizer, group in zip(self.optimizers, pairs, strict=True):
            if group:
                optimizer.apply([g for g, _ in group], [v for _, v in group])
        self._iterations.assign_add(1)

    def finalize_variable_values(self, var_list):
        for optimizer in self.optimizers:
            optimizer.finalize_variable_values(var_list)

    def get_config(self):
        specs = [
            {
                "optimizer": keras.saving.serialize_keras_object(optimizer),
                "weights": self._group_weight_names(group),
            }
            for optimizer, group in zip(self.optimizers, self._groups, strict=True)
        ]
        return {"name": self.name, "optimizers_and_layers": None, "optimizer_specs": specs}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["optimizer_specs"] = [
            {
                "optimizer": keras.saving.deserialize_keras_object(
                    spec["optimizer"], custom_objects=custom_objects
                ),
                "weights": spec["weights"],
            }
            for spec in config["optimizer_specs"]
        ]
        return cls(**config)
