"""`zoo tune`: a KerasTuner search over a registered model, resumable and distributable."""

from __future__ import annotations

import dataclasses
import json
import os

import keras
import keras_tuner

from zoo import registry
from zoo.distribute import set_mixed_precision
from zoo.train import TrainConfig, load_datasets
from zoo.tuning import ZooHyperModel, model_overrides
from zoo.utils import seed_everything, write_run_record

TUNERS = ("hyperband", "bayesian", "random")


def _is_chief_tuner() -> bool:
    return os.environ.get("KERASTUNER_TUNER_ID", "chief") == "chief"


def tune(
    model: str,
    directory: str = "artifacts/tune",
    tuner: str = "hyperband",
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
    **fixed,
) -> dict | None:
    """Searches a registered model's architecture and training components with KerasTuner.

    The search resumes from `directory/project_name` when it exists (KerasTuner's own state),
    unless `overwrite`. For distributed tuning, start one chief and several workers with
    KerasTuner's environment variables (`KERASTUNER_TUNER_ID`, `KERASTUNER_ORACLE_IP`,
    `KERASTUNER_ORACLE_PORT`) and the same arguments; the chief runs the oracle and, when the
    search ends, saves the best model.

    Args:
        model: a registered model name whose family declares a `search_space`.
        directory: where KerasTuner keeps its trials. Defaults to `"artifacts/tune"`.
        tuner: `"hyperband"`, `"bayesian"` or `"random"`. Defaults to `"hyperband"`.
        max_trials: trials for the Bayesian and random tuners (Hyperband sizes its own brackets
            from `epochs`). Defaults to `10`.
        epochs: epochs per trial (Hyperband's `max_epochs`). Defaults to `10`.
        project_name: subdirectory of the search. Defaults to `f"{model}_{tuner}"`.
        overwrite: start afresh instead of resuming. Defaults to `False`.
        data, validation_data, label, features, batch_size, seed, mixed_precision: as in
            `zoo.train.TrainConfig`; without `data`, the built-in digits.
        verbose: KerasTuner verbosity. Defaults to `1`.
        **fixed: hyperparameters pinned to a value, e.g. `optimizer="adamw"`.

    Returns:
        On the chief: the best hyperparameters, the best score and the saved model's path.
        On a worker: `None`.

    Example:

    ```python
    best = tune("mlp_digits", tuner="random", max_trials=5, epochs=5)
    print(best["hyperparameters"])
    ```
    """
    if tuner not in TUNERS:
        raise ValueError(f"`tuner` must be one of {TUNERS}. Received: tuner={tuner!r}")
    if isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials <= 0:
        raise ValueError(f"`max_trials` must be a positive integer. Received: {max_trials!r}")
    if data is not None and validation_data is None:
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
        input_shape = registry.create(model, **model_overrides(model, fixed)).input_shape[1:]
        train_data, validation = load_datasets(config, input_shape)
        steps_per_epoch = int(train_data.cardinality())
        total_steps = steps_per_epoch * epochs if steps_per_epoch > 0 else None
        hypermodel = ZooHyperModel(model, total_steps=total_steps, fixed=fixed)
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
        search.search(
            train_data, validation_data=validation, epochs=epochs, verbose=verbose, shuffle=False
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
