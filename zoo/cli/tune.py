"""`zoo tune MODEL`: a KerasTuner or Optuna search over a registered model (`zoo.tuning.tune`)."""

from __future__ import annotations

import argparse
import json

from zoo.cli.arguments import key_value, non_negative_int, positive_int
from zoo.tuning import BACKENDS, TUNERS

# Namespace entries that are not arguments of `zoo.tuning.tune`.
NOT_ARGUMENTS = ("command", "handler", "fix", "tensorflow_logs")


def run_tune(args: argparse.Namespace) -> int:
    """Runs the search; the chief prints the best configuration as JSON."""
    from zoo.tuning import tune

    options = {k: v for k, v in vars(args).items() if k not in NOT_ARGUMENTS}
    result = tune(**options, **dict(args.fix or []))
    if result is not None:
        print(json.dumps(result, indent=2, default=str))
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Adds `tune MODEL [--tuner T] [--max-trials N] [--epochs E] [--fix KEY=VALUE] ...`."""
    p = commands.add_parser(
        "tune",
        help="search a registered model's hyperparameters with KerasTuner or Optuna",
        description="KerasTuner (or, with --backend optuna, Optuna) search over a registered "
        "model's architecture and training "
        "components (optimizer AdamW/Ranger/Lookahead, schedule constant/cosine/one-cycle/"
        "cyclical, learning rate, weight decay). Resumes from --directory unless --overwrite. "
        "Prints the best configuration and saves the best model. For distributed tuning run one "
        "chief and N workers with KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP and "
        "KERASTUNER_ORACLE_PORT set. With --backend optuna, start any number of processes with "
        "the same --storage and --study-name; each runs --max-trials trials of the shared, "
        "resumable study. `zoo list` shows which models can be tuned.",
    )
    p.add_argument("model", help="registered model name (see `zoo list`)")
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="keras-tuner",
        help="search library (default: %(default)s)",
    )
    p.add_argument("--tuner", choices=TUNERS, help="KerasTuner's tuner (default: hyperband)")
    p.add_argument(
        "--storage",
        help="Optuna RDB URL shared by every process of the study, e.g. sqlite:///study.db "
        "(default: sqlite:///DIRECTORY/STUDY_NAME.db)",
    )
    p.add_argument("--study-name", help="Optuna study (default: MODEL_optuna)")
    p.add_argument("--sampler", choices=("tpe", "random"), help="Optuna sampler (default: tpe)")
    p.add_argument(
        "--pruner",
        choices=("hyperband", "median", "none"),
        help="Optuna pruner fed by each epoch's val_accuracy (default: hyperband)",
    )
    p.add_argument(
        "--max-trials",
        type=positive_int("max_trials"),
        default=10,
        help="(default: %(default)s)",
    )
    p.add_argument("--epochs", type=positive_int("epochs"), default=10, help="epochs per trial")
    p.add_argument("--directory", default="artifacts/tune", help="(default: %(default)s)")
    p.add_argument("--project-name", help="(default: MODEL_TUNER)")
    p.add_argument("--overwrite", action="store_true", help="start afresh instead of resuming")
    p.add_argument("--data", help="TFRecord files (default: built-in digits)")
    p.add_argument("--validation-data", help="TFRecord files for the objective (with --data)")
    p.add_argument("--label", default="label", help="(default: %(default)s)")
    p.add_argument("--features", help="input feature name (default: the only non-label one)")
    p.add_argument(
        "--batch-size",
        type=positive_int("batch_size"),
        default=32,
        help="(default: %(default)s)",
    )
    p.add_argument(
        "--seed", type=non_negative_int("seed"), default=0, help="(default: %(default)s)"
    )
    p.add_argument("--mixed-precision", choices=("float16", "bfloat16"))
    p.add_argument(
        "--fix",
        action="append",
        type=key_value("fix"),
        metavar="KEY=VALUE",
        help="pin a hyperparameter or model argument, e.g. --fix optimizer=adamw (repeatable)",
    )
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1)
    p.add_argument(
        "--xla",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="compile trials with XLA where the family does by default (default: --xla)",
    )
    p.set_defaults(handler=run_tune)
