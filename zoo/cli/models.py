"""`zoo list [PATTERN]`: the registered models with their family, task and whether `zoo tune`
can search them."""

from __future__ import annotations

import argparse
import sys

import zoo


def _row(name: str) -> tuple[str, str, str, str, str]:
    spec = zoo.get_spec(name)
    tunable = "tunable" if spec.search_space is not None else "not tunable"
    return name, spec.family, spec.task, tunable, spec.description


def format_models(names: list[str]) -> list[str]:
    """One aligned line per model: name, family, task, tunable or not, description."""
    rows = [_row(name) for name in names]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    return [
        "  ".join(value.ljust(width) for value, width in zip(row[:4], widths, strict=True))
        + f"  {row[4]}"
        for row in rows
    ]


def run_list(args: argparse.Namespace) -> int:
    """Prints the models matching `args.pattern`; exit status 1 when none does."""
    names = zoo.list_models(args.pattern)
    if not names:
        print(f"no registered model matches {args.pattern!r}", file=sys.stderr)
        return 1
    for line in format_models(names):
        print(line)
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Adds `list [PATTERN]`."""
    parser = commands.add_parser(
        "list",
        help="list the registered models",
        description="One line per registered model: name, family, task, 'tunable' when `zoo "
        "tune` can search it (it declares a search space) or 'not tunable', description.",
    )
    parser.add_argument("pattern", nargs="?", help="shell-style filter, e.g. 'cnn_*'")
    parser.set_defaults(handler=run_list)
