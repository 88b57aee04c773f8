import json
import os
import subprocess
import sys

import keras
import numpy as np
import optuna
import pytest

from zoo import tuning
from zoo.tuning_optuna import OptunaHyperParameters, OptunaPruning, search_space_record, tune_optuna

TINY = {"depth": 1, "width": 8, "optimizer": "adamw", "schedule": "constant"}


def test_trial_values_drive_the_unchanged_build_function():
    hypermodel = tuning.hypermodel("mlp_digits", width=8)
    params = {
        "depth": 2,
        "activation": "swish",
        "dropout": 0.3,
        "learning_rate": 3e-3,
        "weight_decay": 1e-4,
        "schedule": "constant",
        "optimizer": "ranger",
    }
    hp = OptunaHyperParameters(optuna.trial.FixedTrial(params))
    model = hypermodel.build(hp)
    assert model.get_config()["hidden_units"] == [8, 8]
    assert model.get_config()["activation"] == "swish"
    assert {k: hp.values[k] for k in params} == params and hp.values["width"] == 8
    np.testing.assert_allclose(float(model.optimizer.learning_rate), 3e-3, rtol=1e-6)


def test_suggestions_follow_the_keras_tuner_space():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    tuning.hypermodel("cnn_digits").declare(OptunaHyperParameters(trial))
    space = {
        hp["name"]: hp
        for hp in search_space_record(tuning.hypermodel("cnn_digits"))["hyperparameters"]
    }
    for name, distribution in trial.distributions.items():
        hp = space[name]
        if hp["type"] == "Choice":
            assert list(distribution.choices) == hp["values"]
        else:
            assert (distribution.low, distribution.high) == (hp["min_value"], hp["max_value"])
            assert distribution.log == (hp["sampling"] == "log")
    assert set(trial.distributions) == set(space)


def test_pruning_callback_reports_each_epoch_and_prunes():
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    # Every value is below the threshold: the first report prunes the trial.
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(2.0))

    def objective(trial):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, "softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(
            x, y, validation_split=0.25, epochs=3, verbose=0, callbacks=[OptunaPruning(trial)]
        )
        return 0.0

    study.optimize(objective, n_trials=1)
    (trial,) = study.trials
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert list(trial.intermediate_values) == [0]
    assert 0.0 <= trial.intermediate_values[0] <= 1.0


def test_study_resumes_and_rejects_another_search_space(tmp_path):
    storage = f"sqlite:///{tmp_path}/study.db"
    options = {"directory": str(tmp_path), "storage": storage, "epochs": 1, "verbose": 0}
    options["xla"] = False
    first = tune_optuna("mlp_digits", max_trials=1, **options, **TINY)
    assert first["trials"] == first["complete"] == 1
    resumed = tune_optuna("mlp_digits", max_trials=1, seed=1, **options, **TINY)
    assert resumed["trials"] == 2
    study = optuna.load_study(study_name="mlp_digits_optuna", storage=storage)
    assert resumed["score"] == study.best_value
    assert keras.saving.load_model(resumed["model_path"]).get_config()["hidden_units"] == [8]
    best = json.loads((tmp_path / "mlp_digits_optuna" / "best.json").read_text())
    assert best["score"] == resumed["score"] and best["hyperparameters"]["depth"] == 1
    with pytest.raises(ValueError, match="exists with another search space"):
        tune_optuna("mlp_digits", max_trials=1, **options, **{**TINY, "depth": 2})


def test_backend_arguments_are_checked():
    with pytest.raises(ValueError, match="backend='optuna'"):
        tuning.tune("mlp_digits", storage="sqlite:///x.db")
    with pytest.raises(ValueError, match="tuner='random'"):
        tuning.tune("mlp_digits", backend="optuna", tuner="random")
    with pytest.raises(ValueError, match="backend"):
        tuning.tune("mlp_digits", backend="ray")
    with pytest.raises(ValueError, match="storage"):
        tune_optuna("mlp_digits", storage="study.db")


@pytest.mark.slow
def test_two_processes_share_one_sqlite_study(tmp_path):
    storage = f"sqlite:///{tmp_path}/shared.db"
    command = [sys.executable, "-m", "zoo", "tune", "mlp_digits", "--backend", "optuna"]
    command += ["--storage", storage, "--study-name", "shared", "--epochs", "1", "--verbose", "0"]
    command += ["--directory", str(tmp_path), "--pruner", "median"]
    for key, value in TINY.items():
        command += ["--fix", f"{key}={value}"]
    command += ["--no-xla"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    workers = [
        subprocess.Popen(
            [*command, "--max-trials", str(n), "--seed", str(seed)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n, seed in ((1, 0), (2, 1))
    ]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err[-2000:]
    study = optuna.load_study(study_name="shared", storage=storage)
    assert len(study.trials) == 3
    assert all(t.state.is_finished() for t in study.trials)
    last = max((json.loads(out) for out, _ in outputs), key=lambda r: r["trials"])
    assert last["trials"] == 3 and last["score"] == study.best_value
