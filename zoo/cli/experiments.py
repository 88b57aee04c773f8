"""`zoo experiments depth-vs-width | information-plane --output DIR`: the foundations
experiments. Each writes a PNG (the plot) and a JSON (the table, with the findings) to DIR and
prints their paths and the findings as JSON. `--quick` shrinks the run to seconds (for tests and
a first look); an option given explicitly wins over the preset.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys

from zoo.cli.arguments import positive_float, positive_int, positive_ints

# The information-plane activations (zoo.experiments.information_plane.ACTIVATIONS; repeated here
# so that building the parser does not import Keras).
ACTIVATIONS = ("tanh", "relu")

# Option defaults for a full run and for `--quick`; None in the parser means "not given".
DEPTH_VS_WIDTH = {
    "full": {
        "budget": 300,
        "depths": [1, 2, 3, 4, 5, 6],
        "sawtooth_k": 6,
        "seeds": 3,
        "steps": 6000,
        "train_points": 2048,
    },
    "quick": {
        "budget": 60,
        "depths": [1, 2, 3],
        "sawtooth_k": 3,
        "seeds": 1,
        "steps": 40,
        "train_points": 128,
    },
}
INFORMATION_PLANE = {
    "full": {"epochs": 1000, "log_points": 20, "kde_patterns": 4096},
    "quick": {"epochs": 4, "log_points": 2, "kde_patterns": 512},
}


def _options(args: argparse.Namespace, presets: dict) -> dict:
    preset = presets["quick" if args.quick else "full"]
    return {
        key: preset[key] if getattr(args, key) is None else getattr(args, key) for key in preset
    }


def _write(result: dict, output: str, stem: str, plot) -> dict:
    os.makedirs(output, exist_ok=True)
    table = os.path.join(output, f"{stem}.json")
    picture = plot(result, os.path.join(output, f"{stem}.png"))
    with open(table, "w") as file:
        json.dump(result, file, indent=2)
    summary = {"plot": picture, "table": table, "findings": result["findings"]}
    print(json.dumps(summary, indent=2))
    return summary


def run_depth_vs_width_command(args: argparse.Namespace) -> int:
    """Runs the sweep; writes depth_vs_width.png and depth_vs_width.json."""
    from zoo.experiments.depth_vs_width import run_depth_vs_width
    from zoo.experiments.figures import plot_depth_vs_width

    with contextlib.redirect_stdout(sys.stderr):  # progress on stderr, the summary on stdout
        result = run_depth_vs_width(
            **_options(args, DEPTH_VS_WIDTH),
            learning_rate=args.learning_rate,
            batch_size=args.batch_size,
            seed=args.seed,
            verbose=args.verbose,
        )
    _write(result, args.output, "depth_vs_width", plot_depth_vs_width)
    return 0


def run_information_plane_command(args: argparse.Namespace) -> int:
    """Trains the networks; writes information_plane.png and information_plane.json."""
    from zoo.experiments.figures import plot_information_plane
    from zoo.experiments.information_plane import run_information_plane

    with contextlib.redirect_stdout(sys.stderr):  # progress on stderr, the summary on stdout
        result = run_information_plane(
            **_options(args, INFORMATION_PLANE),
            activations=args.activations,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            bins=args.bins,
            noise_variance=args.noise_variance,
            seed=args.seed,
            verbose=args.verbose,
        )
    _write(result, args.output, "information_plane", plot_information_plane)
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output", required=True, help="folder for the PNG and the JSON")
    p.add_argument("--quick", action="store_true", help="a run of seconds (tests, a first look)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1),
        default=1,
        help="1 shows a progress bar (default), 0 nothing",
    )


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Adds `experiments depth-vs-width` and `experiments information-plane`."""
    p = commands.add_parser(
        "experiments", help="foundations experiments that write a plot and a table"
    )
    sub = p.add_subparsers(dest="experiments_command", metavar="COMMAND", required=True)

    full, quick = DEPTH_VS_WIDTH["full"], DEPTH_VS_WIDTH["quick"]
    d = sub.add_parser(
        "depth-vs-width",
        help="fit smooth targets and Telgarsky's sawtooth with equal-parameter ReLU MLPs",
        description="Fits sin, a Gaussian bump, a cubic and Telgarsky's sawtooth (2^k linear "
        "pieces) on [0, 1] with ReLU MLPs of each depth whose width is solved for an equal "
        "parameter count; writes RMSE vs depth and vs width (depth_vs_width.png) and the table "
        "(depth_vs_width.json), with Telgarsky's exact depth-k construction for reference.",
    )
    _common(d)
    d.add_argument(
        "--budget",
        type=positive_int("budget"),
        help=f"parameters per network (default {full['budget']}, quick {quick['budget']})",
    )
    d.add_argument(
        "--depths",
        type=positive_ints("depths"),
        help=f"comma-separated hidden-layer counts (default 1,...,6, quick "
        f"{','.join(map(str, quick['depths']))})",
    )
    d.add_argument(
        "--sawtooth-k",
        type=positive_int("sawtooth_k"),
        help=f"tent-map compositions of the sawtooth (default {full['sawtooth_k']})",
    )
    d.add_argument(
        "--seeds",
        type=positive_int("seeds"),
        help=f"initialisations averaged per network (default {full['seeds']})",
    )
    d.add_argument(
        "--steps", type=positive_int("steps"), help=f"Adam steps (default {full['steps']})"
    )
    d.add_argument(
        "--train-points",
        type=positive_int("train_points"),
        help=f"training grid size (default {full['train_points']})",
    )
    d.add_argument("--batch-size", type=positive_int("batch_size"), default=256)
    d.add_argument(
        "--learning-rate",
        type=positive_float("learning_rate"),
        default=3e-3,
        help="Adam's starting learning rate, cosine-decayed (default 3e-3)",
    )
    d.set_defaults(handler=run_depth_vs_width_command)

    full = INFORMATION_PLANE["full"]
    i = sub.add_parser(
        "information-plane",
        help="I(X;T) and I(T;Y) per layer over training, tanh vs ReLU (binning and KDE)",
        description="Trains 12-10-7-5-4-3-2 networks (tanh and ReLU) on the 4096 12-bit "
        "patterns with a spherically symmetric label, records every layer's activations at "
        "log-spaced epochs and estimates I(X;T), I(T;Y) with the binning and the KDE estimator; "
        "writes information_plane.png and information_plane.json (with each activation's "
        "compression: peak minus final I(X;T)).",
    )
    _common(i)
    i.add_argument(
        "--epochs", type=positive_int("epochs"), help=f"epochs (default {full['epochs']})"
    )
    i.add_argument(
        "--log-points",
        type=positive_int("log_points"),
        help=f"about how many log-spaced epochs to record (default {full['log_points']})",
    )
    i.add_argument("--activations", nargs="+", choices=ACTIVATIONS, default=list(ACTIVATIONS))
    i.add_argument("--batch-size", type=positive_int("batch_size"), default=256)
    i.add_argument(
        "--learning-rate",
        type=positive_float("learning_rate"),
        default=1e-3,
        help="Adam's learning rate (default 1e-3)",
    )
    i.add_argument(
        "--bins", type=positive_int("bins"), default=30, help="bins per unit (default 30)"
    )
    i.add_argument(
        "--noise-variance",
        type=positive_float("noise_variance"),
        default=1e-3,
        help="the KDE estimator's noise variance (default 1e-3)",
    )
    i.add_argument(
        "--kde-patterns",
        type=positive_int("kde_patterns"),
        help="patterns (a fixed random subset of the 4096) for the KDE estimator, whose cost "
        f"grows with their square (default {full['kde_patterns']}: all)",
    )
    i.set_defaults(handler=run_information_plane_command)
