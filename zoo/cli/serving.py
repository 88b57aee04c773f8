"""`zoo export MODEL BASE_DIR` and `zoo serve BASE_DIR`: the `serving` package's commands."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from layers.validation import check_int_in_range
from serving.server.app import (
    DEFAULT_GRACE_PERIOD,
    DEFAULT_MAX_PENDING_REQUESTS,
    DEFAULT_MAX_REQUEST_BYTES,
    MAX_PORT,
)
from zoo.cli.arguments import checked, positive_float, positive_int


def port(name: str) -> Callable[[str], int]:
    """A port number, 0 (any free port) to 65535."""
    return checked(check_int_in_range, name, low=0, high=MAX_PORT)


def _load_model(model: str, tiny: bool):
    """A registered model (small with `tiny`) or a `.keras` file, and the name to export it as."""
    import keras

    import zoo

    if model.endswith(".keras") or os.path.sep in model:
        if not os.path.isfile(model):
            raise FileNotFoundError(
                f"MODEL must be a registered name or a .keras file. Received: {model}"
            )
        if tiny:
            raise ValueError("--tiny applies to registered models only, not to .keras files.")
        return keras.saving.load_model(model), os.path.splitext(os.path.basename(model))[0]
    overrides = zoo.get_spec(model).tiny if tiny else {}
    return zoo.create(model, **overrides), model


def _write_tflite(model, args: argparse.Namespace, name: str) -> str:
    """Writes `BASE_DIR/NAME.tflite` and returns its path."""
    import numpy as np

    from serving.tflite import to_tflite

    data = None
    if args.representative_data:
        if not os.path.isfile(args.representative_data):
            raise FileNotFoundError(f"No .npy file at {args.representative_data!r}")
        data = np.load(args.representative_data)
    flatbuffer = to_tflite(model, None if args.tflite == "float" else args.tflite, data)
    os.makedirs(args.base_dir, exist_ok=True)
    path = os.path.join(args.base_dir, f"{name}.tflite")
    with open(path, "wb") as f:
        f.write(flatbuffer)
    return path


def run_export(args: argparse.Namespace) -> int:
    """Exports a SavedModel version (or a `.tflite` file) and prints its path."""
    from serving import classify_signature, export

    model, default_name = _load_model(args.model, args.tiny)
    name = args.name or default_name
    if args.tflite is not None:
        print(_write_tflite(model, args, name))
        return 0
    signatures = {}
    if args.classify_top_k is not None:
        signatures["classify"] = classify_signature(k=args.classify_top_k)
    print(export(model, args.base_dir, name, version=args.version, signatures=signatures))
    return 0


def run_serve(args: argparse.Namespace) -> int:
    """Runs `serving.server.serve` until interrupted."""
    from serving.server import serve  # TensorFlow's models load only when the command runs

    return serve(
        args.base_dir,
        port=args.port,
        grpc_port=args.grpc_port,
        host=args.host,
        poll_interval=args.poll_interval,
        max_request_bytes=args.max_request_bytes,
        version_policy=args.version_policy,
        enable_batching=args.enable_batching,
        batching_parameters_file=args.batching_parameters_file,
        max_pending_requests=args.max_pending_requests,
        grace_period=args.grace_period,
    )


def _add_export(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "export",
        help="export a registered or saved .keras model for TF Serving (BASE_DIR/NAME/VERSION)",
    )
    parser.add_argument("model", metavar="MODEL", help="registered model name or a .keras file")
    parser.add_argument("base_dir", metavar="BASE_DIR", help="TF Serving base directory")
    parser.add_argument("--name", default=None, help="model name (default: MODEL's name)")
    parser.add_argument(
        "--version", type=positive_int("version"), default=None, help="version (default: next)"
    )
    parser.add_argument(
        "--classify-top-k",
        type=positive_int("classify_top_k"),
        default=None,
        metavar="K",
        help="also add a 'classify' signature returning the top K classes",
    )
    parser.add_argument(
        "--tiny", action="store_true", help="build the registered model's small test size"
    )
    parser.add_argument(
        "--tflite",
        choices=["float", "dynamic", "float16", "int8"],
        default=None,
        help="write BASE_DIR/NAME.tflite instead of a SavedModel (int8 on a QAT model is fully "
        "integer)",
    )
    parser.add_argument(
        "--representative-data",
        default=None,
        metavar="NPY",
        help="a .npy of input examples; needed for --tflite int8 on a float model",
    )
    parser.set_defaults(handler=run_export)


def _add_serve(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "serve",
        help="serve BASE_DIR with a local TF-Serving-compatible REST/gRPC server",
        description=(
            "A development server speaking TF Serving's REST API (and gRPC with --grpc-port) "
            "for every model under BASE_DIR. Production runs tensorflow_model_server on the "
            "same directory."
        ),
    )
    parser.add_argument("base_dir", metavar="BASE_DIR", help="directory of models (NAME/VERSION/)")
    parser.add_argument(
        "--port", type=port("port"), default=8501, help="REST port (0: any free port)"
    )
    parser.add_argument(
        "--grpc-port", type=port("grpc_port"), default=None, help="gRPC port; off by default"
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: local)")
    parser.add_argument(
        "--poll-interval",
        type=positive_float("poll_interval"),
        default=1.0,
        help="seconds between scans of BASE_DIR",
    )
    parser.add_argument(
        "--max-request-bytes",
        type=positive_int("max_request_bytes"),
        default=DEFAULT_MAX_REQUEST_BYTES,
        help="largest request body accepted (REST and gRPC)",
    )
    parser.add_argument(
        "--version-policy",
        choices=("latest", "all"),
        default="latest",
        help="serve only the newest version of each model (default) or every version",
    )
    parser.add_argument(
        "--enable-batching",
        action="store_true",
        help="merge concurrent requests to a signature into batches, as tensorflow_model_server "
        "--enable_batching (REST and gRPC alike)",
    )
    parser.add_argument(
        "--batching-parameters-file",
        default=None,
        metavar="FILE",
        help="TF Serving's batching parameters (text BatchingParameters, e.g. the "
        "batching.config `serving.write_model_config` writes); needs --enable-batching",
    )
    parser.add_argument(
        "--max-pending-requests",
        type=positive_int("max_pending_requests"),
        default=DEFAULT_MAX_PENDING_REQUESTS,
        help="requests handled at once per front end; more get 503 (gRPC: RESOURCE_EXHAUSTED)",
    )
    parser.add_argument(
        "--grace-period",
        type=positive_float("grace_period"),
        default=DEFAULT_GRACE_PERIOD,
        metavar="SECONDS",
        help="on SIGTERM, how long requests in flight get to finish",
    )
    parser.set_defaults(handler=run_serve)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Adds `export MODEL BASE_DIR [options]` and `serve BASE_DIR [options]`."""
    _add_export(commands)
    _add_serve(commands)
