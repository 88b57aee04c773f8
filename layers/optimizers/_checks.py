"""Argument checks shared by the optimizers and learning-rate schedules."""

from __future__ import annotations


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_positive_int(name: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return value


def check_non_negative_int(name: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}")
    return value


def check_positive_float(name: str, value) -> float:
    if not _is_number(value) or not value > 0:
        raise ValueError(f"`{name}` must be a positive number. Received: {name}={value!r}")
    return float(value)


def check_non_negative_float(name: str, value) -> float:
    if not _is_number(value) or not value >= 0:
        raise ValueError(f"`{name}` must be a non-negative number. Received: {name}={value!r}")
    return float(value)


def check_unit_interval(name: str, value, *, include_low: bool, include_high: bool) -> float:
    """Requires a number in [0, 1], with each end open or closed as asked."""
    ok = _is_number(value) and (
        (value > 0 or (include_low and value == 0)) and (value < 1 or (include_high and value == 1))
    )
    if not ok:
        interval = f"{'[' if include_low else '('}0, 1{']' if include_high else ')'}"
        raise ValueError(f"`{name}` must be a number in {interval}. Received: {name}={value!r}")
    return float(value)


def check_choice(name: str, value, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {list(choices)}. Received: {name}={value!r}")
    return value
