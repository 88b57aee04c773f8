"""`python -m serving` (the process `local_server` starts), and the model manager's handling of
broken versions. The `zoo export` / `zoo serve` commands are tested in tests/zoo/test_cli.py."""

import os

import numpy as np
import pytest

import serving
from serving.__main__ import main
from serving.server import ModelManager


def test_python_dash_m_serving_reports_bad_arguments(tmp_path, capsys):
    assert main([str(tmp_path / "nope")]) == 2
    assert "`base_dir` must be an existing directory" in capsys.readouterr().err
    assert main([str(tmp_path), "--poll-interval", "0"]) == 2
    assert "Received: poll_interval=0.0" in capsys.readouterr().err
    assert main([str(tmp_path), "--port", "70000"]) == 2
    assert "Received: port=70000" in capsys.readouterr().err


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
