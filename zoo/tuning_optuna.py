"""Optuna as the search backend of `zoo tune`: the same zoo search spaces, TPE, pruning, RDB.

A registered family declares its search space once, against KerasTuner's `HyperParameters`
(`hp.Choice`, `hp.Int`, `hp.Float`, `hp.Boolean`, `hp.Fixed`). `OptunaHyperParameters` is that
interface backed by an Optuna trial: every hyperparameter a build function declares is drawn
with the matching `trial.suggest_*`, so `ZooHyperModel.build` runs unchanged. Optuna then brings
the TPE sampler (Bergstra et al. 2011), Hyperband (Li et al. 2018) or median pruning fed by the
per-epoch validation metric (`OptunaPruning`, a Keras 3 callback: Optuna's own Keras
integration targets Keras 2), and an RDB storage (`sqlite:///study.db`, or any SQLAlchemy URL)
so that several processes or machines work on one study and a search resumes where it stopped.
Optuna: Akiba et al. 2019, "Optuna: A Next-generation Hyperparameter Optimization Framework".
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from typing import Any

import keras
import keras_tuner
import optuna
import sqlalchemy.exc

from layers.validation import check_bool, check_choice, check_positive_int
from zoo.distribute import set_mixed_precision
from zoo.fitting import repeated
from zoo.train import TrainConfig
from zoo.utils import seed_everything, write_run_record

SAMPLERS = ("tpe", "random")
PRUNERS = ("hyperband", "median", "none")
OBJECTIVE = "val_accuracy"
# The study's user attribute holding the search space it was created with.
SPACE_ATTRIBUTE = "zoo_search_space"


class OptunaHyperParameters(keras_tuner.HyperParameters):
    """KerasTuner's `HyperParameters` whose values an Optuna trial suggests.

    Each hyperparameter is drawn when it is first declared: `Choice` and `Boolean` with
    `trial.suggest_categorical`, `Int` with `trial.suggest_int` and `Float` with
    `trial.suggest_float` (the same bounds, step and log sampling); `Fixed` keeps its value and is
    recorded in `trial.user_attrs`. Conditional scopes work as in KerasTuner: an inactive
    hyperparameter is not drawn.

    Args:
        trial: an `optuna.Trial` (or `optuna.trial.FixedTrial` to rebuild a found model).

    Example:

    ```python
    def objective(trial):
        hp = OptunaHyperParameters(trial)
        model = zoo.tuning.hypermodel("mlp_digits").build(hp)
        ...
    ```
    """

    def __init__(self, trial: optuna.trial.BaseTrial):
        super().__init__()
        self.trial = trial

    def _register(self, hyperparameter, overwrite=False):
        if self._conditions_are_active(hyperparameter.conditions) and (
            overwrite or hyperparameter.name not in self.values
        ):
            self.values[hyperparameter.name] = self._suggest(hyperparameter)
        return super()._register(hyperparameter, overwrite=False)

    def _suggest(self, hp) -> Any:
        hp_types = keras_tuner.engine.hyperparameters
        name, trial = hp.name, self.trial
        if isinstance(hp, hp_types.Fixed):
            if not isinstance(trial, optuna.trial.FixedTrial):
                trial.set_user_attr(f"fixed:{name}", hp.value)
            return hp.value
        if isinstance(hp, hp_types.Boolean):
            return trial.suggest_categorical(name, [False, True])
        if isinstance(hp, hp_types.Choice):
            return trial.suggest_categorical(name, list(hp.values))
        if isinstance(hp, (hp_types.Int, hp_types.Float)):
            if hp.sampling not in ("linear", "log"):
                raise ValueError(
                    f"Optuna has no {hp.sampling!r} sampling; hyperparameter {name!r} must use "
                    f"'linear' or 'log'. Received: sampling={hp.sampling!r}"
                )
            log = hp.sampling == "log"
            # KerasTuner's step is a factor under log sampling; Optuna's step is additive only.
            step = None if log else hp.step
            if isinstance(hp, hp_types.Int):
                return trial.suggest_int(name, hp.min_value, hp.max_value, step=step or 1, log=log)
            return trial.suggest_float(name, hp.min_value, hp.max_value, step=step, log=log)
        raise ValueError(
            f"Hyperparameter {name!r} has a type Optuna cannot draw. Received: {type(hp).__name__}"
        )


class OptunaPruning(keras.callbacks.Callback):
    """Reports a validation metric to an Optuna trial every epoch and stops a pruned trial.

    Keras 3's counterpart of Optuna's `TFKerasPruningCallback`: `trial.report(logs[monitor],
    epoch)`, then `optuna.TrialPruned` when `trial.should_prune()`.

    Args:
        trial: the running `optuna.Trial`.
        monitor: the `logs` key reported. Defaults to `"val_accuracy"`.

    Example:

    ```python
    model.fit(x, y, validation_split=0.2, epochs=9, callbacks=[OptunaPruning(trial)])
    ```
    """

    def __init__(self, trial: optuna.Trial, monitor: str = OBJECTIVE):
        super().__init__()
        self.trial = trial
        self.monitor = monitor

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(
                f"`monitor` must be a metric of the epoch logs {sorted(logs)}; validation data "
                f"are needed for 'val_' metrics. Received: monitor={self.monitor!r}"
            )
        self.trial.report(float(logs[self.monitor]), epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(
                f"Pruned at epoch {epoch} ({self.monitor}={logs[self.monitor]})."
            )


def search_space_record(hypermodel) -> dict[str, Any]:
    """The search space of a `zoo.tuning.ZooHyperModel`, as JSON-compatible data.

    The hyperparameters declared with their default values (a space whose later declarations
    depend on earlier values is recorded along its default branch) and the constructor
    arguments passed to the builder as they are.
    """
    scratch = keras_tuner.HyperParameters()
    hypermodel.declare(scratch)
    space = [{"type": type(hp).__name__, **hp.get_config()} for hp in scratch.space]
    record = {"hyperparameters": space, "overrides": hypermodel.overrides}
    return json.loads(json.dumps(record, default=str, sort_keys=True))


def make_sampler(name: str, seed: int | None) -> optuna.samplers.BaseSampler:
    """`"tpe"` (Optuna's `TPESampler`) or `"random"`, seeded."""
    check_choice("sampler", name, SAMPLERS)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)


