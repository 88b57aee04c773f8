"""`zoo federated server | client`: Flower federated training of a registered model."""

from __future__ import annotations

import argparse


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Adds the `federated` command group."""
    p = commands.add_parser(
        "federated", help="federated training with Flower (server and client processes)"
    )
    sub = p.add_subparsers(dest="federated_command", metavar="COMMAND", required=True)
    del sub  # sub-commands are added below as they are built
