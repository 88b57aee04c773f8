"""`argparse` types built on `layers.validation`: each parses the text, then runs the check.

A bad value is reported by argparse with the check's own message, e.g.
`zoo train: error: argument --epochs: `epochs` must be a positive integer. Received: epochs=0`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from layers.validation import (
    check_non_negative_float,
    check_non_negative_int,
    check_number_pair,
    check_positive_float,
    check_positive_int,
    check_positive_ints,
)


def checked(
    check: Callable[..., Any], name: str, parse: Callable[[str], Any] = int, **options: Any
) -> Callable[[str], Any]:
    """An argparse `type`: `check(name, parse(text), **options)`.

    A text that `parse` rejects goes to `check` as it is, so the message is the check's.

    Args:
        check: a `layers.validation` check.
        name: the argument's name in the message (its `dest`, as in a `--config` file).
        parse: turns the text into a value. Defaults to `int`.
        **options: further keyword arguments of `check`.

    Example:

    ```python
    parser.add_argument("--epochs", type=checked(check_positive_int, "epochs"))
    ```
    """

    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            value = text
        try:
            return check(name, value, **options)
        except (TypeError, ValueError) as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = name
    return convert


def positive_int(name: str) -> Callable[[str], int]:
    """An integer > 0."""
    return checked(check_positive_int, name)


def non_negative_int(name: str) -> Callable[[str], int]:
    """An integer >= 0."""
    return checked(check_non_negative_int, name)


def positive_float(name: str) -> Callable[[str], float]:
    """A number > 0."""
    return checked(check_positive_float, name, parse=float)


def non_negative_float(name: str) -> Callable[[str], float]:
    """A number >= 0."""
    return checked(check_non_negative_float, name, parse=float)


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


def positive_ints(name: str) -> Callable[[str], list[int]]:
    """Comma-separated integers > 0, e.g. `25,10`."""

    def check(name: str, value) -> list[int]:
        return list(check_positive_ints(name, value))

    return checked(check, name, parse=_ints)


def _floats(text: str) -> list[float]:
    return [float(part) for part in text.split(",")]


def number_pair(name: str) -> Callable[[str], tuple[float, float]]:
    """Two comma-separated numbers, e.g. `0,1`."""
    return checked(check_number_pair, name, parse=_floats)


def key_value(name: str) -> Callable[[str], tuple[str, Any]]:
    """`KEY=VALUE` with VALUE read as YAML (`dropout=0.2`, `filters=[4, 8]`, `optimizer=adamw`)."""

    def convert(text: str) -> tuple[str, Any]:
        import yaml

        key, separator, value = text.partition("=")
        if not separator or not key.strip():
            raise argparse.ArgumentTypeError(
                f"`{name}` must look like KEY=VALUE. Received: {name}={text!r}"
            )
        try:
            return key.strip(), yaml.safe_load(value)
        except yaml.YAMLError as error:
            raise argparse.ArgumentTypeError(
                f"`{name}` must have a YAML value after '='. Received: {name}={text!r}"
            ) from error

    convert.__name__ = name
    return convert
