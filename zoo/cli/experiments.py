"""`zoo experiments depth-vs-width | information-plane`: the foundations experiments."""

from __future__ import annotations

import argparse


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Adds the `experiments` command group."""
    p = commands.add_parser(
        "experiments", help="foundations experiments that write a plot and a table"
    )
    sub = p.add_subparsers(dest="experiments_command", metavar="COMMAND", required=True)
    del sub  # sub-commands are added below as they are built
