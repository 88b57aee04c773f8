"""`zoo nas search darts|proxyless|ofa` and `zoo nas measure-latency`: architecture search."""

from __future__ import annotations

import argparse


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Adds the `nas` command group."""
    p = commands.add_parser(
        "nas", help="neural architecture search (DARTS, ProxylessNAS, Once-for-All)"
    )
    sub = p.add_subparsers(dest="nas_command", metavar="COMMAND", required=True)
    del sub  # sub-commands are added below as they are built
