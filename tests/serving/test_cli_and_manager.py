"""The `serve` command's arguments, and the model manager's handling of broken versions."""

import argparse
import os

import numpy as np
import pytest

import serving
from serving.cli import add_export_command, add_serve_command, main
from serving.server import ModelManager


def test_add_serve_command_parses_and_validates(tmp_path):
    parser = argparse.ArgumentParser(prog="zoo")
    add_serve_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", str(tmp_path), "--grpc-port", "8500"])
    assert (args.port, args.grpc_port, args.host) == (8501, 8500, "127.0.0.1")
    assert args.poll_interval == 1.0 and args.version_policy == "latest"
    assert callable(args.handler)
    missing = parser.parse_args(["serve", str(tmp_path / "nope")])
    with pytest.raises(FileNotFoundError, match="nope"):
        missing.handler(missing)
    bad = parser.parse_args(["serve", str(tmp_path), "--poll-interval", "0"])
    with pytest.raises(ValueError, match="--poll-interval must be positive. Received: 0.0"):
        bad.handler(bad)
    assert main([str(tmp_path / "nope")]) == 2


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


def test_export_command_for_registered_and_saved_models(tmp_path, capsys, linear_model):
    parser = argparse.ArgumentParser(prog="zoo")
    subparsers = parser.add_subparsers(dest="command")
    add_export_command(subparsers)
    args = parser.parse_args(
        ["export", "cnn_digits", str(tmp_path), "--tiny", "--classify-top-k", "2"]
    )
    assert args.handler(args) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "cnn_digits" / "1")
    linear_model.save(tmp_path / "linear.keras")
    args = parser.parse_args(["export", str(tmp_path / "linear.keras"), str(tmp_path)])
    assert args.handler(args) == 0
    assert serving.list_versions(tmp_path / "linear") == [1]
    with pytest.raises(ValueError, match="Unknown model name 'nope'"):
        args = parser.parse_args(["export", "nope", str(tmp_path)])
        args.handler(args)
