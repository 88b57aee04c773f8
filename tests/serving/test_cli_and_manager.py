"""`python -m serving` (the process `local_server` starts), `zoo serve`'s batching options, and
the model manager's handling of broken versions. The other `zoo export` / `zoo serve` checks are
in tests/zoo/test_cli.py."""

import argparse
import os

import numpy as np
import pytest

import serving
from serving.__main__ import main
from serving.server import ModelManager
from zoo import cli
from zoo.cli import serving as serving_commands


def test_python_dash_m_serving_reports_bad_arguments(tmp_path, capsys):
    assert main([str(tmp_path / "nope")]) == 2
    assert "`base_dir` must be an existing directory" in capsys.readouterr().err
    assert main([str(tmp_path), "--poll-interval", "0"]) == 2
    assert "Received: poll_interval=0.0" in capsys.readouterr().err
    assert main([str(tmp_path), "--port", "70000"]) == 2
    assert "Received: port=70000" in capsys.readouterr().err
    assert main([str(tmp_path), "--max-pending-requests", "0"]) == 2
    assert "Received: max_pending_requests=0" in capsys.readouterr().err
    assert main([str(tmp_path), "--grace-period", "0"]) == 2
    assert "Received: grace_period=0.0" in capsys.readouterr().err


def test_batching_options_are_checked_before_the_server_starts(tmp_path, capsys):
    config = serving.write_model_config(tmp_path, ["digits"]).batching_config
    # Like tensorflow_model_server: a parameters file needs --enable-batching.
    assert main([str(tmp_path), "--batching-parameters-file", config]) == 2
    err = capsys.readouterr().err
    assert "without `enable_batching`" in err and "batching.config" in err
    bad = tmp_path / "bad.config"
    bad.write_text("max_batch_size { value: 8 }\nallowed_batch_sizes: 4\n")
    assert main([str(tmp_path), "--enable-batching", "--batching-parameters-file", str(bad)]) == 2
    assert "Received: allowed_batch_sizes=[4]" in capsys.readouterr().err
    bad.write_text("max_batch_size { value: 8 }\nbatch_threads { value: 2 }\n")
    assert (
        cli.main(
            ["serve", str(tmp_path), "--enable-batching", "--batching-parameters-file", str(bad)]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("zoo: error:") and 'named "batch_threads"' in err[0]


def test_zoo_serve_parses_the_batching_and_drain_options(tmp_path):
    parser = argparse.ArgumentParser(prog="zoo")
    serving_commands.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", str(tmp_path)])
    assert (args.enable_batching, args.batching_parameters_file) == (False, None)
    assert (args.max_pending_requests, args.grace_period) == (1024, 10.0)
    args = parser.parse_args(
        [
            "serve",
            str(tmp_path),
            "--enable-batching",
            "--batching-parameters-file",
            "b.config",
            "--max-pending-requests",
            "8",
            "--grace-period",
            "2.5",
        ]
    )
    assert (args.enable_batching, args.batching_parameters_file) == (True, "b.config")
    assert (args.max_pending_requests, args.grace_period) == (8, 2.5)


def test_broken_version_is_reported_and_previous_keeps_serving(tmp_path, linear_model):
    serving.export(linear_model, tmp_path, "linear")
    manager = ModelManager(tmp_path, log=lambda line: None)
    manager.poll()
    broken = tmp_path / "linear" / "2"
    broken.mkdir()
    (broken / "saved_model.pb").write_bytes(b"not a SavedModel")
    manager.poll()
    rows = manager.status("linear")
    assert [(v, state) for v, state, _, _ in rows] == [(2, "END"), (1, "AVAILABLE")]
    assert rows[0][2] == "UNKNOWN" and rows[0][3]
    out = manager.get("linear").signature(None).run({"inputs": np.ones((1, 3), np.float32)})
    np.testing.assert_allclose(out["value"], [[6.5]])
    # A temporary folder being written is never loaded.
    os.makedirs(tmp_path / "linear" / ".tmp-3-abc")
    manager.poll()
    assert manager.get("linear").version == 1
    with pytest.raises(ValueError, match="version_policy"):
        ModelManager(tmp_path, version_policy="newest")
    with pytest.raises(FileNotFoundError):
        ModelManager(tmp_path / "nope")
