"""`zoo nas search darts`: the DARTS search from the command line (see `zoo.cli.nas`)."""

from __future__ import annotations

import argparse
import json
import os

from zoo.cli.arguments import positive_int
from zoo.nas.ops import OP_NAMES, check_op_name

DEFAULT_OUTPUT = os.path.join("artifacts", "nas", "darts")


def op_names(text: str) -> list[str]:
    """An argparse type: comma-separated operation names, each known."""
    try:
        return [check_op_name(name.strip()) for name in text.split(",")]
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `zoo nas search darts`."""
    parser.add_argument(
        "--data", help="TFRecord files: glob, directory or prefix (default: built-in digits)"
    )
    parser.add_argument("--label", default="label", help="label feature (default: %(default)s)")
    parser.add_argument("--features", help="image feature (default: the only non-label one)")
    parser.add_argument(
        "--output",
        default=DEFAULT_OUTPUT,
        help="directory for search_state.npz, genotype.json and mixing_weights.npz; a rerun "
        "resumes from its state (default: %(default)s)",
    )
    parser.add_argument("--epochs", type=positive_int("epochs"), default=10, help="(default: 10)")
    parser.add_argument(
        "--batch-size", type=positive_int("batch_size"), default=64, help="(default: 64)"
    )
    parser.add_argument("--channels", type=positive_int("channels"), default=8, help="(default: 8)")
    parser.add_argument("--cells", type=positive_int("num_cells"), default=5, help="(default: 5)")
    parser.add_argument(
        "--nodes", type=positive_int("num_nodes"), default=4, help="nodes per cell (default: 4)"
    )
    parser.add_argument(
        "--image-size",
        type=positive_int("image_size"),
        default=16,
        help="images are resized to this side in the model (default: 16)",
    )
    parser.add_argument(
        "--ops",
        type=op_names,
        default=list(OP_NAMES),
        help="comma-separated candidate operations (default: the paper's eight: "
        + ",".join(OP_NAMES)
        + ")",
    )
    parser.add_argument(
        "--second-order",
        action="store_true",
        help="the unrolled, second-order architecture gradient (default: first order)",
    )
    parser.add_argument("--seed", type=int, default=0, help="(default: 0)")


def load_images(data, label: str = "label", features=None):
    """`(x, y)`: the built-in digits' training split (`data=None`) or the TFRecords `data`."""
    from zoo.datasets import arrays_from_dataset, load_digits

    if data is None:
        digits = load_digits(dtype="float32")
        return digits.train.x, digits.train.y
    import tfrecords

    x, y = arrays_from_dataset(tfrecords.read(data, label=label, features=features), "data")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(
            f"`--data` must hold images (height, width[, channels]). Received: examples of "
            f"shape {x.shape[1:]}"
        )
    return x.astype("float32"), y


def run(args: argparse.Namespace) -> int:
    """Runs the search; prints the genotype and where it was written."""
    from zoo.nas.darts.search import GENOTYPE_FILE, darts_search

    x, y = load_images(args.data, args.label, args.features)
    _, genotype = darts_search(
        x,
        y,
        epochs=args.epochs,
        batch_size=args.batch_size,
        output=args.output,
        seed=args.seed,
        channels=args.channels,
        num_cells=args.cells,
        num_nodes=args.nodes,
        image_size=args.image_size,
        unrolled=args.second_order,
        op_names=args.ops,
    )
    print(json.dumps(genotype.to_dict()))
    print(f"genotype: {os.path.join(args.output, GENOTYPE_FILE)}")
    return 0
