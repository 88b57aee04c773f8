"""TF Serving warm-up files: `assets.extra/tf_serving_warmup_requests`.

TF Serving replays these requests when it loads a version, before marking it AVAILABLE, so the
first real request does not pay for graph tracing and memory allocation. The file is a TFRecord of
`tensorflow_serving.apis.PredictionLog` protos, at most 1000 records.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

WARMUP_DIR = "assets.extra"
WARMUP_FILE = "tf_serving_warmup_requests"
MAX_WARMUP_RECORDS = 1000


def warmup_path(version_dir: str | os.PathLike) -> str:
    """The warm-up file's path inside a version directory."""
    return os.path.join(os.fspath(version_dir), WARMUP_DIR, WARMUP_FILE)


def predict_log(
    model_name: str, inputs: Mapping[str, Any], signature_name: str = "serving_default"
) -> prediction_log_pb2.PredictionLog:
    """A `PredictionLog` holding one `PredictRequest` with `inputs` (name -> array)."""
    request = predict_pb2.PredictRequest(
        model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature_name)
    )
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(np.asarray(value)))
    return prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request)
    )


def write_warmup(
    path: str | os.PathLike,
    model_name: str,
    requests: Sequence[Mapping[str, Any]],
    signature_name: str = "serving_default",
) -> str:
    """Writes `requests` (each a dict input name -> batched array) as a warm-up file at `path`."""
    if len(requests) > MAX_WARMUP_RECORDS:
        raise ValueError(
            f"TF Serving reads at most {MAX_WARMUP_RECORDS} warm-up requests. "
            f"Received: {len(requests)} requests"
        )
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for inputs in requests:
            writer.write(predict_log(model_name, inputs, signature_name).SerializeToString())
    return path


def read_warmup(path: str | os.PathLike) -> list[prediction_log_pb2.PredictionLog]:
    """Parses a warm-up file back into `PredictionLog` protos."""
    logs = []
    for record in tf.data.TFRecordDataset(os.fspath(path)):
        log = prediction_log_pb2.PredictionLog()
        log.ParseFromString(record.numpy())
        logs.append(log)
    return logs
