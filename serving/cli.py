"""The `serve` command: `zoo serve BASE_DIR` (and `python -m serving BASE_DIR`)."""

from __future__ import annotations

import argparse
import os
import sys

from serving.server.app import DEFAULT_MAX_REQUEST_BYTES


def _run_serve(args: argparse.Namespace) -> int:
    if not os.path.isdir(args.base_dir):
        raise FileNotFoundError(
            f"BASE_DIR must be an existing directory of models. Received: {args.base_dir}"
        )
    if args.poll_interval <= 0:
        raise ValueError(f"--poll-interval must be positive. Received: {args.poll_interval}")
    if args.max_request_bytes < 1:
        raise ValueError(
            f"--max-request-bytes must be positive. Received: {args.max_request_bytes}"
        )
    from serving.server.app import serve  # TensorFlow loads only when the command runs

    return serve(
        args.base_dir,
        port=args.port,
        grpc_port=args.grpc_port,
        host=args.host,
        poll_interval=args.poll_interval,
        max_request_bytes=args.max_request_bytes,
        version_policy=args.version_policy,
    )


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base_dir", metavar="BASE_DIR", help="directory of models (NAME/VERSION/)")
    parser.add_argument("--port", type=int, default=8501, help="REST port (0: any free port)")
    parser.add_argument("--grpc-port", type=int, default=None, help="gRPC port; off by default")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: local)")
    parser.add_argument(
        "--poll-interval", type=float, default=1.0, help="seconds between scans of BASE_DIR"
    )
    parser.add_argument(
        "--max-request-bytes",
        type=int,
        default=DEFAULT_MAX_REQUEST_BYTES,
        help="largest request body accepted (REST and gRPC)",
    )
    parser.add_argument(
        "--version-policy",
        choices=("latest", "all"),
        default="latest",
        help="serve only the newest version of each model (default) or every version",
    )


def add_serve_command(subparsers) -> argparse.ArgumentParser:
    """Adds `serve BASE_DIR --port 8501 [--grpc-port 8500] ...` to an argparse sub-parser set."""
    parser = subparsers.add_parser(
        "serve",
        help="serve BASE_DIR with a local TF-Serving-compatible REST/gRPC server",
        description=(
            "A development server speaking TF Serving's REST API (and gRPC with --grpc-port) "
            "for every model under BASE_DIR. Production runs tensorflow_model_server on the "
            "same directory."
        ),
    )
    _add_arguments(parser)
    parser.set_defaults(handler=_run_serve)
    return parser


def _load_model(model: str, tiny: bool):
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


def _run_export(args: argparse.Namespace) -> int:
    from serving.export import export
    from serving.signatures import classify_signature

    model, default_name = _load_model(args.model, args.tiny)
    if args.tflite is not None:
        return _write_tflite(model, args, default_name)
    signatures = {}
    if args.classify_top_k is not None:
        signatures["classify"] = classify_signature(k=args.classify_top_k)
    path = export(
        model, args.base_dir, args.name or default_name, version=args.version, signatures=signatures
    )
    print(path)
    return 0


def _write_tflite(model, args: argparse.Namespace, default_name: str) -> int:
    import numpy as np

    from serving.tflite import to_tflite

    data = None
    if args.representative_data:
        if not os.path.isfile(args.representative_data):
            raise FileNotFoundError(f"No .npy file at {args.representative_data!r}")
        data = np.load(args.representative_data)
    flatbuffer = to_tflite(model, None if args.tflite == "float" else args.tflite, data)
    os.makedirs(args.base_dir, exist_ok=True)
    path = os.path.join(args.base_dir, f"{args.name or default_name}.tflite")
    with open(path, "wb") as f:
        f.write(flatbuffer)
    print(path)
    return 0


def add_export_command(subparsers) -> argparse.ArgumentParser:
    """Adds `export MODEL BASE_DIR [--name N] [--version V] [--classify-top-k K] [--tiny]
    [--tflite MODE [--representative-data NPY]]`."""
    parser = subparsers.add_parser(
        "export",
        help="export a registered or saved .keras model for TF Serving (BASE_DIR/NAME/VERSION)",
    )
    parser.add_argument("model", metavar="MODEL", help="registered model name or a .keras file")
    parser.add_argument("base_dir", metavar="BASE_DIR", help="TF Serving base directory")
    parser.add_argument("--name", default=None, help="model name (default: MODEL's name)")
    parser.add_argument("--version", type=int, default=None, help="version (default: next)")
    parser.add_argument(
        "--classify-top-k",
        type=int,
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
    parser.set_defaults(handler=_run_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    """`python -m serving BASE_DIR [options]`."""
    parser = argparse.ArgumentParser(prog="python -m serving")
    _add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return _run_serve(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
