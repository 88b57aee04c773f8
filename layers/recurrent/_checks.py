"""Argument checks and config helpers shared by the recurrent layers."""

from __future__ import annotations

from collections.abc import Sequence

import keras


def is_positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def check_positive_int(name: str, value) -> int:
    if not is_positive_int(value):
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return value


def check_positive_ints(name: str, values) -> tuple[int, ...]:
    is_sequence = isinstance(values, Sequence) and not isinstance(values, str)
    if not is_sequence or not values or not all(is_positive_int(v) for v in values):
        raise ValueError(
            f"`{name}` must be a non-empty sequence of positive integers. "
            f"Received: {name}={values!r}"
        )
    return tuple(values)


def check_rate(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be a float in [0, 1). Received: {name}={value!r}")
    return float(value)


def check_positive_float(name: str, value, allow_none: bool = False) -> float | None:
    if allow_none and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"`{name}` must be a positive number. Received: {name}={value!r}")
    return float(value)


def check_choice(name: str, value, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {list(choices)}. Received: {name}={value!r}")
    return value


def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be a bool. Received: {name}={value!r}")
    return value


def serialize(value):
    """Returns strings and `None` as given (so configs echo what users passed), else a dict."""
    if value is None or isinstance(value, str | dict):
        return value
    return keras.saving.serialize_keras_object(value)
