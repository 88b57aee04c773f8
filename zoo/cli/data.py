"""`zoo data inspect PATH [--verify]`: the `tfrecords` package's command."""

from __future__ import annotations

import argparse


def run_inspect(args: argparse.Namespace) -> int:
    """Prints the inspection of `args.path`; errors propagate for `main` to report."""
    import tfrecords

    print(tfrecords.format_inspection(tfrecords.inspect(args.path, verify=args.verify)))
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Adds `data` with its sub-command `inspect PATH [--verify]`."""
    data = commands.add_parser("data", help="inspect TFRecord datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    inspect = data_commands.add_parser(
        "inspect", help="record count, schema and the first example of TFRecord shards"
    )
    inspect.add_argument(
        "path", help="a shard, glob pattern, directory or the prefix given to tfrecords.write"
    )
    inspect.add_argument(
        "--verify", action="store_true", help="read every record and check it (slower)"
    )
    inspect.set_defaults(handler=run_inspect)
