"""`MLflowCallback`: a Keras `fit` tracked in MLflow, with its outputs also written locally."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import traceback
import warnings

import keras

from zoo.extras import require_extra
from zoo.plots import plot_history
from zoo.tracking.carbon import CarbonCallback
from zoo.tracking.mlflow_logging import (
    dataset_input,
    epoch_metrics,
    flatten_params,
    model_params,
    model_signature,
)
from zoo.tracking.record import merge_into_record
from zoo.tracking.uri import (
    TrackingUnavailableWarning,
    global_tracking_uri,
    resolve_tracking_uri,
    unreachable_reason,
)
from zoo.utils import write_run_record

FINISHED, FAILED, KILLED = "FINISHED", "FAILED", "KILLED"
DEFAULT_EXPERIMENT = "keras-zoo"


class MLflowCallback(keras.callbacks.Callback):
    """Tracks a `fit` in MLflow: parameters, per-epoch metrics, outputs, a registered model.

    At the start of training it opens an MLflow run (parameters: `params` flattened, the
    model's class, size and optimizer, `fit`'s epochs and steps; `datasets` as MLflow dataset
    inputs). After every epoch it logs the epoch's metrics at step `epoch`. At the end it writes
    to `output_dir`, and logs as artifacts of the run:

    - `MODEL.keras` (the trained model), `history.json`, `training_curve.png`;
    - `saved_model/MODEL/VERSION/`, the TF Serving export of `serving.export`;
    - `run.json`: `zoo.utils.run_record` (seed, package versions, hardware, git commit,
      `params` as its `config`) plus `status`, `datasets` (their fingerprints), `carbon` and
      `tracking` (URI, run id, registered model version);
    - the model in MLflow's `keras` flavour (artifact `model/`, loadable with
      `mlflow.keras.load_model`), registered as a new version of `model_name` in MLflow's
      model registry (`register=True`).

    One callback tracks one run. Use it as a context manager around `fit` (or the whole
    script) so that a failed or interrupted run is recorded with status `FAILED` or `KILLED`
    (Keras does not tell callbacks about exceptions): `run.json` then holds the error, and the
    metrics logged so far stay.

    When the tracking store cannot be used (a server that does not answer, a database that
    cannot be opened), a `TrackingUnavailableWarning` says so, nothing goes to MLflow, and every
    file above is still written to `output_dir`. An HTTP server is probed once with a 5 s
    timeout and no retries (unless `MLFLOW_HTTP_REQUEST_TIMEOUT`/`..._MAX_RETRIES` are set).

    Args:
        tracking_uri: `file:///path` (MLflow 3 deprecates file stores: this sets
            `MLFLOW_ALLOW_FILE_STORE=true` for them), a plain directory (a file store there),
            `sqlite:///path.db`, `http(s)://server`, or `None` for MLflow's default
            (`MLFLOW_TRACKING_URI`, else `sqlite:///mlflow.db` in the current directory). The
            model registry uses the same URI.
        experiment: MLflow experiment name, created if missing. Defaults to `None`:
            `MLFLOW_EXPERIMENT_NAME` when set, else `"keras-zoo"`.
        run_name: MLflow run name. Defaults to `None` (MLflow picks one).
        params: the run's configuration: logged as parameters (nested keys joined with `.`)
            and recorded as `config` in `run.json`. Defaults to `None`.
        output_dir: directory for the local outputs. Defaults to `None`:
            `artifacts/runs/<UTC time>`.
        model_name: file stem of the `.keras` file, export name and registered model name.
            Defaults to `None`: the model's `name`.
        register: register the model in MLflow's registry. Defaults to `True`.
        export_saved_model: write and log the TF Serving SavedModel. Defaults to `True`.
        datasets: `{name: (source, fingerprint)}` with `zoo.tracking.dataset_fingerprint`
            dicts, e.g. `{"train": ("data/train", dataset_fingerprint("data/train"))}`.
            Defaults to `None`.
        carbon: a `CarbonCallback` measuring the same `fit` (listed in `callbacks` too, or
            not: this one starts and stops it if needed); its figures go to `run.json` and to
            MLflow as metrics `carbon.energy_kwh` and `carbon.emissions_kg_co2eq`. Defaults
            to `None`.
        seed: the run's seed, for `run.json`. Defaults to `None`.
        tags: MLflow run tags. Defaults to `None`.

    Example:

    ```python
    tracking = MLflowCallback("sqlite:///mlflow.db", params={"lr": 1e-3}, model_name="mlp")
    with tracking:
        model.fit(x, y, epochs=5, validation_split=0.2, callbacks=[tracking])
    print(tracking.run_id, tracking.model_version)  # e.g. "3f2a...", 1
    ```

    Reference: Zaharia et al., "Accelerating the Machine Learning Lifecycle with MLflow", 2018.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str | None = None,
        run_name: str | None = None,
        params: dict | None = None,
        output_dir: str | None = None,
        model_name: str | None = None,
        register: bool = True,
        export_saved_model: bool = True,
        datasets: dict | None = None,
        carbon: CarbonCallback | None = None,
        seed: int | None = None,
        tags: dict | None = None,
    ):
        super().__init__()
        require_extra("mlflow", "tracking", "MLflow tracking")
        if experiment is None:
            experiment = os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT
        for name, value in (("experiment", experiment), ("run_name", run_name)):
            if value is not None and (not isinstance(value, str) or not value):
                raise ValueError(f"`{name}` must be a non-empty string. Received: {name}={value!r}")
        if carbon is not None and not isinstance(carbon, CarbonCallback):
            raise ValueError(
                f"`carbon` must be a CarbonCallback or None. Received: carbon={carbon!r}"
            )
        self.tracking_uri = resolve_tracking_uri(tracking_uri)
        self.experiment = experiment
        self.run_name = run_name
        self.run_params = dict(params or {})
        if output_dir is None:
            stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
            output_dir = os.path.join("artifacts", "runs", stamp)
        self.output_dir = os.fspath(output_dir)
        self.model_name = model_name
        self.register = register
        self.export_saved_model = export_saved_model
        self.datasets = dict(datasets or {})
        self.carbon = carbon
        self.seed = seed
        self.tags = dict(tags or {})
        self.enabled = False
        self.run_id: str | None = None
        self.model_version: int | None = None
        self.registered_model_name: str | None = None
        self.status: str | None = None
        self.history: dict[str, list[float]] = {}
        self.paths: dict[str, str] = {}
        self._client = None
        self._started = False

    # The run's life: start, log, finish.

    def start(self) -> None:
        """Opens the MLflow run (once); called by `__enter__` or `on_train_begin`."""
        if self._started:
            return
        self._started = True
        from mlflow import MlflowClient

        self._client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        reason = unreachable_reason(self._client)
        if reason is not None:
            self._turn_off(reason)
            return
        self.enabled = True
        self._call(self._open_run)

    def _open_run(self) -> None:
        client = self._client
        found = client.get_experiment_by_name(self.experiment)
        experiment_id = found.experiment_id if found else client.create_experiment(self.experiment)
        run = client.create_run(experiment_id, run_name=self.run_name, tags=self.tags)
        self.run_id = run.info.run_id
        self._log_params(flatten_params(self.run_params))
        inputs = [dataset_input(name, s, f) for name, (s, f) in self.datasets.items()]
        if inputs:
            client.log_inputs(self.run_id, datasets=inputs)

    def _turn_off(self, reason: str) -> None:
        self.enabled = False
        warnings.warn(
            f"MLflow tracking is off for this run: the tracking URI {self.tracking_uri!r} cannot "
            f"be used ({reason}). Training goes on and every output is still written to "
            f"{self.output_dir!r}.",
            TrackingUnavailableWarning,
            stacklevel=3,
        )

    def _call(self, function, *args, **kwargs):
        """Runs an MLflow call; the first failure turns tracking off with a warning."""
        if not self.enabled:
            return None
        try:
            return function(*args, **kwargs)
        except Exception as error:  # a server gone, a full disk: training must go on
            self._turn_off(f"{type(error).__name__}: {str(error).strip()[:300]}")
            return None

    def _log_params(self, params: dict[str, str]) -> None:
        from mlflow.entities import Param

        items = [Param(k, v) for k, v in params.items()]
        for i in range(0, len(items), 100):  # MLflow takes at most 100 parameters a batch
            self._client.log_batch(self.run_id, params=items[i : i + 100])

    def on_train_begin(self, logs=None):
        self.start()
        if self.carbon is not None and not self.carbon.running:
            self.carbon.start()
        params = model_params(self.model)
        for key in ("epochs", "steps"):
            value = (self.params or {}).get(key)
            if value is not None:
                params[f"fit.{key}"] = str(value)
        self._call(self._log_params, params)

    def on_epoch_end(self, epoch, logs=None):
        metrics = epoch_metrics(logs, epoch)
        for metric in metrics:
            self.history.setdefault(metric.key, []).append(metric.value)
        if metrics:
            self._call(self._client.log_batch, self.run_id, metrics=metrics)

    def on_train_end(self, logs=None):
        self.finish(FINISHED)

    def __enter__(self) -> MLflowCallback:
        self.start()
        return self

    def __exit__(self, kind, error, trace) -> bool:
        if self.status is None:
            if error is None:
                self.finish(FINISHED)
            else:
                status = KILLED if isinstance(error, KeyboardInterrupt) else FAILED
                message = "".join(traceback.format_exception_only(kind, error)).strip()
                self.finish(status, error=message)
        return False

    def finish(self, status: str = FINISHED, error: str | None = None) -> dict[str, str]:
        """Writes the outputs, logs them, registers the model and ends the run as `status`.

        A `FINISHED` run saves and registers the model; a `FAILED`/`KILLED` one writes only
        `history.json` and `run.json` (with `error`). Called by `on_train_end` and `__exit__`;
        later calls do nothing.

        Returns:
            The local paths written, by kind (`"model"`, `"history"`, `"training_curve"`,
            `"saved_model"`, `"run_record"`).
        """
        if self.status is not None:
            return self.paths
        self.start()
        self.status = status
        try:
            self._finish(status, error)
        except BaseException:  # e.g. a model that cannot be saved: the run did not finish
            self.status = FAILED
            self._call(self._client.set_terminated, self.run_id, FAILED)
            raise
        return self.paths

    def _finish(self, status: str, error: str | None) -> None:
        os.makedirs(self.output_dir, exist_ok=True)
        carbon = self.carbon.stop() if self.carbon is not None else None
        self._write_history()
        sections: dict = {"status": status}
        if error is not None:
            sections["error"] = error
        if status == FINISHED and self.model is not None:
            sections.update(self._save_model())
        if self.datasets:
            sections["datasets"] = {
                n: {"source": str(s), **f} for n, (s, f) in self.datasets.items()
            }
        if carbon is not None:
            sections["carbon"] = carbon
            self._call(self._log_carbon, carbon)
        sections["tracking"] = self._tracking_section()
        record = write_run_record(
            os.path.join(self.output_dir, "run.json"), self.run_params, seed=self.seed
        )
        merge_into_record(record, sections)
        self.paths["run_record"] = record
        for kind in ("history", "training_curve", "model", "run_record"):
            if kind in self.paths:
                self._call(self._client.log_artifact, self.run_id, self.paths[kind])
        if "saved_model" in self.paths:
            self._call(
                self._client.log_artifacts, self.run_id, self.paths["saved_model"], "saved_model"
            )
        self._call(self._client.set_terminated, self.run_id, status)

    def _write_history(self) -> None:
        path = os.path.join(self.output_dir, "history.json")
        with open(path, "w") as f:
            json.dump(self.history, f, indent=2)
        self.paths["history"] = path
        if self.history:
            curve = os.path.join(self.output_dir, "training_curve.png")
            self.paths["training_curve"] = plot_history(self.history, curve)

    def _save_model(self) -> dict:
        name = self.model_name or self.model.name
        path = os.path.join(self.output_dir, f"{name}.keras")
        self.model.save(path)
        self.paths["model"] = path
        sections = {}
        if self.export_saved_model:
            sections["saved_model"] = self._export(name)
        if self.enabled:
            self._call(self._log_keras_model, name)
        return sections

    def _export(self, name: str) -> dict:
        from serving.export import export

        base = os.path.join(self.output_dir, "saved_model")
        try:
            path = export(self.model, base, name)
        except Exception as error:  # not every model exports (e.g. sparse graph inputs)
            message = f"{type(error).__name__}: {str(error).strip()[:300]}"
            warnings.warn(
                f"The SavedModel export of {name!r} failed; the .keras file is written and "
                f"logged. Received: {message}",
                stacklevel=4,
            )
            return {"error": message}
        self.paths["saved_model"] = base
        return {"path": path}

    def _log_keras_model(self, name: str) -> None:
        import mlflow.keras
        import tensorflow as tf

        local = os.path.join(self.output_dir, "mlflow_model")
        shutil.rmtree(local, ignore_errors=True)
        mlflow.keras.save_model(
            self.model,
            local,
            signature=model_signature(self.model),
            pip_requirements=[f"keras=={keras.__version__}", f"tensorflow=={tf.__version__}"],
        )
        self._client.log_artifacts(self.run_id, local, "model")
        if not self.register:
            return
        from mlflow.exceptions import MlflowException

        with global_tracking_uri(self.tracking_uri):
            try:
                self._client.create_registered_model(name)
            except MlflowException as error:
                if error.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise
            source = self._client.get_run(self.run_id).info.artifact_uri.rstrip("/") + "/model"
            version = self._client.create_model_version(name, source=source, run_id=self.run_id)
        self.model_version = int(version.version)
        self.registered_model_name = name

    def _log_carbon(self, carbon: dict) -> None:
        from mlflow.entities import Metric, Param

        step = max(len(v) for v in self.history.values()) - 1 if self.history else 0
        metrics = [
            Metric(f"carbon.{k}", carbon[k], int(datetime.datetime.now().timestamp() * 1000), step)
            for k in ("energy_kwh", "emissions_kg_co2eq", "duration_s")
        ]
        params = [
            Param("carbon.country_iso_code", carbon["country_iso_code"]),
            Param("carbon.estimator", str(carbon["method"])),
        ]
        self._client.log_batch(self.run_id, metrics=metrics, params=params)

    def _tracking_section(self) -> dict:
        section = {"uri": self.tracking_uri, "enabled": self.enabled, "run_id": self.run_id}
        if self.enabled:
            section["experiment"] = self.experiment
        if self.model_version is not None:
            section["registered_model"] = {
                "name": self.registered_model_name,
                "version": self.model_version,
            }
        return section
