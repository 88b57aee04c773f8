"""Turning a run's configuration, datasets and model into what MLflow's client takes."""

from __future__ import annotations

import json
import time

import keras
import numpy as np

# MLflow's limits (mlflow.utils.validation): parameter values, dataset digests.
MAX_PARAM_VALUE = 6000
MAX_DIGEST = 36


def flatten_params(params: dict, prefix: str = "") -> dict[str, str]:
    """Nested `params` as MLflow parameters: `{"overrides.dropout": "0.1", ...}`.

    Values are written with `str` (lists, `None`) and cut at MLflow's 6000 characters with a
    trailing `"..."`.
    """
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten_params(value, prefix=f"{name}."))
            continue
        text = str(value)
        if len(text) > MAX_PARAM_VALUE:
            text = text[: MAX_PARAM_VALUE - 3] + "..."
        flat[name] = text
    return flat


def model_params(model: keras.Model) -> dict[str, str]:
    """The model's class, size and optimizer as MLflow parameters."""
    params = {"model.class": type(model).__name__, "model.name": model.name}
    if model.built:
        params["model.parameters"] = str(model.count_params())
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        params["optimizer.class"] = type(optimizer).__name__
        rate = optimizer.learning_rate
        if not callable(rate):  # a schedule's peak is in the run's own parameters
            params["optimizer.learning_rate"] = str(float(keras.ops.convert_to_numpy(rate)))
    return params


def epoch_metrics(logs: dict, epoch: int) -> list:
    """`logs` of `on_epoch_end` as MLflow `Metric`s at step `epoch` (non-numbers skipped)."""
    from mlflow.entities import Metric

    timestamp = int(time.time() * 1000)
    metrics = []
    for name, value in (logs or {}).items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        metrics.append(Metric(name, number, timestamp, epoch))
    return metrics


def model_signature(model: keras.Model):
    """An MLflow `ModelSignature` of a model with one array input (else `None`)."""
    from mlflow.models import ModelSignature
    from mlflow.types import Schema, TensorSpec

    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1:
        return None
    shape = tuple(-1 if d is None else int(d) for d in inputs[0].shape)
    return ModelSignature(inputs=Schema([TensorSpec(np.dtype(inputs[0].dtype), shape)]))


def dataset_input(name: str, source: str, fingerprint: dict):
    """A `DatasetInput` for `client.log_inputs`: the fingerprint's hash as its digest."""
    from mlflow.entities import Dataset, DatasetInput, InputTag

    features = {}
    for schema in fingerprint["schemas"]:
        features.update(schema["features"] or {})
    dataset = Dataset(
        name=name,
        digest=fingerprint["sha256"][:MAX_DIGEST],
        source_type="local",
        source=json.dumps({"uri": str(source)}),
        schema=json.dumps({"tfrecord_features": features}),
        profile=json.dumps(
            {k: fingerprint[k] for k in ("num_records", "num_shards", "num_bytes", "sha256")}
        ),
    )
    return DatasetInput(dataset, tags=[InputTag("mlflow.data.context", name)])
