import json
import os
import warnings

import keras
import numpy as np
import pytest

from zoo.tracking import (
    FAILED,
    FINISHED,
    KILLED,
    CarbonCallback,
    MLflowCallback,
    TrackingUnavailableWarning,
    parse_track_option,
)
from zoo.tracking.uri import global_tracking_uri


def _model(name="tiny"):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)], name=name)
    model.compile(
        keras.optimizers.Adam(0.01),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((48, 4)).astype("float32")
    return x, (x.sum(axis=1) * 1.5).astype("int32") % 3


def _client(uri):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def test_fit_is_tracked_and_registered_as_new_versions(tmp_path):
    uri = (tmp_path / "mlruns").as_uri()
    x, y = _data()
    carbon = CarbonCallback(country_iso_code="DEU", measure_power_secs=1)
    tracking = MLflowCallback(
        uri,
        params={"batch_size": 16, "overrides": {"units": [3]}},
        output_dir=str(tmp_path / "run1"),
        carbon=carbon,
        seed=7,
    )
    with tracking:
        history = _model().fit(
            x, y, epochs=3, batch_size=16, validation_split=0.25, callbacks=[tracking], verbose=0
        )
    assert os.environ["MLFLOW_ALLOW_FILE_STORE"] == "true"
    client = _client(uri)
    run = client.get_run(tracking.run_id)
    assert run.info.status == FINISHED == tracking.status
    assert run.data.params["overrides.units"] == "[3]" and run.data.params["fit.epochs"] == "3"
    assert run.data.params["model.parameters"] == "15"
    for name, values in history.history.items():
        logged = client.get_metric_history(tracking.run_id, name)
        assert [m.step for m in logged] == [0, 1, 2]
        np.testing.assert_array_equal([m.value for m in logged], values)
    artifacts = {a.path for a in client.list_artifacts(tracking.run_id)}
    assert artifacts >= {
        "run.json",
        "history.json",
        "training_curve.png",
        "tiny.keras",
        "saved_model",
        "model",
    }
    exported = {a.path for a in client.list_artifacts(tracking.run_id, "saved_model/tiny/1")}
    assert {"saved_model/tiny/1/saved_model.pb", "saved_model/tiny/1/variables"} <= exported

    # The local run record holds the status, the MLflow run, the version and the carbon figures.
    record = json.loads((tmp_path / "run1" / "run.json").read_text())
    assert record["status"] == FINISHED and record["seed"] == 7
    assert record["config"]["overrides"] == {"units": [3]}
    assert record["tracking"]["run_id"] == tracking.run_id
    assert record["tracking"]["registered_model"] == {"name": "tiny", "version": 1}
    assert record["carbon"] == carbon.summary and record["carbon"]["country_iso_code"] == "DEU"
    assert record["carbon"]["energy_kwh"] > 0 and record["carbon"]["emissions_kg_co2eq"] > 0
    logged_energy = client.get_metric_history(tracking.run_id, "carbon.energy_kwh")
    assert [m.value for m in logged_energy] == [record["carbon"]["energy_kwh"]]

    # codecarbon's own conversion: CO2-eq = energy x the country's carbon intensity.
    from codecarbon.core.emissions import Emissions
    from codecarbon.core.units import Energy
    from codecarbon.external.geography import GeoMetadata
    from codecarbon.input import DataSource

    per_kwh = Emissions(DataSource()).get_country_emissions(
        Energy.from_energy(kWh=1.0), GeoMetadata(country_iso_code="DEU")
    )
    carbon_record = record["carbon"]
    assert carbon_record["emissions_kg_co2eq"] == pytest.approx(
        carbon_record["energy_kwh"] * per_kwh, rel=1e-6
    )

    # The registered model loads back with MLflow's keras flavour and predicts as trained.
    import mlflow.keras

    with global_tracking_uri(uri):  # MLflow's file registry reads the global URI
        loaded = mlflow.keras.load_model("models:/tiny/1")
    reference = keras.saving.load_model(tmp_path / "run1" / "tiny.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), reference.predict(x, verbose=0))

    # A second run of the same model is version 2.
    second = MLflowCallback(uri, output_dir=str(tmp_path / "run2"), export_saved_model=False)
    with second:
        _model().fit(x, y, epochs=1, callbacks=[second], verbose=0)
    assert second.model_version == 2
    with global_tracking_uri(uri):
        versions = client.search_model_versions("name='tiny'")
    assert sorted(int(v.version) for v in versions) == [1, 2]
    assert {v.run_id for v in versions} == {tracking.run_id, second.run_id}


def test_failed_and_interrupted_runs_are_recorded_with_their_status(tmp_path):
    uri = (tmp_path / "mlruns").as_uri()
    x, y = _data()
    failing = MLflowCallback(uri, output_dir=str(tmp_path / "failed"), register=False)
    with pytest.raises(ValueError), failing:
        _model().fit(x[:, :3], y, epochs=1, callbacks=[failing], verbose=0)  # wrong input width
    client = _client(uri)
    assert client.get_run(failing.run_id).info.status == FAILED
    record = json.loads((tmp_path / "failed" / "run.json").read_text())
    assert record["status"] == FAILED and "ValueError" in record["error"]
    assert not (tmp_path / "failed" / "tiny.keras").exists()

    # Ctrl-C in the second epoch: KILLED, with the first epoch's metrics kept.
    def interrupt(epoch, logs):
        if epoch == 1:
            raise KeyboardInterrupt

    interrupted = MLflowCallback(uri, output_dir=str(tmp_path / "killed"), register=False)
    stop = keras.callbacks.LambdaCallback(on_epoch_end=interrupt)
    with pytest.raises(KeyboardInterrupt), interrupted:
        _model().fit(x, y, epochs=3, callbacks=[interrupted, stop], verbose=0)
    assert client.get_run(interrupted.run_id).info.status == KILLED
    assert len(client.get_metric_history(interrupted.run_id, "loss")) == 2
    record = json.loads((tmp_path / "killed" / "run.json").read_text())
    assert record["status"] == KILLED
    assert len(json.loads((tmp_path / "killed" / "history.json").read_text())["loss"]) == 2


def test_unreachable_server_warns_and_writes_everything_locally(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    x, y = _data()
    tracking = MLflowCallback("http://127.0.0.1:9", output_dir=str(tmp_path / "out"))
    with pytest.warns(TrackingUnavailableWarning, match="127.0.0.1:9"), tracking:
        history = _model().fit(x, y, epochs=2, callbacks=[tracking], verbose=0)
    assert not tracking.enabled and tracking.run_id is None and tracking.status == FINISHED
    files = set(os.listdir(tmp_path / "out"))
    assert files >= {"tiny.keras", "history.json", "training_curve.png", "run.json", "saved_model"}
    assert json.loads((tmp_path / "out" / "history.json").read_text()) == history.history
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["tracking"] == {"uri": "http://127.0.0.1:9", "enabled": False, "run_id": None}


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="track='wandb'"):
        parse_track_option("wandb")
    with pytest.raises(ValueError, match="track='mlflow:'"):
        parse_track_option("mlflow:")
    assert parse_track_option("mlflow:sqlite:///x.db") == ("mlflow", "sqlite:///x.db")
    assert parse_track_option("mlflow") == ("mlflow", None)
    with pytest.raises(ValueError, match="country_iso_code='Mars'"):
        CarbonCallback(country_iso_code="Mars")
    with pytest.raises(ValueError, match="experiment=''"):
        MLflowCallback("file:///tmp/unused", experiment="")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert CarbonCallback("fra").country_iso_code == "FRA"
