"""The `data` command of the `zoo` CLI: `zoo data inspect PATH [--verify]`."""

from __future__ import annotations

import argparse

from tfrecords.inspection import format_inspection, inspect


def inspect_command(args: argparse.Namespace) -> int:
    """Prints the inspection of `args.path`; errors propagate for the caller to report."""
    print(format_inspection(inspect(args.path, verify=args.verify)))
    return 0


def add_data_command(subparsers) -> argparse.ArgumentParser:
    """Adds `data` (with the subcommand `inspect PATH`) to an argparse subparsers object."""
    data = subparsers.add_parser("data", help="inspect TFRecord datasets")
    commands = data.add_subparsers(dest="data_command", required=True)
    inspect_parser = commands.add_parser(
        "inspect", help="record count, schema and the first example of TFRecord shards"
    )
    inspect_parser.add_argument(
        "path", help="a shard, glob pattern, directory or the prefix given to tfrecords.write"
    )
    inspect_parser.add_argument(
        "--verify", action="store_true", help="read every record and check it (slower)"
    )
    inspect_parser.set_defaults(handler=inspect_command)
    return data
