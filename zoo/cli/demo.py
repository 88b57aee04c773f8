"""`zoo demo`: the end-to-end job on built-in data (what `make demo` runs)."""

from __future__ import annotations

import argparse

from zoo.cli.arguments import non_negative_int, positive_int


def run_demo(args: argparse.Namespace) -> int:
    """Runs `zoo.demo.run_demo` with the parsed options."""
    from zoo.demo import run_demo

    run_demo(
        artifacts_dir=args.artifacts,
        model_name=args.model,
        epochs=args.epochs,
        seed=args.seed,
        verbose=args.verbose,
        xla=args.xla,
    )
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Adds `demo [--artifacts DIR] [--model NAME] [--epochs N] [--seed S] [--verbose V]
    [--no-xla]`."""
    parser = commands.add_parser(
        "demo",
        help="run the end-to-end job on built-in data",
        description="Digits into TFRecords, train, evaluate, export a SavedModel, serve it on "
        "localhost and query it; artifacts (data, model, training-curve PNG, summary.json) go "
        "under --artifacts. Nothing is downloaded.",
    )
    parser.add_argument(
        "--artifacts", default="artifacts", help="output directory (default: %(default)s)"
    )
    parser.add_argument(
        "--model", default="cnn_digits", help="registered model (default: %(default)s)"
    )
    parser.add_argument(
        "--epochs", type=positive_int("epochs"), default=20, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=non_negative_int("seed"), default=0, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--verbose", type=int, choices=(0, 1, 2), default=2, help="fit progress output"
    )
    parser.add_argument(
        "--xla",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="compile with XLA where the model's family does by default (default: --xla)",
    )
    parser.set_defaults(handler=run_demo)
