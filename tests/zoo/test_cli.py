import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import serving
from zoo import cli


def test_list_prints_every_registered_model(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "mlp_digits" in out and "cnn_digits" in out


def test_list_with_pattern(capsys):
    assert cli.main(["list", "mlp_*"]) == 0
    out = capsys.readouterr().out
    assert "mlp_digits" in out and "cnn_digits" not in out
    assert cli.main(["list", "nothing_*"]) == 1


@pytest.mark.parametrize("command", ["list", "demo", "train", "tune", "export", "serve", "data"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    assert len(capsys.readouterr().out.splitlines()) > 3


def test_unknown_model_is_one_line_and_exit_2(capsys):
    assert cli.main(["train", "cnn_digitz", "--epochs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("zoo: error: Unknown model name 'cnn_digitz'")
    assert "cnn_digits" in err[0]


def test_bad_flag_value_is_rejected_by_argparse(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "cnn_digits", "--epochs", "0"])
    assert exit_info.value.code == 2
    assert "expected a positive integer, got '0'" in capsys.readouterr().err


def test_train_then_export_the_saved_model(tmp_path, capsys):
    out_dir = tmp_path / "run"
    code = cli.main(
        ["train", "mlp_digits", "--epochs", "2", "--output", str(out_dir), "--verbose", "0"]
    )
    assert code == 0
    model_path = out_dir / "mlp_digits.keras"
    assert model_path.is_file() and (out_dir / "training_curve.png").is_file()
    assert keras.saving.load_model(model_path).count_params() > 0

    base = tmp_path / "serving"
    assert cli.main(["export", str(model_path), str(base)]) == 0
    assert cli.main(["export", str(model_path), str(base)]) == 0
    assert sorted(v for v in os.listdir(base / "mlp_digits") if not v.startswith(".")) == [
        "1",
        "2",
    ]
    assert (base / "mlp_digits" / "2" / "saved_model.pb").is_file()
    assert cli.main(["export", str(model_path), str(base), "--version", "2"]) == 2
    assert "zoo: error:" in capsys.readouterr().err


def test_export_missing_file_is_a_user_error(tmp_path, capsys):
    assert cli.main(["export", str(tmp_path / "nope.keras"), str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("zoo: error:") and "nope.keras" in err[0]


def test_python_dash_m_zoo_runs_without_traceback_on_user_error():
    result = subprocess.run(
        [sys.executable, "-m", "zoo", "train", "no_such_model"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "zoo: error: Unknown model name 'no_such_model'" in result.stderr


def test_export_tflite_int8_with_representative_data(tmp_path, capsys):
    images = np.random.default_rng(0).random((16, 8, 8, 1), dtype=np.float32)
    npy = tmp_path / "calibration.npy"
    np.save(npy, images)
    base = tmp_path / "tflite"
    args = ["export", "cnn_digits", str(base), "--tiny", "--tflite", "int8"]
    assert cli.main([*args, "--representative-data", str(npy)]) == 0
    path = base / "cnn_digits.tflite"
    assert path.stat().st_size > 0
    assert serving.tflite_predict(path.read_bytes(), images[:2]).shape == (2, 10)
    assert cli.main(args) == 2  # a float model needs calibration data for int8
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("zoo: error:") and "representative_data" in err[-1]


def test_train_recipe_flags_reach_the_run_record(tmp_path, capsys):
    import json

    out = tmp_path / "run"
    code = cli.main(
        [
            "train",
            "cnn_digits",
            "--epochs",
            "2",
            "--batch-size",
            "512",
            "--schedule",
            "cosine",
            "--warmup-epochs",
            "1",
            "--augment",
            "randaugment,cutmix",
            "--value-range",
            "0,1",
            "--override",
            "filters=[4]",
            "--output",
            str(out),
            "--verbose",
            "0",
        ]
    )
    assert code == 0, capsys.readouterr().err
    config = json.loads((out / "run.json").read_text())["config"]
    assert config["augment"] == ["randaugment", "cutmix"]
    assert (config["schedule"], config["warmup_epochs"]) == ("cosine", 1.0)
    assert config["value_range"] == [0.0, 1.0]
    optimizer = keras.saving.load_model(out / "cnn_digits.keras").optimizer
    schedule = optimizer._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    # 1,437 digits in batches of 512: 3 steps per epoch, one epoch of warmup.
    assert (schedule.warmup_steps, schedule.decay_steps) == (3, 3)
    assert schedule.warmup_target == pytest.approx(1e-3)


def test_train_recipe_keys_in_a_config_file(tmp_path, capsys):
    import json

    config = tmp_path / "run.yaml"
    config.write_text(
        "model: mlp_digits\n"
        "epochs: 1\n"
        "batch-size: 512\n"
        "schedule: one_cycle\n"
        "warmup-epochs: 0\n"
        "augment: []\n"
        f"output: {tmp_path / 'out'}\n"
        "verbose: 0\n"
    )
    assert cli.main(["train", "--config", str(config)]) == 0
    record = json.loads((tmp_path / "out" / "run.json").read_text())["config"]
    assert (record["schedule"], record["warmup_epochs"], record["augment"]) == ("one_cycle", 0, [])
    capsys.readouterr()
    config.write_text("model: mlp_digits\naugment: [mixup, rotate]\n")
    assert cli.main(["train", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "augment=['mixup', 'rotate']" in err[0]


def test_train_recipe_bad_flags_are_one_line_errors(capsys):
    assert cli.main(["train", "cnn_digits", "--augment", "mixup,flip"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("zoo: error:") and "'flip'" in err[0]
    for flags, text in (
        (["--schedule", "step"], "invalid choice: 'step'"),
        (["--warmup-epochs", "-1"], "expected a number >= 0, got '-1'"),
        (["--value-range", "1"], "expected LOW,HIGH numbers, got '1'"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["train", "cnn_digits", *flags])
        assert exit_info.value.code == 2
        assert text in capsys.readouterr().err
