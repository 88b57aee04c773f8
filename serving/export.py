"""`export`: a Keras model as a SavedModel version in TF Serving's `BASE/NAME/VERSION/` layout."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from layers.validation import check_positive_int
from serving.signatures import PREDICT_METHOD, ModelCall, SignatureBuilder
from serving.warmup import warmup_path, write_warmup

DEFAULT_SIGNATURE = "serving_default"
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_model_name(name: str) -> str:
    """Returns `name` if it is usable as a model directory and URL path segment."""
    if not isinstance(name, str) or not _NAME_PATTERN.match(name):
        raise ValueError(
            "`name` must start with a letter or digit and contain only letters, digits, '_', "
            f"'.' and '-'. Received: name={name!r}"
        )
    return name


def list_versions(model_dir: str | os.PathLike) -> list[int]:
    """The complete versions under a model directory (numeric folders with a saved_model.pb)."""
    model_dir = os.fspath(model_dir)
    if not os.path.isdir(model_dir):
        return []
    versions = []
    for entry in os.listdir(model_dir):
        if entry.isdigit() and os.path.isfile(os.path.join(model_dir, entry, "saved_model.pb")):
            versions.append(int(entry))
    return sorted(versions)


def _model_inputs(model: keras.Model) -> dict[str, tf.TensorSpec]:
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError(
            "`model` must be built with known inputs (a functional model, or a Sequential that "
            "starts with `keras.Input`). Received: a model without defined inputs, "
            f"model={model.name!r}"
        )
    specs = {}
    for i, tensor in enumerate(inputs):
        name = tensor.name
        # Sequential and unnamed inputs get generated names; a stable name serves clients better.
        if not name or name.startswith("keras_tensor"):
            name = "inputs" if len(inputs) == 1 else f"input_{i}"
        specs[name] = tf.TensorSpec(tensor.shape, tf.as_dtype(tensor.dtype), name=name)
    return specs


def _output_names(model: keras.Model) -> list[str]:
    names = getattr(model, "output_names", None)
    if names:
        return list(names)
    if len(model.outputs) == 1:
        return [model.layers[-1].name if model.layers else "outputs"]
    return [f"output_{i}" for i in range(len(model.outputs))]


def _named_outputs(outputs: Any, names: list[str]) -> dict[str, tf.Tensor]:
    if isinstance(outputs, Mapping):
        return dict(outputs)
    if isinstance(outputs, (list, tuple)):
        return dict(zip(names, outputs, strict=True))
    return {names[0]: outputs}


def _preprocess_specs(preprocess) -> tuple[dict[str, tf.TensorSpec], bool]:
    signature = getattr(preprocess, "input_signature", None)
    if not signature:
        raise ValueError(
            "`preprocess` must be a tf.function with an `input_signature` of named TensorSpecs "
            f"(e.g. serving.image_bytes_preprocess(...)). Received: preprocess={preprocess!r}"
        )
    if len(signature) == 1 and isinstance(signature[0], Mapping):
        return {name: spec for name, spec in signature[0].items()}, True
    specs = {}
    for i, spec in enumerate(signature):
        if not isinstance(spec, tf.TensorSpec) or not spec.name:
            raise ValueError(
                "Every TensorSpec in `preprocess.input_signature` needs a `name` (it becomes the "
                f"serving input's name). Received: argument {i} = {spec!r}"
            )
        specs[spec.name] = spec
    return specs, False


def _forward(model: keras.Model, preprocess) -> ModelCall:
    model_specs = _model_inputs(model)
    model_names = list(model_specs)
    # Models built on a dict of inputs (the text models) take the preprocess dict as it is.
    takes_dict = isinstance(getattr(model, "_inputs_struct", None), Mapping)
    output_names = _output_names(model)
    if preprocess is None:
        input_specs = model_specs
    else:
        input_specs, dict_arg = _preprocess_specs(preprocess)

    def to_model_inputs(raw: dict[str, tf.Tensor]):
        if preprocess is None:
            values = raw
        elif dict_arg:
            values = preprocess(raw)
        else:
            values = preprocess(*[raw[name] for name in input_specs])
        if isinstance(values, Mapping) and not takes_dict:
            return [values[name] for name in model_names]
        return values

    def forward(raw: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        model_inputs = to_model_inputs(raw)
        if isinstance(model_inputs, list) and len(model_inputs) == 1:
            model_inputs = model_inputs[0]
        return _named_outputs(model(model_inputs, training=False), output_names)

    return ModelCall(input_specs=input_specs, forward=forward, model=model)


def _set_method_names(export_dir: str, method_names: dict[str, str]) -> None:
    # tf.saved_model.save marks every signature as a Predict signature; TF Serving's Classify and
    # Regress APIs refuse those, so the method names are set in the written graph.
    path = os.path.join(export_dir, "saved_model.pb")
    proto = saved_model_pb2.SavedModel()
    with open(path, "rb") as f:
        proto.ParseFromString(f.read())
    for meta_graph in proto.meta_graphs:
        for name, method in method_names.items():
            if name in meta_graph.signature_def:
                meta_graph.signature_def[name].method_name = method
    with open(path, "wb") as f:
        f.write(proto.SerializeToString())


def _warmup_requests(warmup, input_specs) -> list[dict[str, np.ndarray]]:
    if isinstance(warmup, (Mapping, np.ndarray, tf.Tensor)):
        raise ValueError(
            "`warmup` must be a list of requests (each an array, or a dict of input name -> "
            f"array, with a batch axis). Received: warmup of type {type(warmup).__name__}"
        )
    requests = []
    for i, request in enumerate(warmup):
        if not isinstance(request, Mapping):
            if len(input_specs) != 1:
                raise ValueError(
                    f"The model has several inputs ({', '.join(input_specs)}), so each warm-up "
                    f"request must be a dict. Received: warmup[{i}] of type "
                    f"{type(request).__name__}"
                )
            request = {next(iter(input_specs)): request}
        unknown = set(request) - set(input_specs)
        missing = set(input_specs) - set(request)
        if unknown or missing:
            raise ValueError(
                f"Warm-up request {i} must have exactly the inputs {sorted(input_specs)}. "
                f"Received: keys={sorted(request)}"
            )
        requests.append(
            {
                name: np.asarray(value, dtype=input_specs[name].dtype.as_numpy_dtype)
                for name, value in request.items()
            }
        )
    return requests


def export(
    model: keras.Model,
    base_dir: str | os.PathLike,
    name: str,
    version: int | None = None,
    signatures: Mapping[str, SignatureBuilder | Callable] | None = None,
    preprocess: Callable | None = None,
    warmup: Sequence[Any] | None = None,
) -> str:
    """Exports `model` as version `version` of model `name` under `base_dir`, for TF Serving.

    Writes `base_dir/name/version/` with `saved_model.pb`, `variables/` and, when `warmup` is
    given, `assets.extra/tf_serving_warmup_requests`. The `serving_default` signature takes the
    model's inputs by name (or the raw inputs of `preprocess`) and returns a dict of the model's
    named outputs. The version is written under a hidden temporary name and renamed into place,
    so a server watching `base_dir` never sees half a model. Built on Keras's `ExportArchive`.

    Args:
        model: a built `keras.Model` (functional, a functional subclass, or a Sequential that
            starts with `keras.Input`).
        base_dir: the directory TF Serving watches (`--model_base_path` is `base_dir/name`).
        name: the model name, used as directory and in request URLs.
        version: a positive integer version. Defaults to one more than the latest existing
            version (`1` for a new model).
        signatures: extra signatures by name: `classify_signature(...)`,
            `regress_signature(...)`, or any `tf.function` with an `input_signature` that calls
            `model`. Defaults to none.
        preprocess: a `tf.function` with named `input_signature` applied in-graph before the
            model (e.g. `image_bytes_preprocess(...)`), so clients send raw data. It also feeds
            the classify/regress signatures. Defaults to `None` (clients send model inputs).
        warmup: warm-up requests, each an array (single-input signatures) or a dict of input name
            -> array, batch axis first, for `serving_default`. They are run once at export time
            to check them. Defaults to `None` (no warm-up file).

    Returns:
        The path of the new version directory.

    Example:

    ```python
    model = zoo.create("cnn_digits")
    path = serving.export(model, "models", "digits", warmup=[np.zeros((1, 8, 8, 1))],
                          signatures={"classify": serving.classify_signature(k=3)})
    # models/digits/1/saved_model.pb
    ```
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model. Received: model={model!r}")
    check_model_name(name)
    check_positive_int("version", version, allow_none=True, allow_numpy=True)
    signatures = dict(signatures or {})
    if DEFAULT_SIGNATURE in signatures:
        raise ValueError(
            f"`signatures` must not redefine {DEFAULT_SIGNATURE!r}; export builds it from the "
            f"model. Received: signatures keys={sorted(signatures)}"
        )

    model_dir = os.path.join(os.fspath(base_dir), name)
    if version is None:
        version = (list_versions(model_dir) or [0])[-1] + 1
    final_dir = os.path.join(model_dir, str(int(version)))
    if os.path.exists(final_dir):
        raise FileExistsError(
            f"Version {version} of model {name!r} already exists at {final_dir}. "
            f"Received: version={version!r}"
        )

    call = _forward(model, preprocess)

    @tf.function(input_signature=[call.input_specs])
    def serving_default(inputs):
        return call.forward(inputs)

    requests = _warmup_requests(warmup, call.input_specs) if warmup is not None else []
    for request in requests:
        serving_default(request)

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(DEFAULT_SIGNATURE, serving_default)
    method_names = {DEFAULT_SIGNATURE: PREDICT_METHOD}
    for sig_name, signature in signatures.items():
        check_model_name(sig_name)
        if isinstance(signature, SignatureBuilder):
            method_names[sig_name] = signature.method_name
            signature = signature.build(call)
        archive.add_endpoint(sig_name, signature)

    os.makedirs(model_dir, exist_ok=True)
    # A dot-prefixed, non-numeric name: TF Serving and the local server ignore it while writing.
    tmp_dir = os.path.join(model_dir, f".tmp-{version}-{uuid.uuid4().hex[:8]}")
    try:
        archive.write_out(tmp_dir, verbose=False)
        _set_method_names(tmp_dir, method_names)
        if requests:
            write_warmup(warmup_path(tmp_dir), name, requests)
        os.rename(tmp_dir, final_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return final_dir
