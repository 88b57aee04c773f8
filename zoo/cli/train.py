"""`zoo train MODEL`: train a registered model with `model.fit` and save it."""

from __future__ import annotations

import argparse
import json

from layers.schedules import SCHEDULES
from zoo.cli.arguments import (
    key_value,
    non_negative_float,
    non_negative_int,
    number_pair,
    positive_float,
    positive_int,
    positive_ints,
)

# Namespace entries that are not `TrainConfig` options.
NOT_OPTIONS = ("command", "handler", "config", "tensorflow_logs")


def run_train(args: argparse.Namespace) -> int:
    """Trains with the options of `--config` (if any), the flags winning; prints the result."""
    from zoo.train import TrainConfig, load_config_file, train

    options = load_config_file(args.config) if args.config else {}
    given = {k: v for k, v in vars(args).items() if k not in NOT_OPTIONS}
    overrides = dict(options.pop("overrides", None) or {})
    overrides.update(dict(given.pop("override", [])))
    options.update(given)
    options["overrides"] = overrides
    if "model" not in options:
        raise ValueError("No model given: pass MODEL or set `model:` in --config.")
    result = train(TrainConfig.from_dict(options))
    print(json.dumps(result, indent=2))
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Adds `train [MODEL] [--config FILE] [options]`; unset options keep `TrainConfig`'s
    defaults."""
    p = commands.add_parser(
        "train",
        help="train a registered model and save it",
        description="Train a registered model with model.fit, on the built-in digits or on "
        "TFRecords written by `tfrecords.write`; writes MODEL.keras, history.json, "
        "training_curve.png and run.json (versions, hardware, config, seed, git commit, "
        "dataset fingerprints) to --output; with --track, also to MLflow. Every option can "
        "also come from --config FILE (YAML, same names); flags win.",
        argument_default=argparse.SUPPRESS,
    )
    p.add_argument("model", nargs="?", help="registered model name (see `zoo list`)")
    p.add_argument("--config", default=None, help="YAML file holding any of these options")
    p.add_argument(
        "--data",
        help="TFRecord files: glob, directory (default: built-in digits); for graph models "
        "also a built-in graph (karate_club, citation_benchmark, cycles_vs_trees, "
        "planted_motif) or a directory of Planetoid files",
    )
    p.add_argument("--validation-data", help="TFRecord files for validation")
    p.add_argument("--label", help="label feature name in the records (default: label)")
    p.add_argument("--features", help="input feature name (default: the only non-label one)")
    p.add_argument("--output", help="output directory (default: artifacts/train)")
    p.add_argument("--epochs", type=positive_int("epochs"), help="(default: 10)")
    p.add_argument(
        "--batch-size", type=positive_int("batch_size"), help="global batch size (default: 32)"
    )
    p.add_argument(
        "--learning-rate",
        type=positive_float("learning_rate"),
        help="(default: the model's); the peak with --schedule",
    )
    p.add_argument(
        "--schedule",
        choices=SCHEDULES,
        help="learning-rate schedule over the whole run, named and defined in "
        "layers.schedules.factory (default: constant)",
    )
    p.add_argument(
        "--warmup-epochs",
        type=non_negative_float("warmup_epochs"),
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
        type=number_pair("value_range"),
        metavar="LOW,HIGH",
        help="pixel range of the inputs, for randaugment (default: 0,1 as the built-in digits)",
    )
    p.add_argument("--seed", type=non_negative_int("seed"), help="(default: 0)")
    p.add_argument(
        "--strategy",
        choices=("default", "mirrored", "multiworker"),
        help="tf.distribute strategy; multiworker reads the cluster from TF_CONFIG",
    )
    p.add_argument(
        "--cpu-devices",
        type=positive_int("cpu_devices"),
        help="logical CPU devices for mirrored without GPUs",
    )
    p.add_argument(
        "--mixed-precision", choices=("float16", "bfloat16"), help="mixed-precision policy"
    )
    p.add_argument(
        "--override",
        action="append",
        type=key_value("override"),
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
        help="deterministic TensorFlow ops; Keras then compiles without XLA (default: on, "
        "except for the families that compile with XLA)",
    )
    p.add_argument(
        "--xla",
        action=argparse.BooleanOptionalAction,
        help="compile with XLA where the model's family does by default, the families where "
        "it measured faster (default: --xla; --no-xla turns it off)",
    )
    p.add_argument(
        "--fanouts",
        type=positive_ints("fanouts"),
        help="graph node classifiers: neighbours sampled per layer, e.g. 25,10, with "
        "--batch-size seed nodes per step (default: full-batch training)",
    )
    p.add_argument(
        "--track",
        metavar="mlflow[:URI]",
        help="track the run in MLflow: parameters, per-epoch metrics, run.json, the curve, "
        "the .keras model and the SavedModel as artifacts, a registered model version; URI "
        "file:///path (file store), sqlite:///path.db or http(s)://server (default: "
        "MLFLOW_TRACKING_URI, else MLflow's sqlite:///mlflow.db in the current directory). "
        "An unreachable URI is a warning: the run goes on, written locally",
    )
    p.add_argument(
        "--carbon",
        action=argparse.BooleanOptionalAction,
        help="record the run's energy (kWh) and CO2-eq (codecarbon, offline) in run.json and "
        "MLflow (default: on with --track, else off)",
    )
    p.add_argument(
        "--carbon-country",
        metavar="ISO3",
        help="country of the electricity mix for the CO2-eq estimate, ISO 3166-1 alpha-3 "
        "(default: USA)",
    )
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), help="fit progress (default: 1)")
    p.set_defaults(handler=run_train)
