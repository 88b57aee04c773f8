"""`zoo nas search darts|proxyless|ofa` and `zoo nas measure-latency`: architecture search.

Each search method is a module `zoo.nas.<method>.command` with `add_arguments(parser)` (its
options) and `run(args) -> exit status`; `SEARCH_METHODS` lists them, so a method is one line
here.
"""

from __future__ import annotations

import argparse
import importlib

# method name -> (module with add_arguments/run, one line of help)
SEARCH_METHODS = {
    "darts": ("zoo.nas.darts.command", "DARTS: differentiable cell search (Liu et al. 2019)"),
    "ofa": ("zoo.nas.ofa.command", "Once-for-All: elastic supernet, then search (Cai et al. 2020)"),
    "proxyless": ("zoo.nas.proxyless.command", "ProxylessNAS: latency-aware (Cai et al. 2019)"),
}


def _method_handler(module_name: str):
    def handler(args: argparse.Namespace) -> int:
        return importlib.import_module(module_name).run(args)

    return handler


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Adds the `nas` command group."""
    p = commands.add_parser(
        "nas", help="neural architecture search (DARTS, ProxylessNAS, Once-for-All)"
    )
    sub = p.add_subparsers(dest="nas_command", metavar="COMMAND", required=True)
    search = sub.add_parser(
        "search",
        help="search an architecture",
        description="Search an architecture on the built-in digits or TFRecords (--data), "
        "with progress and a state in --output that a rerun resumes.",
    )
    methods = search.add_subparsers(dest="method", metavar="METHOD", required=True)
    for method, (module_name, summary) in SEARCH_METHODS.items():
        parser = methods.add_parser(method, help=summary, description=summary)
        importlib.import_module(module_name).add_arguments(parser)
        parser.set_defaults(handler=_method_handler(module_name))
    from zoo.nas import latency_command  # `zoo nas measure-latency`

    latency_command.add_parser(sub)
