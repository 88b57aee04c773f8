"""KerasTuner hypermodels for every registered model family.

`hypermodel(name)` searches the family's architecture (its registered `search_space`) together
with this project's training components: the optimizer (AdamW, Ranger, Lookahead around AdamW),
the learning-rate schedule (constant, cosine, one-cycle, cyclical), learning rate and weight
decay. Any hyperparameter can be pinned with a keyword argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import keras_tuner

from zoo import registry

OPTIMIZERS = ("adamw", "ranger", "lookahead")
SCHEDULES = ("constant", "cosine", "one_cycle", "cyclical")
TRAINING_HYPERPARAMETERS = ("learning_rate", "weight_decay", "optimizer", "schedule")


def model_overrides(model_name: str, fixed: dict[str, Any]) -> dict[str, Any]:
    """The pinned values that go to the model builder as they are.

    A pinned name is either a hyperparameter (of the family's search space or of training),
    pinned with `hp.Fixed`, or a constructor argument passed straight to the builder (e.g.
    `input_shape`, or `hidden_units` overriding what the search space derives).
    """
    spec = registry.get_spec(model_name)
    scratch = keras_tuner.HyperParameters()
    if spec.search_space is not None:
        spec.search_space(scratch)
    searched = set(scratch.values) | set(TRAINING_HYPERPARAMETERS)
    return {k: v for k, v in fixed.items() if k not in searched}


def make_schedule(kind: str, learning_rate: float, total_steps: int | None):
    """A learning-rate schedule peaking at `learning_rate` over `total_steps` steps."""
    from layers.schedules import CyclicalLearningRate, OneCycle

    if kind == "constant":
        return learning_rate
    if total_steps is None:
        raise ValueError(
            f"The {kind!r} schedule needs the number of training steps; pass `total_steps`. "
            f"Received: total_steps=None"
        )
    if kind == "cosine":
        return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps)
    if kind == "one_cycle":
        return OneCycle(max_learning_rate=learning_rate, total_steps=total_steps)
    if kind == "cyclical":
        return CyclicalLearningRate(
            initial_learning_rate=learning_rate / 10,
            maximal_learning_rate=learning_rate,
            step_size=max(1, total_steps // 4),
            mode="triangular2",
        )
    raise ValueError(f"`schedule` must be one of {SCHEDULES}. Received: schedule={kind!r}")


def make_optimizer(kind: str, learning_rate, weight_decay: float) -> keras.optimizers.Optimizer:
    """AdamW, Ranger (RAdam inside Lookahead) or Lookahead around AdamW."""
    from layers.optimizers import Lookahead, Ranger

    if kind == "adamw":
        return keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay)
    if kind == "ranger":
        return Ranger(learning_rate=learning_rate, weight_decay=weight_decay)
    if kind == "lookahead":
        return Lookahead(keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay))
    raise ValueError(f"`optimizer` must be one of {OPTIMIZERS}. Received: optimizer={kind!r}")


class ZooHyperModel(keras_tuner.HyperModel):
    """A KerasTuner `HyperModel` over a registered model and its training components.

    Args:
        model_name: a registered model name whose family declares a `search_space`.
        total_steps: training steps of one full trial (epochs x steps per epoch), needed by the
            cosine, one-cycle and cyclical schedules. Defaults to `None` (constant only).
        optimizers: optimizer choices. Defaults to `("adamw", "ranger", "lookahead")`.
        schedules: schedule choices. Defaults to `("constant", "cosine", "one_cycle",
            "cyclical")`, or `("constant",)` without `total_steps`.
        fixed: hyperparameters pinned to a value (architecture or training), e.g.
            `{"dropout": 0.0, "optimizer": "adamw"}`.

    Example:

    ```python
    tuner = keras_tuner.RandomSearch(ZooHyperModel("mlp_digits"), "val_accuracy", max_trials=5)
    tuner.search(x, y, validation_split=0.2, epochs=5)
    ```
    """

    def __init__(
        self,
        model_name: str,
        total_steps: int | None = None,
        optimizers: Sequence[str] = OPTIMIZERS,
        schedules: Sequence[str] | None = None,
        fixed: dict[str, Any] | None = None,
        **kwargs,
    ):
        spec = registry.get_spec(model_name)
        if spec.search_space is None:
            raise ValueError(
                f"Model {model_name!r} declares no `search_space` in the registry. "
                f"Received: model_name={model_name!r}"
            )
        if schedules is None:
            schedules = SCHEDULES if total_steps else ("constant",)
        for name, values, allowed in (
            ("optimizers", optimizers, OPTIMIZERS),
            ("schedules", schedules, SCHEDULES),
        ):
            unknown = [v for v in values if v not in allowed]
            if not values or unknown:
                raise ValueError(
                    f"`{name}` must be a non-empty subset of {allowed}. Received: {name}={values!r}"
                )
        if total_steps is None and set(schedules) != {"constant"}:
            raise ValueError(
                "Schedules other than 'constant' need `total_steps`. "
                f"Received: total_steps=None, schedules={schedules!r}"
            )
        super().__init__(name=model_name, **kwargs)
        self.spec = spec
        self.total_steps = total_steps
        self.optimizers = tuple(optimizers)
        self.schedules = tuple(schedules)
        self.fixed = dict(fixed or {})
        self.overrides = model_overrides(model_name, self.fixed)

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        # A name registered first keeps its value: KerasTuner returns the existing value.
        for name, value in self.fixed.items():
            if name not in self.overrides:
                hp.Fixed(name, value)
        architecture = {**self.spec.search_space(hp), **self.overrides}
        model = self.spec.build(**architecture)
        learning_rate = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
        weight_decay = hp.Float("weight_decay", 1e-6, 1e-2, sampling="log")
        schedule = make_schedule(
            hp.Choice("schedule", list(self.schedules)), learning_rate, self.total_steps
        )
        optimizer = make_optimizer(
            hp.Choice("optimizer", list(self.optimizers)), schedule, weight_decay
        )
        model.compile(optimizer=optimizer)
        return model


def hypermodel(name: str, total_steps: int | None = None, **fixed) -> ZooHyperModel:
    """Returns the `keras_tuner.HyperModel` of registered model `name`.

    Args:
        name: a registered model name (`zoo.list_models()`).
        total_steps: steps of one full trial, for the non-constant schedules.
        **fixed: hyperparameters pinned to a value, e.g. `dropout=0.0, optimizer="adamw"`.

    Example:

    ```python
    tuner = keras_tuner.Hyperband(
        zoo.tuning.hypermodel("cnn_digits"), objective="val_accuracy", max_epochs=9
    )
    tuner.search(x_train, y_train, validation_data=(x_val, y_val))
    best = tuner.get_best_models(1)[0]
    ```
    """
    return ZooHyperModel(name, total_steps=total_steps, fixed=fixed)
