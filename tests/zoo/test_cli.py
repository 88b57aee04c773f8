"""The `zoo` command line: every sub-command, its argument checks and its quiet output."""

import argparse
import ast
import os
import pathlib
import re
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

import serving
import tfrecords
import zoo
from zoo import cli
from zoo.cli import arguments, logs
from zoo.cli import data as data_commands
from zoo.cli import serving as serving_commands

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_list_prints_every_registered_model(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "mlp_digits" in out and "cnn_digits" in out


def test_list_with_pattern(capsys):
    assert cli.main(["list", "mlp_*"]) == 0
    out = capsys.readouterr().out
    assert "mlp_digits" in out and "cnn_digits" not in out
    assert cli.main(["list", "nothing_*"]) == 1


def test_list_shows_family_task_and_whether_it_can_be_tuned(capsys):
    assert cli.main(["list"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert set(rows) == set(zoo.list_models())
    for name, line in rows.items():
        spec = zoo.get_spec(name)
        tunable = "tunable" if spec.search_space is not None else "not tunable"
        fields = [name, spec.family, spec.task, tunable]
        assert re.match(r"\s+".join(map(re.escape, fields)) + r"\s", line), line
        assert line.rstrip().endswith(spec.description)
    starts = {line.index(zoo.get_spec(name).description) for name, line in rows.items()}
    assert len(starts) == 1  # the columns are aligned


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
    err = capsys.readouterr().err
    assert "argument --epochs: `epochs` must be a positive integer. Received: epochs=0" in err


@pytest.mark.parametrize(
    "args, text",
    [
        (["demo", "--epochs", "-3"], "`epochs` must be a positive integer. Received: epochs=-3"),
        (["demo", "--seed", "-1"], "`seed` must be a non-negative integer. Received: seed=-1"),
        (["tune", "m", "--max-trials", "x"], "Received: max_trials='x'"),
        (["tune", "m", "--batch-size", "1.5"], "Received: batch_size='1.5'"),
        (["train", "m", "--learning-rate", "0"], "Received: learning_rate=0.0"),
        (["train", "m", "--cpu-devices", "0"], "Received: cpu_devices=0"),
        (["train", "m", "--override", "dropout"], "Received: override='dropout'"),
        (["export", "m", "out", "--version", "0"], "Received: version=0"),
        (["export", "m", "out", "--classify-top-k", "0"], "Received: classify_top_k=0"),
        (["serve", "models", "--port", "70000"], "integer in [0, 65535]. Received: port=70000"),
        (["serve", "models", "--grpc-port", "-1"], "Received: grpc_port=-1"),
        (["serve", "models", "--poll-interval", "0"], "Received: poll_interval=0.0"),
        (["serve", "models", "--max-request-bytes", "0"], "Received: max_request_bytes=0"),
    ],
)
def test_every_checked_flag_names_the_value(args, text, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"zoo {args[0]}: error: argument --") and text in err[-1]


def test_checked_types_return_the_parsed_value():
    assert arguments.positive_int("epochs")("3") == 3
    assert arguments.non_negative_float("warmup_epochs")("0.5") == 0.5
    assert arguments.number_pair("value_range")("-1,1") == (-1.0, 1.0)
    assert arguments.key_value("fix")("filters=[4, 8]") == ("filters", [4, 8])
    assert serving_commands.port("port")("0") == 0
    with pytest.raises(argparse.ArgumentTypeError, match=r"Received: value_range=\[1.0\]"):
        arguments.number_pair("value_range")("1")
    with pytest.raises(argparse.ArgumentTypeError, match="Received: fix='a=\\[1,'"):
        arguments.key_value("fix")("a=[1,")


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
        (["--warmup-epochs", "-1"], "Received: warmup_epochs=-1.0"),
        (["--value-range", "1"], "`value_range` must be a pair of numbers. Received: value_range"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["train", "cnn_digits", *flags])
        assert exit_info.value.code == 2
        assert text in capsys.readouterr().err


def _parser(add_commands) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zoo")
    add_commands(parser.add_subparsers(dest="command"))
    return parser


def test_serve_command_parses_and_reports_a_missing_directory(tmp_path, capsys):
    parser = _parser(serving_commands.add_commands)
    args = parser.parse_args(["serve", str(tmp_path), "--grpc-port", "8500"])
    assert (args.port, args.grpc_port, args.host) == (8501, 8500, "127.0.0.1")
    assert args.poll_interval == 1.0 and args.version_policy == "latest"
    assert args.handler is serving_commands.run_serve
    assert cli.main(["serve", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("zoo: error: `base_dir`") and "nope" in err[0]


def test_export_command_for_registered_and_saved_models(tmp_path, capsys):
    parser = _parser(serving_commands.add_commands)
    args = parser.parse_args(
        ["export", "cnn_digits", str(tmp_path), "--tiny", "--classify-top-k", "2"]
    )
    assert args.handler(args) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "cnn_digits" / "1")
    linear = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    linear.save(tmp_path / "linear.keras")
    args = parser.parse_args(["export", str(tmp_path / "linear.keras"), str(tmp_path)])
    assert args.handler(args) == 0
    assert serving.list_versions(tmp_path / "linear") == [1]
    args = parser.parse_args(["export", "nope", str(tmp_path)])
    with pytest.raises(ValueError, match="Unknown model name 'nope'"):
        args.handler(args)


def test_data_inspect_command(tmp_path, capsys):
    prefix = str(tmp_path / "d")
    data = {"id": np.arange(10), "x": np.zeros((10, 8), np.float32)}
    tfrecords.write(data, prefix, num_shards=2, verbose=0)
    args = _parser(data_commands.add_commands).parse_args(["data", "inspect", str(tmp_path)])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "records: 10" in out and "x   float32  shape=(8,)" in out
    assert cli.main(["data", "inspect", str(tmp_path / "missing")]) == 2
    assert "missing" in capsys.readouterr().err


def test_train_schedule_choices_are_the_schedule_factory_names(capsys):
    from layers.schedules import SCHEDULES

    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "{" + ",".join(SCHEDULES) + "}" in help_text


def _imported_packages(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ["serving", "tfrecords"])
def test_libraries_do_not_import_zoo(package):
    importers = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / package).rglob("*.py"))
        if "zoo" in _imported_packages(path)
    ]
    assert importers == []


# A TensorFlow C++/absl log line (`I0000 00:00:1700000000.000000   1234 file.cc:31] ...`) or
# absl's notice that it logs to stderr before its initialisation.
_TENSORFLOW_LOG_LINE = re.compile(r"^[IWEF]\d{4} \S+\s+\d+ \S+:\d+\]|absl::InitializeLog")


def _zoo_script() -> str:
    script = os.path.join(os.path.dirname(sys.executable), "zoo")
    return script if os.path.isfile(script) else shutil.which("zoo")


def test_entry_points_show_tensorflow_logs_only_with_verbose():
    # TensorFlow's defaults, as a user's shell has them: on a machine without a GPU its start-up
    # probes CUDA and says so (the lines `zoo --verbose` prints). `python -m zoo` on a user
    # error: the message, exit status 2, no traceback and no TensorFlow lines; the console
    # script with `--verbose`: its output and TensorFlow's lines.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_CPP_")}
    commands = {
        "quiet": [sys.executable, "-m", "zoo", "train", "no_such_model"],
        "verbose": [_zoo_script(), "--verbose", "list", "mlp_*"],
    }
    runs = {
        name: subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for name, command in commands.items()
    }
    (_, quiet_err), (verbose_out, verbose_err) = (
        runs[name].communicate(timeout=300) for name in commands
    )
    assert runs["quiet"].returncode == 2, quiet_err[-2000:]
    assert "Traceback" not in quiet_err
    assert "zoo: error: Unknown model name 'no_such_model'" in quiet_err
    noise = [line for line in quiet_err.splitlines() if _TENSORFLOW_LOG_LINE.search(line)]
    assert noise == [], "python -m zoo printed TensorFlow's log lines:\n" + "\n".join(noise[:5])
    assert runs["verbose"].returncode == 0 and verbose_out.startswith("mlp_digits")
    assert any(map(_TENSORFLOW_LOG_LINE.search, verbose_err.splitlines())), verbose_err[-2000:]


def test_quiet_tensorflow_restores_the_settings_it_changes(monkeypatch):
    import logging

    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    logging.getLogger("absl").setLevel(logging.INFO)
    with logs.quiet_tensorflow():
        assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
        assert logging.getLogger("tensorflow").level == logging.ERROR
        assert logging.getLogger("absl").level == logging.ERROR
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"
    assert logging.getLogger("absl").level == logging.INFO
    logging.getLogger("absl").setLevel(logging.NOTSET)
    assert logs.wants_tensorflow_logs(["--verbose", "list"])
    assert not logs.wants_tensorflow_logs(["train", "m", "--verbose", "0"])
