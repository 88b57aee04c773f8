import json
import os
import socket
import subprocess
import sys

import keras_tuner
import numpy as np
import pytest

from zoo import cli, tuning
from zoo.datasets import fit_to_input, load_digits

DIGITS = load_digits(dtype="float32")
X = fit_to_input(DIGITS.train.x[:256], (64,))
Y = DIGITS.train.y[:256]


@pytest.mark.parametrize("optimizer", tuning.OPTIMIZERS)
@pytest.mark.parametrize("schedule", tuning.DEFAULT_SCHEDULES)
def test_every_training_choice_builds_and_trains(optimizer, schedule):
    hypermodel = tuning.hypermodel(
        "mlp_digits", total_steps=20, optimizer=optimizer, schedule=schedule, depth=1, width=32
    )
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    assert hp.values["optimizer"] == optimizer and hp.values["schedule"] == schedule
    assert model.get_config()["hidden_units"] == [32]
    first = model.train_on_batch(X[:64], Y[:64], return_dict=True)["loss"]
    for _ in range(5):
        last = model.train_on_batch(X[:64], Y[:64], return_dict=True)["loss"]
    assert np.isfinite(last) and last < first


def test_any_factory_schedule_can_be_searched():
    from layers.schedules import SCHEDULES

    assert set(tuning.DEFAULT_SCHEDULES) < set(SCHEDULES)
    hypermodel = tuning.ZooHyperModel(
        "mlp_digits", total_steps=20, schedules=("linear_warmup_polynomial",)
    )
    hp = keras_tuner.HyperParameters()
    hp.Fixed("learning_rate", 0.01)
    hp.Fixed("optimizer", "adamw")
    model = hypermodel.build(hp)
    schedule = model.optimizer.learning_rate  # at step 0 of a linear decay over 20 steps
    np.testing.assert_allclose(float(schedule), 0.01, rtol=1e-6)
    assert type(model.optimizer._learning_rate).__name__ == "PolynomialDecay"


def test_constructor_arguments_can_be_pinned():
    hypermodel = tuning.hypermodel("cnn_digits", input_shape=(8, 8, 1), filters=(4,))
    model = hypermodel.build(keras_tuner.HyperParameters())
    assert model.get_config()["filters"] == [4]


def test_trials_compile_with_the_family_default_unless_told_not_to(monkeypatch):
    from zoo.basic.mlp import MLPClassifier

    monkeypatch.setattr(MLPClassifier, "default_jit_compile", True)
    hp = keras_tuner.HyperParameters()
    assert tuning.hypermodel("mlp_digits", depth=1).build(hp).jit_compile is True
    no_xla = tuning.ZooHyperModel("mlp_digits", fixed={"depth": 1}, jit_compile=False)
    assert no_xla.build(keras_tuner.HyperParameters()).jit_compile is False
    with pytest.raises(TypeError, match="Received: xla='off'"):
        tuning.tune("mlp_digits", xla="off")


def test_bad_choices_name_the_argument():
    with pytest.raises(ValueError, match=r"Received: optimizers=\('sgd',\)"):
        tuning.ZooHyperModel("mlp_digits", optimizers=("sgd",))
    with pytest.raises(ValueError, match="need `total_steps`"):
        tuning.ZooHyperModel("mlp_digits", schedules=("cosine",))
    with pytest.raises(ValueError, match="Unknown model name"):
        tuning.hypermodel("mlp_digit")


# RandomSearch runs in the `zoo tune` tests below.
@pytest.mark.parametrize(
    "tuner_cls, kwargs",
    [
        (keras_tuner.BayesianOptimization, {"max_trials": 2}),
        # Hyperband's brackets take half a minute: a learning-run-sized test.
        pytest.param(keras_tuner.Hyperband, {"max_epochs": 2, "factor": 2}, marks=pytest.mark.slow),
    ],
)
def test_each_tuner_searches_the_hypermodel(tuner_cls, kwargs, tmp_path):
    tuner = tuner_cls(
        tuning.hypermodel("mlp_digits", depth=1),
        objective="val_accuracy",
        directory=str(tmp_path),
        seed=0,
        **kwargs,
    )
    tuner.search(X, Y, validation_split=0.25, epochs=1, batch_size=64, verbose=0)
    assert len(tuner.oracle.trials) >= 2
    best = tuner.get_best_models(1)[0]
    assert best.predict(X[:4], verbose=0).shape == (4, 10)


def _printed_json(out: str) -> dict:
    # KerasTuner prints its own lines (e.g. "Reloading Tuner from ...") before ours.
    return json.loads(out[out.index("{\n") :])


def test_zoo_tune_resumes_and_saves_the_best_model(tmp_path, capsys):
    args = ["tune", "mlp_digits", "--tuner", "random", "--epochs", "1", "--directory"]
    args += [str(tmp_path), "--fix", "depth=1", "--fix", "optimizer=adamw", "--verbose", "0"]
    assert cli.main([*args, "--max-trials", "1"]) == 0
    first = _printed_json(capsys.readouterr().out)
    assert first["trials"] == 1
    assert cli.main([*args, "--max-trials", "2"]) == 0
    second = _printed_json(capsys.readouterr().out)
    assert second["trials"] == 2  # the first trial was kept, one more was run
    assert os.path.isfile(second["model_path"])
    assert second["hyperparameters"]["optimizer"] == "adamw"
    record = json.loads((tmp_path / "mlp_digits_random" / "run.json").read_text())
    assert record["config"]["tuner"] == "random" and record["packages"]["keras"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # three processes importing TensorFlow: half a minute
def test_distributed_tuning_with_a_chief_and_two_workers(tmp_path):
    port = _free_port()
    command = [sys.executable, "-m", "zoo", "tune", "mlp_digits", "--tuner", "random"]
    command += ["--max-trials", "2", "--epochs", "1", "--directory", str(tmp_path)]
    command += ["--fix", "depth=1", "--fix", "optimizer=adamw", "--verbose", "0"]
    processes = {}
    for tuner_id in ("chief", "tuner0", "tuner1"):
        env = {
            **os.environ,
            "KERASTUNER_TUNER_ID": tuner_id,
            "KERASTUNER_ORACLE_IP": "127.0.0.1",
            "KERASTUNER_ORACLE_PORT": str(port),
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
        processes[tuner_id] = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    outputs = {}
    try:
        for tuner_id, process in processes.items():
            outputs[tuner_id] = process.communicate(timeout=300)
    finally:
        for process in processes.values():
            process.kill()
    for tuner_id, process in processes.items():
        assert process.returncode == 0, (tuner_id, outputs[tuner_id][1][-2000:])
    best = _printed_json(outputs["chief"][0])
    assert best["trials"] == 2
    trial_dirs = [d for d in os.listdir(tmp_path / "mlp_digits_random") if d.startswith("trial_")]
    assert len(trial_dirs) == 2
    owners = set()
    for d in trial_dirs:
        trial = json.loads((tmp_path / "mlp_digits_random" / d / "trial.json").read_text())
        owners.add(trial.get("status"))
    assert owners == {"COMPLETED"}
