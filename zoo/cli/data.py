"""`zoo data inspect PATH [--verify]` and `zoo data diff A B`: TFRecord dataset commands."""

from __future__ import annotations

import argparse


def run_inspect(args: argparse.Namespace) -> int:
    """Prints the inspection of `args.path`; errors propagate for `main` to report."""
    import tfrecords

    print(tfrecords.format_inspection(tfrecords.inspect(args.path, verify=args.verify)))
    return 0


def run_diff(args: argparse.Namespace) -> int:
    """Prints what differs between datasets `args.a` and `args.b`; 0 when the same, else 1."""
    from zoo.tracking.dataset_diff import diff_datasets, format_diff

    diff = diff_datasets(args.a, args.b, progress=args.progress)
    print(format_diff(diff, args.a, args.b))
    return 0 if diff.same else 1


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Adds `data` with its sub-commands `inspect PATH [--verify]` and `diff A B`."""
    data = commands.add_parser("data", help="inspect and compare TFRecord datasets")
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
    diff = data_commands.add_parser(
        "diff",
        help="compare two TFRecord datasets by content hash (exit 0: same, 1: different)",
        description="Compares two TFRecord datasets shard by shard (SHA-256 of every shard and of "
        "the schema file): prints shards added, removed or changed, schema changes and record "
        "counts, then 'same' (exit status 0) or 'different' (exit status 1).",
    )
    diff.add_argument("a", help="the first dataset: shard, glob, directory or prefix")
    diff.add_argument("b", help="the second dataset: shard, glob, directory or prefix")
    diff.add_argument("--progress", action="store_true", help="show a progress bar while hashing")
    diff.set_defaults(handler=run_diff)