def make_pruner(name: str, epochs: int) -> optuna.pruners.BasePruner:
    """`"hyperband"` (up to `epochs` epochs, reduction factor 3), `"median"` or `"none"`."""
    check_choice("pruner", name, PRUNERS)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs)
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    return optuna.pruners.NopPruner()


def _by_name(space: dict[str, Any]) -> dict[str, Any]:
    """A `search_space_record` as `{name: entry}`, the builder arguments under `overrides:`."""
    entries = {hp["name"]: hp for hp in space["hyperparameters"]}
    entries.update({f"overrides:{k}": v for k, v in space["overrides"].items()})
    return entries


def open_storage(storage: str, attempts: int = 5) -> optuna.storages.RDBStorage:
    """The RDB storage at the URL `storage`, its tables created if the database is new.

    Workers started together on a new database race to create its tables (SQLite: `UNIQUE
    constraint failed: alembic_version.version_num`); the loser waits and opens the tables
    the winner made.
    """
    for attempt in range(attempts):
        try:
            return optuna.storages.RDBStorage(storage)
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def open_study(
    study_name: str,
    storage: str | None,
    space: dict[str, Any],
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
) -> optuna.Study:
    """Creates the study, or loads it when it exists with the same search space.

    Raises:
        ValueError: the study exists with another search space.
    """
    study = optuna.create_study(
        study_name=study_name,
        storage=open_storage(storage) if storage is not None else None,
        direction="maximize",
        sampler=sampler,
        pruner=pruner,
        load_if_exists=True,
    )
    recorded = study.user_attrs.get(SPACE_ATTRIBUTE)
    if recorded is None:
        study.set_user_attr(SPACE_ATTRIBUTE, space)
    elif recorded != space:
        ours, theirs = _by_name(space), _by_name(recorded)
        differing = sorted(n for n in ours.keys() | theirs.keys() if ours.get(n) != theirs.get(n))
        raise ValueError(
            f"Study {study_name!r} in {storage!r} exists with another search space (differing "
            f"in {differing}); pick another `study_name` or pass `overwrite=True` "
            f"(`--overwrite`) to start it afresh. Received: study_name={study_name!r} with "
            f"{[ours.get(n) for n in differing]}, the study's {[theirs.get(n) for n in differing]}"
        )
    return study


def _best_value(study: optuna.Study) -> float | None:
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return max((t.value for t in complete), default=None)


