"""KerasTuner hypermodels for every registered model family.

`hypermodel(name)` searches the family's architecture (its registered `search_space`) together
with this project's training components: the optimizer (AdamW, Ranger, Lookahead around AdamW),
the learning-rate schedule (constant, cosine, one-cycle, cyclical by default: any name of
`layers.schedules.learning_rate_schedule`), learning rate and weight decay. Any hyperparameter can
be pinned with a keyword argument. `tune(model, ...)` runs the whole search, resumable and
distributable, as `zoo tune` does.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from typing import Any

import keras
import keras_tuner

from layers.schedules import SCHEDULES, learning_rate_schedule
from layers.validation import check_bool, check_choice, check_positive_int
from zoo import registry
from zoo.distribute import set_mixed_precision
from zoo.extras import require_extra
from zoo.fitting import repeated
from zoo.graph_training import graph_datasets, is_graph_model, load_graph_data
from zoo.train import TrainConfig, load_datasets
from zoo.utils import seed_everything, write_run_record

OPTIMIZERS = ("adamw", "ranger", "lookahead")
# The schedules searched by default; any name of `layers.schedules.SCHEDULES` may be chosen.
DEFAULT_SCHEDULES = ("constant", "cosine", "one_cycle", "cyclical")
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
        schedules: schedule choices, names of `layers.schedules.SCHEDULES` (their meanings:
            `layers.schedules.factory`). Defaults to `("constant", "cosine", "one_cycle",
            "cyclical")`, or `("constant",)` without `total_steps`.
        fixed: hyperparameters pinned to a value (architecture or training), e.g.
            `{"dropout": 0.0, "optimizer": "adamw"}`.
        jit_compile: passed to every trial's `compile`; `None` takes the family's default
            (`zoo.registry.default_jit_compile`: XLA where it measured faster). Defaults to
            `None`.

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
        jit_compile: bool | str | None = None,
        **kwargs,
    ):
        spec = registry.get_spec(model_name)
        if spec.search_space is None:
            raise ValueError(
                f"Model {model_name!r} declares no `search_space` in the registry. "
                f"Received: model_name={model_name!r}"
            )
        if schedules is None:
            schedules = DEFAULT_SCHEDULES if total_steps else ("constant",)
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
        self.compile_options = {} if jit_compile is None else {"jit_compile": jit_compile}

    def declare(self, hp: keras_tuner.HyperParameters) -> tuple[dict[str, Any], dict[str, Any]]:
        """Declares every hyperparameter in `hp`; returns the builder and training values.

        Returns:
            `(architecture, training)`: the builder's keyword arguments and the values of
            `TRAINING_HYPERPARAMETERS`.
        """
        # A name registered first keeps its value: KerasTuner returns the existing value.
        for name, value in self.fixed.items():
            if name not in self.overrides:
                hp.Fixed(name, value)
        architecture = {**self.spec.search_space(hp), **self.overrides}
        training = {
            "learning_rate": hp.Float("learning_rate", 1e-4, 1e-2, sampling="log"),
            "weight_decay": hp.Float("weight_decay", 1e-6, 1e-2, sampling="log"),
            "schedule": hp.Choice("schedule", list(self.schedules)),
            "optimizer": hp.Choice("optimizer", list(self.optimizers)),
        }
        return architecture, training

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        architecture, training = self.declare(hp)
        model = self.spec.build(**architecture)
        schedule = learning_rate_schedule(
            training["schedule"], training["learning_rate"], self.total_steps
        )
        optimizer = make_optimizer(training["optimizer"], schedule, training["weight_decay"])
        model.compile(optimizer=optimizer, **self.compile_options)
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


TUNERS = ("hyperband", "bayesian", "random")
BACKENDS = ("keras-tuner", "optuna")
# Arguments of `tune` that only the Optuna backend takes.
OPTUNA_ARGUMENTS = ("storage", "study_name", "pruner", "sampler")


def search_data(model: str, config: TrainConfig, fixed: dict[str, Any]):
    """The training and validation batches of a search, and `fixed` completed for the model.

    For graph models, `fixed` gains the data's `num_features` and `num_classes`.

    Returns:
        `(train_data, validation_data, fixed, total_steps)`, `total_steps` being the steps of
        `config.epochs` epochs (`None` when the length of the data is unknown).
    """
    if is_graph_model(model):
        data = load_graph_data(model, config.data, config.validation_data, seed=config.seed)
        fixed = {**data.model_arguments(), **fixed}
        built = registry.create(model, **model_overrides(model, fixed))
        train_data, validation = graph_datasets(
            data, built, batch_size=config.batch_size, seed=config.seed
        )
    else:
        input_shape = registry.create(model, **model_overrides(model, fixed)).input_shape[1:]
        train_data, validation = load_datasets(config, input_shape)
    steps_per_epoch = int(train_data.cardinality())
    total_steps = steps_per_epoch * config.epochs if steps_per_epoch > 0 else None
    return train_data, validation, fixed, total_steps


def _is_chief_tuner() -> bool:
    return os.environ.get("KERASTUNER_TUNER_ID", "chief") == "chief"


def tune(
    model: str,
    directory: str = "artifacts/tune",
    tuner: str | None = None,
    max_trials: int = 10,
    epochs: int = 10,
    project_name: str | None = None,
    overwrite: bool = False,
    data=None,
    validation_data=None,
    label: str = "label",
    features: str | None = None,
    batch_size: int = 32,
    seed: int = 0,
    mixed_precision: str | None = None,
    verbose: int = 1,
    xla: bool = True,
    backend: str = "keras-tuner",
    storage: str | None = None,
    study_name: str | None = None,
    pruner: str | None = None,
    sampler: str | None = None,
    **fixed,
) -> dict | None:
    """Searches a registered model's architecture and training components.

    With `backend="keras-tuner"` (the default) KerasTuner runs the search; with
    `backend="optuna"`, Optuna does, over the same search space (`zoo.tuning_optuna.tune_optuna`,
    which documents `storage`, `study_name`, `pruner` and `sampler`).

    The search resumes from `directory/project_name` when it exists (KerasTuner's own state),
    unless `overwrite`. For distributed tuning, start one chief and several workers with
    KerasTuner's environment variables (`KERASTUNER_TUNER_ID`, `KERASTUNER_ORACLE_IP`,
    `KERASTUNER_ORACLE_PORT`) and the same arguments; the chief runs the oracle and, when the
    search ends, saves the best model.

    Args:
        model: a registered model name whose family declares a `search_space`.
        directory: where KerasTuner keeps its trials. Defaults to `"artifacts/tune"`.
        tuner: `"hyperband"`, `"bayesian"` or `"random"`. Defaults to `None`: `"hyperband"`
            (with KerasTuner; Optuna takes `sampler` and `pruner`).
        max_trials: trials for the Bayesian and random tuners (Hyperband sizes its own brackets
            from `epochs`). Defaults to `10`.
        epochs: epochs per trial (Hyperband's `max_epochs`). Defaults to `10`.
        project_name: subdirectory of the search. Defaults to `f"{model}_{tuner}"`.
        overwrite: start afresh instead of resuming. Defaults to `False`.
        data, validation_data, label, features, batch_size, seed, mixed_precision: as in
            `zoo.train.TrainConfig`; without `data`, the built-in digits (for graph models,
            the built-in graphs of `zoo.graph_training.load_graph_data`, which also sets
            `num_features` and `num_classes`).
        verbose: KerasTuner verbosity. Defaults to `1`.
        xla: compile the trials with XLA where the family does by default (see
            `zoo.registry.default_jit_compile`); `False` compiles without. Defaults to `True`.
        backend: `"keras-tuner"` or `"optuna"`. Defaults to `"keras-tuner"`.
        storage, study_name, pruner, sampler: the Optuna backend's (see
            `zoo.tuning_optuna.tune_optuna`); `None` with KerasTuner.
        **fixed: hyperparameters pinned to a value, e.g. `optimizer="adamw"`.

    Returns:
        With Optuna: see `zoo.tuning_optuna.tune_optuna`. With KerasTuner, on the chief: the
        best hyperparameters, the best score and the saved model's path; on a worker: `None`.

    Example:

    ```python
    best = tune("mlp_digits", tuner="random", max_trials=5, epochs=5)
    print(best["hyperparameters"])
    ```
    """
    check_choice("backend", backend, BACKENDS)
    if backend == "optuna":
        if tuner is not None:
            raise ValueError(
                "`tuner` chooses a KerasTuner tuner; with `backend='optuna'` choose `sampler` "
                f"and `pruner` instead. Received: tuner={tuner!r}"
            )
        require_extra("optuna", "tracking", "Tuning with Optuna")
        from zoo.tuning_optuna import tune_optuna

        return tune_optuna(
            model,
            directory=directory,
            storage=storage,
            study_name=study_name or project_name,
            sampler=sampler or "tpe",
            pruner=pruner or "hyperband",
            max_trials=max_trials,
            epochs=epochs,
            overwrite=overwrite,
            data=data,
            validation_data=validation_data,
            label=label,
            features=features,
            batch_size=batch_size,
            seed=seed,
            mixed_precision=mixed_precision,
            verbose=verbose,
            xla=xla,
            **fixed,
        )
    optuna_values = (storage, study_name, pruner, sampler)
    given = {k: v for k, v in zip(OPTUNA_ARGUMENTS, optuna_values, strict=True) if v}
    if given:
        raise ValueError(
            f"{sorted(given)} are arguments of the Optuna backend; pass backend='optuna'. "
            f"Received: backend={backend!r}, {given!r}"
        )
    tuner = tuner or "hyperband"
    check_choice("tuner", tuner, TUNERS)
    check_positive_int("max_trials", max_trials)
    check_bool("xla", xla)
    if data is not None and validation_data is None and not is_graph_model(model):
        raise ValueError(
            "Tuning on TFRecords needs `validation_data` for the objective. "
            "Received: validation_data=None"
        )
    config = TrainConfig(
        model=model,
        data=data,
        validation_data=validation_data,
        label=label,
        features=features,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        mixed_precision=mixed_precision,
    )
    seed_everything(seed, deterministic_ops=False)
    previous_policy = keras.config.dtype_policy()
    set_mixed_precision(mixed_precision)
    try:
        train_data, validation, fixed, total_steps = search_data(model, config, fixed)
        hypermodel = ZooHyperModel(
            model, total_steps=total_steps, fixed=fixed, jit_compile=None if xla else False
        )
        project_name = project_name or f"{model}_{tuner}"
        common = {
            "objective": "val_accuracy",
            "directory": directory,
            "project_name": project_name,
            "overwrite": overwrite,
            "seed": seed,
        }
        if tuner == "hyperband":
            search = keras_tuner.Hyperband(hypermodel, max_epochs=epochs, factor=3, **common)
        elif tuner == "bayesian":
            search = keras_tuner.BayesianOptimization(hypermodel, max_trials=max_trials, **common)
        else:
            search = keras_tuner.RandomSearch(hypermodel, max_trials=max_trials, **common)
        train_data, epoch = repeated(train_data)  # one iterator a trial (`zoo.fitting`)
        search.search(
            train_data,
            validation_data=validation,
            epochs=epochs,
            verbose=verbose,
            shuffle=False,
            **epoch,
        )
        if not _is_chief_tuner():
            return None
        best_hp = search.get_best_hyperparameters(1)[0]
        best_trial = search.oracle.get_best_trials(1)[0]
        best_model = search.get_best_models(1)[0]
        project_dir = os.path.join(directory, project_name)
        model_path = os.path.join(project_dir, "best_model.keras")
        best_model.save(model_path)
        result = {
            "hyperparameters": best_hp.values,
            "score": best_trial.score,
            "trials": len(search.oracle.trials),
            "model_path": model_path,
        }
        with open(os.path.join(project_dir, "best.json"), "w") as f:
            json.dump(result, f, indent=2, default=str)
        write_run_record(
            os.path.join(project_dir, "run.json"),
            {**dataclasses.asdict(config), "tuner": tuner, "max_trials": max_trials, **fixed},
            seed=seed,
        )
        return result
    finally:
        keras.config.set_dtype_policy(previous_policy)
