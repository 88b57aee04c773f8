"""`GrpcClient`: TF Serving's gRPC PredictionService and ModelService from Python."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from layers.validation import check_positive_int
from serving.errors import HTTP_STATUS, ServingError
from serving.json_codec import example_from_json
from serving.tensor_proto import from_tensor_proto, to_tensor_proto


def _examples_input(examples, context, request) -> None:
    if isinstance(examples, Mapping) or not examples:
        raise ValueError(
            "`examples` must be a non-empty list of dicts (feature name -> value) or "
            f"tf.train.Example protos. Received: examples={examples!r:.80}"
        )

    def as_example(value):
        if isinstance(value, tf.train.Example):
            return value
        if not isinstance(value, Mapping):
            raise ValueError(
                f"Each example must be a dict or tf.train.Example. Received: {value!r:.80}"
            )
        plain = {
            k: (np.ravel(v).tolist() if isinstance(v, np.ndarray) else v) for k, v in value.items()
        }
        try:
            return example_from_json(plain)
        except ServingError as e:
            raise ValueError(e.message) from None

    if context is None:
        request.input.example_list.examples.extend(as_example(e) for e in examples)
    else:
        with_context = request.input.example_list_with_context
        with_context.context.CopyFrom(as_example(context))
        with_context.examples.extend(as_example(e) for e in examples)


class GrpcClient:
    """A client for TF Serving's gRPC API (PredictionService and ModelService).

    Server errors raise `ServingError` with the gRPC status details as message, the status code
    name as `code`, and the HTTP status TF Serving's REST API would have used.

    Args:
        target: `"host:port"` of the gRPC server.
        model: the model name.
        version: a version number to address. Defaults to `None` (the latest).
        timeout: seconds to wait for each call. Defaults to `30.0`.
        max_message_bytes: the largest message sent or received. Defaults to 64 MiB.

    Example:

    ```python
    with serving.GrpcClient("localhost:8500", "digits") as client:
        outputs = client.predict({"images": batch})   # {"logits": array}
    ```
    """

    def __init__(
        self,
        target: str,
        model: str,
        version: int | None = None,
        timeout: float = 30.0,
        max_message_bytes: int = 64 * 1024 * 1024,
    ):
        if not isinstance(target, str) or ":" not in target:
            raise ValueError(f"`target` must look like 'host:port'. Received: target={target!r}")
        if not isinstance(model, str) or not model:
            raise ValueError(f"`model` must be a non-empty string. Received: model={model!r}")
        check_positive_int("version", version, allow_none=True)
        self.target = target
        self.model = model
        self.version = version
        self.timeout = timeout
        self._channel = grpc.insecure_channel(
            target,
            options=[
                ("grpc.max_send_message_length", max_message_bytes),
                ("grpc.max_receive_message_length", max_message_bytes),
            ],
        )
        self._predict = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._models = model_service_pb2_grpc.ModelServiceStub(self._channel)
        self._input_names: dict[str, list[str]] = {}

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> GrpcClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _fill_spec(self, request, signature_name: str | None = None) -> None:
        request.model_spec.name = self.model
        if self.version is not None:
            request.model_spec.version.value = self.version
        if signature_name:
            request.model_spec.signature_name = signature_name

    def _call(self, method, request):
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as e:
            code = e.code().name if e.code() is not None else "UNKNOWN"
            if code not in HTTP_STATUS:
                code = "UNKNOWN"
            raise ServingError(e.details() or str(e), code) from None

    def predict(
        self,
        inputs: Any,
        *,
        signature_name: str | None = None,
        output_filter: Iterable[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """Runs a predict signature; `inputs` is an array or a dict of input name -> array.

        A bare array is sent under the signature's only input name, found in the metadata.
        Returns a dict of output name -> NumPy array.
        """
        request = predict_pb2.PredictRequest()
        self._fill_spec(request, signature_name)
        if not isinstance(inputs, Mapping):
            names = list(self.signature_inputs(signature_name))
            if len(names) != 1:
                raise ValueError(
                    f"The signature has several inputs {names}; pass a dict of name -> array."
                )
            inputs = {names[0]: inputs}
        for name, value in inputs.items():
            request.inputs[name].CopyFrom(to_tensor_proto(value))
        request.output_filter.extend(output_filter or [])
        response = self._call(self._predict.Predict, request)
        return {name: from_tensor_proto(proto) for name, proto in response.outputs.items()}

    def classify(
        self,
        examples: Sequence[Mapping[str, Any] | tf.train.Example],
        *,
        context: Mapping[str, Any] | None = None,
        signature_name: str | None = None,
    ) -> list[list[tuple[str, float]]]:
        """Runs a classification signature; one list of `(label, score)` pairs per example."""
        request = classification_pb2.ClassificationRequest()
        self._fill_spec(request, signature_name)
        _examples_input(examples, context, request)
        response = self._call(self._predict.Classify, request)
        return [
            [(c.label, float(c.score)) for c in row.classes]
            for row in response.result.classifications
        ]

    def regress(
        self,
        examples: Sequence[Mapping[str, Any] | tf.train.Example],
        *,
        context: Mapping[str, Any] | None = None,
        signature_name: str | None = None,
    ) -> list[float]:
        """Runs a regression signature; one float per example."""
        request = regression_pb2.RegressionRequest()
        self._fill_spec(request, signature_name)
        _examples_input(examples, context, request)
        response = self._call(self._predict.Regress, request)
        return [float(r.value) for r in response.result.regressions]

    def metadata(self) -> dict[str, Any]:
        """The signature defs, as `{"model_spec": ..., "signature_def": {name: {...}}}`."""
        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self._fill_spec(request)
        response = self._call(self._predict.GetModelMetadata, request)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signature_map)
        return {
            "model_spec": {
                "name": response.model_spec.name,
                "version": str(response.model_spec.version.value),
            },
            "signature_def": json_format.MessageToDict(
                signature_map, preserving_proto_field_name=True
            )["signature_def"],
        }

    def signature_inputs(self, signature_name: str | None = None) -> list[str]:
        """Input names of a signature (`serving_default` when None), from the metadata."""
        key = signature_name or "serving_default"
        if key not in self._input_names:
            signatures = self.metadata()["signature_def"]
            if key not in signatures:
                raise ValueError(
                    f"`signature_name` must be one of {sorted(signatures)}. Received: {key!r}"
                )
            self._input_names[key] = list(signatures[key]["inputs"])
        return self._input_names[key]

    def status(self) -> list[dict[str, Any]]:
        """Version, state and status of each version, as in the REST status JSON."""
        request = get_model_status_pb2.GetModelStatusRequest()
        self._fill_spec(request)
        response = self._call(self._models.GetModelStatus, request)
        return json_format.MessageToDict(
            response, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        )["model_version_status"]
