import json
import subprocess
import sys

import keras
import numpy as np

from zoo import cli
from zoo.train import TrainConfig, train


def _weights(path) -> list[np.ndarray]:
    return keras.saving.load_model(path).get_weights()


def test_config_file_holds_every_option_and_flags_win(tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text(
        "model: mlp_digits\n"
        "epochs: 1\n"
        "batch-size: 64\n"
        "seed: 3\n"
        "deterministic: false\n"
        "learning_rate: 0.01\n"
        f"output: {tmp_path / 'out'}\n"
        "verbose: 0\n"
        "overrides:\n"
        "  hidden_units: [8]\n"
        "  dropout: 0.0\n"
    )
    assert cli.main(["train", "--config", str(config), "--epochs", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["config"]["epochs"] == 2  # the flag wins over the file
    assert record["config"]["batch_size"] == 64
    assert record["config"]["overrides"] == {"hidden_units": [8], "dropout": 0.0}
    assert record["seed"] == 3 and record["packages"]["tensorflow"].startswith("2.21")
    assert record["hardware"]["cpu_count"] >= 1
    assert len(json.loads((tmp_path / "out" / "history.json").read_text())["loss"]) == 2
    model = keras.saving.load_model(result["model_path"])
    assert model.get_config()["hidden_units"] == [8]
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == np.float32(0.01)


def test_unknown_config_option_is_a_one_line_error(tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text("model: mlp_digits\nepochs: 1\nlerning_rate: 0.1\n")
    assert cli.main(["train", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "lerning_rate" in err[0]


def test_mixed_precision_training_restores_the_policy(tmp_path):
    result = train(
        model="cnn_digits",
        epochs=1,
        output=str(tmp_path),
        mixed_precision="float16",
        deterministic=False,
        verbose=0,
        overrides={"filters": (8,)},
    )
    assert np.isfinite(result["loss"])
    assert keras.config.dtype_policy().name == "float32"
    model = keras.saving.load_model(result["model_path"])
    assert model.get_layer("conv_0").dtype_policy.name == "mixed_float16"
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


def test_bad_options_name_the_value():
    for options, text in (
        ({"epochs": 0}, "epochs=0"),
        ({"strategy": "tpu"}, "strategy='tpu'"),
        ({"mixed_precision": "int8"}, "mixed_precision='int8'"),
    ):
        try:
            train(TrainConfig(model="mlp_digits", deterministic=False, verbose=0, **options))
        except ValueError as error:
            assert text in str(error)
        else:
            raise AssertionError(f"{options} was accepted")


def test_same_seed_gives_identical_weights_on_cpu(tmp_path):
    def run(seed, name):
        out = tmp_path / name
        command = [sys.executable, "-m", "zoo", "train", "cnn_digits", "--epochs", "1"]
        command += ["--seed", str(seed), "--output", str(out), "--verbose", "0"]
        subprocess.run(command, check=True, capture_output=True, timeout=300)
        return _weights(out / "cnn_digits.keras")

    first, second, other = run(7, "a"), run(7, "b"), run(8, "c")
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert not all(np.array_equal(a, c) for a, c in zip(first, other, strict=True))
