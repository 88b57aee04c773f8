"""Argument checks shared by the convolution and regularization layers."""

from __future__ import annotations


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_positive_int(name: str, value) -> int:
    if not _is_int(value) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return value


def check_int_pair(name: str, value) -> tuple[int, int]:
    """Accepts a positive integer or a pair of them; returns the pair."""
    pair = (value, value) if _is_int(value) else value
    if (
        not isinstance(pair, tuple | list)
        or len(pair) != 2
        or not all(_is_int(v) and v > 0 for v in pair)
    ):
        raise ValueError(
            f"`{name}` must be a positive integer or a pair of positive integers. "
            f"Received: {name}={value!r}"
        )
    return tuple(pair)


def check_rate(name: str, value) -> float:
    """A drop rate in [0, 1)."""
    if not _is_number(value) or not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be a float in [0, 1). Received: {name}={value!r}")
    return float(value)


def check_probability_open_closed(name: str, value) -> float:
    """A keep probability in (0, 1]."""
    if not _is_number(value) or not 0.0 < value <= 1.0:
        raise ValueError(f"`{name}` must be a float in (0, 1]. Received: {name}={value!r}")
    return float(value)


def check_non_negative(name: str, value) -> float:
    if not _is_number(value) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative number. Received: {name}={value!r}")
    return float(value)


def check_positive(name: str, value) -> float:
    if not _is_number(value) or value <= 0:
        raise ValueError(f"`{name}` must be a positive number. Received: {name}={value!r}")
    return float(value)


def check_choice(name: str, value, choices: tuple) -> str:
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {choices}. Received: {name}={value!r}")
    return value


def check_optional_seed(name: str, value) -> int | None:
    if value is not None and not _is_int(value):
        raise TypeError(f"`{name}` must be an integer or None. Received: {name}={value!r}")
    return value
