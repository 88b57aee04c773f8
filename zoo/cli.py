"""The `zoo` command line: `zoo list | demo | train | tune | export | serve | data`.

User mistakes (an unknown model, a missing file, a bad value) print one `zoo: error: ...` line
and exit with status 2; anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from serving.cli import add_export_command, add_serve_command
from tfrecords.cli import add_data_command
from zoo import registry

USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError, NotADirectoryError)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _cmd_list(args: argparse.Namespace) -> int:
    names = registry.list_models(args.pattern)
    if not names:
        print(f"no registered model matches {args.pattern!r}", file=sys.stderr)
        return 1
    width = max(len(name) for name in names)
    for name in names:
        print(f"{name:<{width}}  {registry.get_spec(name).description}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from zoo.demo import run_demo

    run_demo(
        artifacts_dir=args.artifacts,
        model_name=args.model,
        epochs=args.epochs,
        seed=args.seed,
        verbose=args.verbose,
    )
    return 0


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _float_pair(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH numbers, got {text!r}") from None
    if len(values) != 2:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH numbers, got {text!r}")
    return values


def _parse_override(text: str) -> tuple[str, object]:
    import yaml

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), yaml.safe_load(value)


def _cmd_train(args: argparse.Namespace) -> int:
    from zoo.train import TrainConfig, load_config_file, train

    options = load_config_file(args.config) if args.config else {}
    given = {k: v for k, v in vars(args).items() if k not in ("command", "handler", "config")}
    overrides = dict(options.pop("overrides", None) or {})
    overrides.update(dict(given.pop("override", [])))
    options.update(given)
    options["overrides"] = overrides
    if "model" not in options:
        raise ValueError("No model given: pass MODEL or set `model:` in --config.")
    result = train(TrainConfig.from_dict(options))
    print(json.dumps(result, indent=2))
    return 0


def _cmd_tune(args: argparse.Namespace) -> int:
    from zoo.tune import tune

    options = {k: v for k, v in vars(args).items() if k not in ("command", "handler", "fix")}
    result = tune(**options, **dict(args.fix or []))
    if result is not None:
        print(json.dumps(result, indent=2, default=str))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zoo",
        description="keras-zoo: prebuilt Keras 3 models, training recipes and TF Serving tools.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser("list", help="list the registered models")
    p.add_argument("pattern", nargs="?", help="shell-style filter, e.g. 'cnn_*'")
    p.set_defaults(handler=_cmd_list)

    p = commands.add_parser(
        "demo",
        help="run the end-to-end job on built-in data",
        description="Digits into TFRecords, train, evaluate, export a SavedModel, serve it on "
        "localhost and query it; artifacts (data, model, training-curve PNG, summary.json) go "
        "under --artifacts. Nothing is downloaded.",
    )
    p.add_argument(
        "--artifacts", default="artifacts", help="output directory (default: %(default)s)"
    )
    p.add_argument("--model", default="cnn_digits", help="registered model (default: %(default)s)")
    p.add_argument("--epochs", type=_positive_int, default=20, help="(default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=2, help="fit progress output")
    p.set_defaults(handler=_cmd_demo)

    p = commands.add_parser(
        "train",
        help="train a registered model and save it",
        description="Train a registered model with model.fit, on the built-in digits or on "
        "TFRecords written by `tfrecords.write`; writes MODEL.keras, history.json, "
        "training_curve.png and run.json (versions, hardware, config, seed, git commit) to "
        "--output. Every option can also come from --config FILE (YAML, same names); flags win.",
        argument_default=argparse.SUPPRESS,
    )
    p.add_argument("model", nargs="?", help="registered model name (see `zoo list`)")
    p.add_argument("--config", default=None, help="YAML file holding any of these options")
    p.add_argument("--data", help="TFRecord files: glob, directory (default: built-in digits)")
    p.add_argument("--validation-data", help="TFRecord files for validation")
    p.add_argument("--label", help="label feature name in the records (default: label)")
    p.add_argument("--features", help="input feature name (default: the only non-label one)")
    p.add_argument("--output", help="output directory (default: artifacts/train)")
    p.add_argument("--epochs", type=_positive_int, help="(default: 10)")
    p.add_argument("--batch-size", type=_positive_int, help="global batch size (default: 32)")
    p.add_argument(
        "--learning-rate", type=float, help="(default: the model's); the peak with --schedule"
    )
    p.add_argument(
        "--schedule",
        choices=("constant", "cosine", "one_cycle"),
        help="learning-rate schedule: cosine = linear warmup then cosine decay to 0; one_cycle = "
        "OneCycle (default: constant)",
    )
    p.add_argument(
        "--warmup-epochs",
        type=_non_negative_float,
        help="warmup length in epochs, fractions allowed (default: none; one_cycle: 30%%)",
    )
    p.add_argument(
        "--augment",
        metavar="NAMES",
        help="comma-separated training augmentations from randaugment,mixup,cutmix (keras "
        "layers; default: none). With mixup/cutmix the training accuracy is against each mixed "
        "label's largest-weight class",
    )
    p.add_argument(
        "--value-range",
        type=_float_pair,
        metavar="LOW,HIGH",
        help="pixel range of the inputs, for randaugment (default: 0,1 as the built-in digits)",
    )
    p.add_argument("--seed", type=int, help="(default: 0)")
    p.add_argument(
        "--strategy",
        choices=("default", "mirrored", "multiworker"),
        help="tf.distribute strategy; multiworker reads the cluster from TF_CONFIG",
    )
    p.add_argument(
        "--cpu-devices", type=_positive_int, help="logical CPU devices for mirrored without GPUs"
    )
    p.add_argument(
        "--mixed-precision", choices=("float16", "bfloat16"), help="mixed-precision policy"
    )
    p.add_argument(
        "--override",
        action="append",
        type=_parse_override,
        metavar="KEY=VALUE",
        help="model configuration override, e.g. --override dropout=0.2 (repeatable)",
    )
    p.add_argument(
        "--shuffle",
        action=argparse.BooleanOptionalAction,
        help="shuffle the training data each epoch (default: --shuffle)",
    )
    p.add_argument(
        "--deterministic",
        action=argparse.BooleanOptionalAction,
        help="deterministic TensorFlow ops (default: --deterministic)",
    )
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), help="fit progress (default: 1)")
    p.set_defaults(handler=_cmd_train)

    p = commands.add_parser(
        "tune",
        help="search a registered model's hyperparameters with KerasTuner",
        description="KerasTuner search over a registered model's architecture and training "
        "components (optimizer AdamW/Ranger/Lookahead, schedule constant/cosine/one-cycle/"
        "cyclical, learning rate, weight decay). Resumes from --directory unless --overwrite. "
        "Prints the best configuration and saves the best model. For distributed tuning run one "
        "chief and N workers with KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP and "
        "KERASTUNER_ORACLE_PORT set.",
    )
    p.add_argument("model", help="registered model name (see `zoo list`)")
    p.add_argument("--tuner", choices=("hyperband", "bayesian", "random"), default="hyperband")
    p.add_argument("--max-trials", type=_positive_int, default=10, help="(default: %(default)s)")
    p.add_argument("--epochs", type=_positive_int, default=10, help="epochs per trial")
    p.add_argument("--directory", default="artifacts/tune", help="(default: %(default)s)")
    p.add_argument("--project-name", help="(default: MODEL_TUNER)")
    p.add_argument("--overwrite", action="store_true", help="start afresh instead of resuming")
    p.add_argument("--data", help="TFRecord files (default: built-in digits)")
    p.add_argument("--validation-data", help="TFRecord files for the objective (with --data)")
    p.add_argument("--label", default="label", help="(default: %(default)s)")
    p.add_argument("--features", help="input feature name (default: the only non-label one)")
    p.add_argument("--batch-size", type=_positive_int, default=32, help="(default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    p.add_argument("--mixed-precision", choices=("float16", "bfloat16"))
    p.add_argument(
        "--fix",
        action="append",
        type=_parse_override,
        metavar="KEY=VALUE",
        help="pin a hyperparameter or model argument, e.g. --fix optimizer=adamw (repeatable)",
    )
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1)
    p.set_defaults(handler=_cmd_tune)

    add_export_command(commands)
    add_serve_command(commands)
    add_data_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the `zoo` command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except USER_ERRORS as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        print(f"zoo: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zoo: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
