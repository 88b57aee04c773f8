"""`zoo experiments depth-vs-width | information-plane --quick`: the PNG and JSON they write."""

import json

import numpy as np
import pytest
from PIL import Image

from zoo import cli
from zoo.cli import experiments as experiments_cli
from zoo.experiments import information_plane


def run(capsys, *argv):
    status = cli.main(["experiments", *map(str, argv)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_depth_vs_width_quick_writes_a_png_and_a_table(tmp_path, capsys):
    status, out, err = run(capsys, "depth-vs-width", "--output", tmp_path, "--quick")
    assert status == 0
    assert "loss" in err  # the progress bar goes to stderr; stdout is the JSON summary alone
    summary = json.loads(out)
    assert summary["plot"] == str(tmp_path / "depth_vs_width.png")
    assert Image.open(summary["plot"]).format == "PNG"
    table = json.loads((tmp_path / "depth_vs_width.json").read_text())
    assert set(table) == {"config", "rows", "findings"}
    assert table["config"]["depths"] == [1, 2, 3] and table["config"]["budget"] == 60
    targets = {"sin", "gaussian_bump", "polynomial", "sawtooth_3"}
    assert {row["target"] for row in table["rows"]} == targets
    assert len(table["rows"]) == 4 * 3
    for row in table["rows"]:
        assert set(row) >= {"depth", "width", "parameters", "rmse_mean", "rmse_std", "rmse_best"}
        assert abs(row["parameters"] - 60) <= row["depth"] * 2 * row["width"] + 3
        assert np.isfinite(row["rmse_mean"]) and row["rmse_best"] <= row["rmse_mean"]
    construction = table["findings"]["construction"]
    assert construction["rmse"] < 1e-5 and construction["shallow_width_needed"] == 7
    assert set(table["findings"]) == targets | {"construction"}


def test_information_plane_quick_writes_a_png_and_a_table(tmp_path, capsys):
    status, out, _ = run(
        capsys, "information-plane", "--output", tmp_path, "--quick", "--verbose", "0"
    )
    assert status == 0
    summary = json.loads(out)
    assert Image.open(summary["plot"]).format == "PNG"
    table = json.loads((tmp_path / "information_plane.json").read_text())
    assert set(table["runs"]) == {"tanh", "relu"}
    assert table["config"]["kde_patterns"] == 512
    for run_ in table["runs"].values():
        assert run_["epochs"] == [1, 4]
        for estimator in ("binning", "kde"):
            values = np.array(run_[estimator])
            assert values.shape == (2, 6, 2)  # epochs, layers (5 hidden + output), pairs
            assert (values >= 0).all() and (values[..., 1] <= 1.0 + 1e-6).all()
            assert (values[..., 0] <= 12.0 + 1e-6).all()  # I(X;T) <= H(X) = 12 bits
            assert len(run_["compression"][estimator]["per_layer"]) == 5
        assert 0.0 <= run_["accuracy"]["test"] <= 1.0
    for statistic in ("mean", "max"):
        assert set(table["findings"][f"binning_compression_{statistic}"]) == {"tanh", "relu"}


def test_bad_values_are_named(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["experiments", "depth-vs-width", "--output", str(tmp_path), "--budget", "0"])
    assert "Received: budget=0" in capsys.readouterr().err
    status, _, err = run(capsys, "depth-vs-width", "--output", tmp_path, "--quick", "--budget", "3")
    assert status == 2 and "Received: budget=3" in err


def test_the_cli_activations_are_the_experiments():
    assert experiments_cli.ACTIVATIONS == information_plane.ACTIVATIONS
