"""`zoo nas measure-latency`: the latency lookup table of a search space, measured here."""

from __future__ import annotations

import os

SPACES = ("ofa", "proxyless")


def build_space(space: str):
    """The digits supernet of `space` (`"ofa"` or `"proxyless"`), whose blocks get measured."""
    if space == "ofa":
        from zoo.nas.ofa import OnceForAll
        from zoo.nas.ofa.command import DIGITS_OFA

        return OnceForAll(**DIGITS_OFA)
    if space == "proxyless":
        from zoo.nas.proxyless import ProxylessSupernet
        from zoo.nas.proxyless.command import DIGITS_PROXYLESS

        return ProxylessSupernet(**DIGITS_PROXYLESS)
    raise ValueError(f"`space` must be one of {SPACES}. Received: space={space!r}")


def measure_latency_command(
    output: str, space: str = "ofa", repeats: int = 20, overwrite: bool = False, verbose: int = 1
) -> dict:
    """Measures every block of the `space` search space with TFLite and writes the JSON table.

    Args:
        output: the `.json` file to write.
        space: `"ofa"` or `"proxyless"`. Defaults to `"ofa"`.
        repeats: timed invocations per block. Defaults to `20`.
        overwrite: replace an existing file. Defaults to `False`.
        verbose: `1` shows a progress bar. Defaults to `1`.

    Returns:
        The table.

    Raises:
        FileExistsError: `output` exists and `overwrite` is false.

    Example:

    ```python
    measure_latency_command("table.json", space="proxyless")
    ```
    """
    from zoo.nas.latency import measure_latency_table, save_latency_table

    if os.path.exists(output) and not overwrite:
        raise FileExistsError(
            f"The latency table exists; pass --overwrite to replace it. Received: output={output!r}"
        )
    supernet = build_space(space)
    table = measure_latency_table(supernet.all_latency_specs(), repeats=repeats, verbose=verbose)
    table["space"] = space
    save_latency_table(table, output)
    return table


def add_parser(commands) -> None:
    """Adds `measure-latency` to the `zoo nas` sub-commands."""
    from zoo.cli.arguments import positive_int

    p = commands.add_parser(
        "measure-latency",
        help="measure the TFLite latency lookup table of a search space on this machine",
    )
    p.add_argument("--output", required=True, help="the .json table to write")
    p.add_argument("--space", choices=SPACES, default="ofa", help="search space (default: ofa)")
    p.add_argument(
        "--repeats", type=positive_int("repeats"), default=20, help="timed runs per block"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing table")
    p.set_defaults(handler=_run)


def _run(args) -> int:
    table = measure_latency_command(
        args.output, space=args.space, repeats=args.repeats, overwrite=args.overwrite
    )
    print(f"{len(table['latency'])} blocks measured ({table['device']}); wrote {args.output}")
    return 0
