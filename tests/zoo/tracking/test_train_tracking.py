import json

import numpy as np
import pytest

import tfrecords
from zoo import cli
from zoo.tracking import dataset_fingerprint
from zoo.tracking.uri import global_tracking_uri


def test_zoo_train_track_with_sqlite_records_everything(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MLflow puts a SQLite store's artifacts in ./mlruns
    rng = np.random.default_rng(0)
    data = {"x": rng.random((64, 64)).astype("float32"), "label": np.arange(64) % 10}
    tfrecords.write(data, str(tmp_path / "digits"), num_shards=2)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    argv = [
        "train",
        "mlp_digits",
        "--data",
        str(tmp_path / "digits"),
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--output",
        str(tmp_path / "out"),
        "--override",
        "hidden_units=[4]",
        "--no-deterministic",
        "--verbose",
        "0",
        "--track",
        f"mlflow:{uri}",
        "--carbon-country",
        "FRA",
    ]
    assert cli.main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["tracking"]["enabled"] and result["tracking"]["model_version"] == 1
    assert result["energy_kwh"] > 0 and result["emissions_kg_co2eq"] > 0

    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["status"] == "FINISHED" and record["config"]["track"] == f"mlflow:{uri}"
    assert record["carbon"]["country_iso_code"] == "FRA" and record["carbon"]["energy_kwh"] > 0
    fingerprint = dataset_fingerprint(str(tmp_path / "digits"))
    assert record["datasets"]["data"]["sha256"] == fingerprint["sha256"]
    assert record["tracking"]["registered_model"] == {"name": "mlp_digits", "version": 1}

    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    run = client.get_run(result["tracking"]["run_id"])
    assert run.info.status == "FINISHED" and run.info.run_name == "mlp_digits"
    assert run.data.params["epochs"] == "2" and run.data.params["overrides.hidden_units"] == "[4]"
    history = json.loads((tmp_path / "out" / "history.json").read_text())
    assert set(history) == {"loss", "accuracy"}
    for name, values in history.items():
        logged = client.get_metric_history(run.info.run_id, name)
        assert [m.value for m in logged] == values
    assert run.data.metrics["carbon.emissions_kg_co2eq"] == record["carbon"]["emissions_kg_co2eq"]
    (dataset,) = run.inputs.dataset_inputs
    assert dataset.dataset.digest == fingerprint["sha256"][:36]
    with global_tracking_uri(uri):
        (version,) = client.search_model_versions("name='mlp_digits'")
    assert version.run_id == run.info.run_id
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"mlp_digits.keras", "run.json", "training_curve.png", "saved_model"} <= artifacts


def test_zoo_train_track_errors_name_the_value(tmp_path, capsys):
    for flags, text in (
        (["--track", "wandb"], "track='wandb'"),
        (["--carbon", "--carbon-country", "XX"], "country_iso_code='XX'"),
        (["--track", "mlflow", "--strategy", "multiworker"], "track='mlflow'"),
    ):
        argv = ["train", "mlp_digits", "--epochs", "1", "--output", str(tmp_path), *flags]
        assert cli.main(argv) == 2
        assert text in capsys.readouterr().err


@pytest.mark.slow
def test_zoo_train_track_unreachable_server_keeps_local_outputs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    from zoo.tracking import TrackingUnavailableWarning

    argv = ["train", "mlp_digits", "--epochs", "1", "--output", str(tmp_path / "out")]
    argv += ["--verbose", "0", "--no-carbon", "--track", "mlflow:http://127.0.0.1:9"]
    with pytest.warns(TrackingUnavailableWarning, match="tracking is off"):
        assert cli.main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["tracking"]["enabled"] is False and "energy_kwh" not in result
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["status"] == "FINISHED" and "carbon" not in record
    assert (tmp_path / "out" / "mlp_digits.keras").exists()