def tune_optuna(
    model: str,
    directory: str = "artifacts/tune",
    storage: str | None = None,
    study_name: str | None = None,
    sampler: str = "tpe",
    pruner: str = "hyperband",
    max_trials: int = 10,
    epochs: int = 10,
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
    **fixed,
) -> dict:
    """Searches a registered model's hyperparameters with Optuna, maximising `val_accuracy`.

    This process runs `max_trials` trials on the study; other processes given the same `storage`
    and `study_name` work on it at the same time, and a later call resumes it (its sampler sees
    every finished trial). A trial scores its best epoch's `val_accuracy`, as KerasTuner's do. A
    trial that beats every finished one saves its model to `directory/study_name/trial_N.keras`;
    the result names the best trial's.

    Args:
        model: a registered model name whose family declares a `search_space`.
        directory: where models, `best.json` and `run.json` go. Defaults to `"artifacts/tune"`.
        storage: an Optuna RDB URL (`"sqlite:///study.db"`, `"postgresql://..."`). Defaults to
            `None`: `sqlite:///directory/study_name.db`.
        study_name: defaults to `f"{model}_optuna"`.
        sampler: `"tpe"` or `"random"`, seeded with `seed` (with several processes, give each its
            own seed, or they draw the same first trials). Defaults to `"tpe"`.
        pruner: `"hyperband"`, `"median"` or `"none"`. Defaults to `"hyperband"`.
        max_trials: trials this call runs. Defaults to `10`.
        epochs: epochs per trial (Hyperband's maximum resource). Defaults to `10`.
        overwrite: delete the study first. Defaults to `False`.
        data, validation_data, label, features, batch_size, seed, mixed_precision, verbose,
            xla, **fixed: as in `zoo.tuning.tune`.

    Returns:
        `{"hyperparameters", "score", "trials", "complete", "pruned", "study_name", "storage",
        "model_path"}` of the whole study, `trials` counting its finished trials (`None`
        values while every trial has been pruned).

    Raises:
        ValueError: `study_name` exists in `storage` with another search space, or a bad argument.

    Example:

    ```python
    best = tune_optuna("mlp_digits", storage="sqlite:///study.db", max_trials=20, epochs=9)
    ```
    """
    from zoo.graph_training import is_graph_model
    from zoo.tuning import ZooHyperModel, search_data

    check_positive_int("max_trials", max_trials)
    check_positive_int("epochs", epochs)
    check_bool("xla", xla)
    check_bool("overwrite", overwrite)
    if data is not None and validation_data is None and not is_graph_model(model):
        raise ValueError(
            "Tuning on TFRecords needs `validation_data` for the objective. "
            "Received: validation_data=None"
        )
    study_name = study_name or f"{model}_optuna"
    study_dir = os.path.join(directory, study_name)
    os.makedirs(study_dir, exist_ok=True)
    if storage is None:
        storage = f"sqlite:///{os.path.abspath(os.path.join(directory, study_name))}.db"
    if not isinstance(storage, str) or "://" not in storage:
        raise ValueError(
            "`storage` must be an RDB URL such as 'sqlite:///study.db'. "
            f"Received: storage={storage!r}"
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
    optuna.logging.set_verbosity(optuna.logging.INFO if verbose else optuna.logging.WARNING)
    seed_everything(seed, deterministic_ops=False)
    previous_policy = keras.config.dtype_policy()
    set_mixed_precision(mixed_precision)
    try:
        train_data, validation, fixed, total_steps = search_data(model, config, fixed)
        hypermodel = ZooHyperModel(
            model, total_steps=total_steps, fixed=fixed, jit_compile=None if xla else False
        )
        if overwrite:
            with contextlib.suppress(KeyError):  # KeyError: nothing to delete
                optuna.delete_study(study_name=study_name, storage=open_storage(storage))
        study = open_study(
            study_name,
            storage,
            search_space_record(hypermodel),
            make_sampler(sampler, seed),
            make_pruner(pruner, epochs),
        )
        train_data, epoch = repeated(train_data)

        def objective(trial: optuna.Trial) -> float:
            keras.utils.set_random_seed(seed + trial.number)
            built = hypermodel.build(OptunaHyperParameters(trial))
            history = built.fit(
                train_data,
                validation_data=validation,
                epochs=epochs,
                callbacks=[OptunaPruning(trial, OBJECTIVE)],
                verbose=2 if verbose == 2 else 0,
                shuffle=False,
                **epoch,
            )
            score = max(history.history[OBJECTIVE])
            best = _best_value(study)
            if best is None or score >= best:
                path = os.path.join(study_dir, f"trial_{trial.number}.keras")
                built.save(path)
                trial.set_user_attr("model_path", path)
            return score

        study.optimize(objective, n_trials=max_trials, show_progress_bar=verbose == 1)
        finished = study.get_trials(
            deepcopy=False,
            states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED),
        )
        complete = [t for t in finished if t.state == optuna.trial.TrialState.COMPLETE]
        # Every trial pruned (possible with few trials): no best yet, the study goes on later.
        best_trial = max(complete, key=lambda t: t.value) if complete else None
        attributes = best_trial.user_attrs if best_trial else {}
        fixed_values = {
            k.removeprefix("fixed:"): v for k, v in attributes.items() if k.startswith("fixed:")
        }
        result = {
            "hyperparameters": {**fixed_values, **best_trial.params} if best_trial else None,
            "score": best_trial.value if best_trial else None,
            "trials": len(finished),
            "complete": sum(t.state == optuna.trial.TrialState.COMPLETE for t in finished),
            "pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in finished),
            "study_name": study_name,
            "storage": storage,
            "model_path": attributes.get("model_path"),
        }
        with open(os.path.join(study_dir, "best.json"), "w") as f:
            json.dump(result, f, indent=2, default=str)
        write_run_record(
            os.path.join(study_dir, "run.json"),
            {
                **dataclasses.asdict(config),
                "backend": "optuna",
                "sampler": sampler,
                "pruner": pruner,
                "max_trials": max_trials,
                **fixed,
            },
            seed=seed,
        )
        return result
    finally:
        keras.config.set_dtype_policy(previous_policy)
