"""TF Serving's gRPC PredictionService and ModelService, on `tensorflow_serving.apis` servicers.

The servicers run on grpc's threaded server (each call in a worker thread; grpc's asyncio server
costs about twice the CPU per call here) and share the REST server's `SignatureRunner`: with
batching on, gRPC and REST requests join the same batches.
"""

from __future__ import annotations

import functools
from concurrent import futures

import grpc
import tensorflow as tf
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from serving.errors import ServingError, invalid_argument
from serving.export import DEFAULT_SIGNATURE
from serving.server import methods
from serving.server.models import ModelManager
from serving.server.rest import signature_def_map
from serving.server.runner import SignatureRunner
from serving.tensor_proto import from_tensor_proto, to_tensor_proto


def _aborts_on_error(method):
    @functools.wraps(method)
    def wrapper(self, request, context):
        try:
            return method(self, request, context)
        except ServingError as e:
            code, message = getattr(grpc.StatusCode, e.code, grpc.StatusCode.UNKNOWN), e.message
        except Exception as e:  # a server bug must not take the server down
            code, message = grpc.StatusCode.INTERNAL, f"Internal error: {type(e).__name__}: {e}"
        context.abort(code, message)

    return wrapper


def _spec(request) -> tuple[str, int | None, str]:
    spec = request.model_spec
    if not spec.name:
        raise invalid_argument("Missing ModelSpec name")
    version = spec.version.value if spec.HasField("version") else None
    if spec.HasField("version_label"):
        raise ServingError("Version labels are not supported by the local server.", "UNIMPLEMENTED")
    return spec.name, version, spec.signature_name or DEFAULT_SIGNATURE


def _serialized_examples(request_input) -> list[bytes]:
    kind = request_input.WhichOneof("kind")
    if kind == "example_list":
        examples = list(request_input.example_list.examples)
    elif kind == "example_list_with_context":
        context = request_input.example_list_with_context.context
        examples = []
        for example in request_input.example_list_with_context.examples:
            merged = tf.train.Example()
            merged.CopyFrom(context)
            merged.MergeFrom(example)
            examples.append(merged)
    else:
        raise invalid_argument("Input is empty")
    if not examples:
        raise invalid_argument("Input is empty")
    return [example.SerializeToString() for example in examples]


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Predict, Classify, Regress and GetModelMetadata against a `ModelManager`."""

    def __init__(self, manager: ModelManager, runner: SignatureRunner):
        self.manager = manager
        self.runner = runner

    @_aborts_on_error
    def Predict(self, request, context):  # noqa: N802 - the proto's method names
        name, version, signature_name = _spec(request)
        servable = self.manager.get(name, version)
        signature = servable.signature(signature_name)
        for key, proto in request.inputs.items():
            spec = signature.inputs.get(key)
            # Like TF Serving, a TensorProto's dtype must match: no silent casts over gRPC.
            if spec is not None and proto.dtype != spec.dtype.as_datatype_enum:
                raise invalid_argument(
                    f"Expects arg[{key!r}] to be {spec.dtype.name} but "
                    f"{tf.as_dtype(proto.dtype).name} is provided"
                )
        inputs = {key: from_tensor_proto(proto) for key, proto in request.inputs.items()}
        outputs = self.runner.run_sync(signature, inputs, request.output_filter)
        response = predict_pb2.PredictResponse()
        response.model_spec.name = name
        response.model_spec.version.value = servable.version
        response.model_spec.signature_name = signature_name
        for key, value in outputs.items():
            response.outputs[key].CopyFrom(to_tensor_proto(value))
        return response

    @_aborts_on_error
    def Classify(self, request, context):  # noqa: N802
        name, version, signature_name = _spec(request)
        servable = self.manager.get(name, version)
        examples = _serialized_examples(request.input)
        call = methods.classify_call(servable, signature_name, examples)
        classes, scores = methods.classify_result(self.runner.run_sync(*call), len(examples))
        response = classification_pb2.ClassificationResponse()
        response.model_spec.name = name
        response.model_spec.version.value = servable.version
        response.model_spec.signature_name = signature_name
        k = (classes if classes is not None else scores).shape[1]
        for i in range(len(examples)):
            row = response.result.classifications.add()
            for j in range(k):
                entry = row.classes.add()
                if classes is not None:
                    entry.label = classes[i, j].decode("utf-8", "replace")
                if scores is not None:
                    entry.score = float(scores[i, j])
        return response

    @_aborts_on_error
    def Regress(self, request, context):  # noqa: N802
        name, version, signature_name = _spec(request)
        servable = self.manager.get(name, version)
        examples = _serialized_examples(request.input)
        call = methods.regress_call(servable, signature_name, examples)
        values = methods.regress_result(self.runner.run_sync(*call), len(examples))
        response = regression_pb2.RegressionResponse()
        response.model_spec.name = name
        response.model_spec.version.value = servable.version
        response.model_spec.signature_name = signature_name
        for value in values:
            response.result.regressions.add(value=float(value))
        return response

    @_aborts_on_error
    def GetModelMetadata(self, request, context):  # noqa: N802
        name, version, _ = _spec(request)
        fields = list(request.metadata_field)
        if fields != ["signature_def"]:
            raise invalid_argument(
                f"Metadata field(s) {fields} not supported; request ['signature_def']."
            )
        servable = self.manager.get(name, version)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = name
        response.model_spec.version.value = servable.version
        response.metadata["signature_def"].Pack(signature_def_map(servable))
        return response


class ModelServicer(model_service_pb2_grpc.ModelServiceServicer):
    """GetModelStatus against a `ModelManager` (config reloads are not supported)."""

    def __init__(self, manager: ModelManager):
        self.manager = manager

    @_aborts_on_error
    def GetModelStatus(self, request, context):  # noqa: N802
        name, version, _ = _spec(request)
        response = get_model_status_pb2.GetModelStatusResponse()
        for v, state, code, message in self.manager.status(name, version):
            entry = response.model_version_status.add()
            entry.version = v
            entry.state = get_model_status_pb2.ModelVersionStatus.State.Value(state)
            entry.status.error_code = getattr(tf.errors, code, tf.errors.UNKNOWN)
            entry.status.error_message = message
        return response

    @_aborts_on_error
    def HandleReloadConfigRequest(self, request, context):  # noqa: N802
        raise ServingError(
            "The local server follows its base directory; it has no model config to reload.",
            "UNIMPLEMENTED",
        )


def make_grpc_server(
    manager: ModelManager,
    runner: SignatureRunner,
    host: str,
    port: int,
    max_request_bytes: int,
    max_pending_requests: int,
    workers: int = 8,
) -> tuple[grpc.Server, int]:
    """A gRPC server (not yet started) and the port it bound (0 picks one).

    Args:
        manager: the loaded models.
        runner: runs signatures (shared with REST).
        host: interface to bind.
        port: port, 0 for a free one.
        max_request_bytes: largest request message accepted.
        max_pending_requests: calls accepted at once (running or waiting for a worker); more
            get RESOURCE_EXHAUSTED.
        workers: threads running calls; with batching, the most gRPC requests in one batch.
            Defaults to `8`.
    """
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grpc"),
        options=[
            ("grpc.max_receive_message_length", max_request_bytes),
            ("grpc.max_send_message_length", -1),
        ],
        maximum_concurrent_rpcs=max_pending_requests,
    )
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionServicer(manager, runner), server
    )
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelServicer(manager), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"Could not bind the gRPC port {host}:{port}")
    return server, bound
