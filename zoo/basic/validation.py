"""Argument checks shared by the reference models."""

from __future__ import annotations

from collections.abc import Sequence


def _is_positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def check_positive_int(name: str, value) -> int:
    if not _is_positive_int(value):
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return value


def check_positive_ints(name: str, values) -> tuple[int, ...]:
    is_sequence = isinstance(values, Sequence) and not isinstance(values, str)
    if not is_sequence or not values or not all(_is_positive_int(v) for v in values):
        raise ValueError(
            f"`{name}` must be a non-empty sequence of positive integers. "
            f"Received: {name}={values!r}"
        )
    return tuple(values)


def check_rate(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be a float in [0, 1). Received: {name}={value!r}")
    return float(value)
