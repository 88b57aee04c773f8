"""Argument checks shared by every keras-zoo component.

Each check returns the value (normalised where it says so) or raises an error that names the
argument and quotes the value received, e.g. "`units` must be a positive integer.
Received: units=0".

Python's `bool` is never accepted as a number. NumPy scalars (`np.int64(3)`, `np.float32(0.5)`)
are accepted only where a check says `allow_numpy=True`, for arguments that are often computed
with NumPy (environment counts, buffer sizes, versions, shard counts); elsewhere a value that ends
up in a layer's config must be a plain Python number.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np


def _is_int(value, allow_numpy: bool = False) -> bool:
    kind = numbers.Integral if allow_numpy else int
    return isinstance(value, kind) and not isinstance(value, bool)


def _is_number(value, allow_numpy: bool = False) -> bool:
    kind = numbers.Real if allow_numpy else int | float
    return isinstance(value, kind) and not isinstance(value, bool)


def _or_none(allow_none: bool) -> str:
    return " or None" if allow_none else ""


def is_positive_int(value, allow_numpy: bool = False) -> bool:
    return _is_int(value, allow_numpy) and value > 0


def check_positive_int(
    name: str, value, *, allow_none: bool = False, allow_numpy: bool = False
) -> int | None:
    if allow_none and value is None:
        return None
    if not is_positive_int(value, allow_numpy):
        raise ValueError(
            f"`{name}` must be a positive integer{_or_none(allow_none)}. Received: {name}={value!r}"
        )
    return value


def check_non_negative_int(
    name: str, value, *, allow_none: bool = False, allow_numpy: bool = False
) -> int | None:
    if allow_none and value is None:
        return None
    if not _is_int(value, allow_numpy) or value < 0:
        raise ValueError(
            f"`{name}` must be a non-negative integer{_or_none(allow_none)}. "
            f"Received: {name}={value!r}"
        )
    return value


def check_int_in_range(
    name: str,
    value,
    low: int,
    high: int,
    *,
    include_high: bool = True,
    high_name: str | None = None,
    allow_numpy: bool = False,
) -> int:
    """An integer in `[low, high]`, or in `[low, high)` with `include_high=False`.

    `high_name` names the bound in the message when it comes from another argument, e.g.
    "`rewind_epochs` must be an integer in [0, epochs=3). Received: rewind_epochs=3".
    """
    is_int = _is_int(value, allow_numpy)
    if not is_int or value < low or (value > high if include_high else value >= high):
        bound = f"{high_name}={high}" if high_name else f"{high}"
        interval = f"[{low}, {bound}{']' if include_high else ')'}"
        raise ValueError(f"`{name}` must be an integer in {interval}. Received: {name}={value!r}")
    return value


def check_int_at_least(name: str, value, minimum: int, why: str = "") -> int:
    """An integer `>= minimum`; `why` says where the bound comes from.

    Example:

    ```python
    check_int_at_least("sequence_length", 2, 3, "room for [CLS] and [SEP]")  # ValueError
    ```
    """
    if not _is_int(value) or value < minimum:
        reason = f" ({why})" if why else ""
        raise ValueError(
            f"`{name}` must be an integer of at least {minimum}{reason}. Received: {name}={value!r}"
        )
    return value


def check_positive_ints(name: str, values, *, allow_numpy: bool = False) -> tuple[int, ...]:
    """A non-empty sequence of positive integers, returned as a tuple."""
    is_sequence = isinstance(values, Sequence) and not isinstance(values, str)
    if not is_sequence or not values or not all(is_positive_int(v, allow_numpy) for v in values):
        raise ValueError(
            f"`{name}` must be a non-empty sequence of positive integers. "
            f"Received: {name}={values!r}"
        )
    return tuple(values)


def check_int_pair(name: str, value) -> tuple[int, int]:
    """A positive integer or a pair of them; returns the pair."""
    pair = (value, value) if _is_int(value) else value
    if not isinstance(pair, tuple | list) or len(pair) != 2 or not all(map(is_positive_int, pair)):
        raise ValueError(
            f"`{name}` must be a positive integer or a pair of positive integers. "
            f"Received: {name}={value!r}"
        )
    return tuple(pair)


def check_positive_float(
    name: str, value, allow_none: bool = False, *, allow_numpy: bool = False
) -> float | None:
    if allow_none and value is None:
        return None
    if not _is_number(value, allow_numpy) or not value > 0:
        raise ValueError(f"`{name}` must be a positive number. Received: {name}={value!r}")
    return float(value)


def check_non_negative_float(name: str, value, *, allow_numpy: bool = False) -> float:
    if not _is_number(value, allow_numpy) or not value >= 0:
        raise ValueError(f"`{name}` must be a non-negative number. Received: {name}={value!r}")
    return float(value)


def check_finite_number_above(name: str, value, low: float, *, inclusive: bool = True) -> float:
    """A finite number `>= low` (`> low` with `inclusive=False`), returned as a float."""
    ok = _is_number(value) and math.isfinite(value)
    if not ok or not (value >= low if inclusive else value > low):
        relation = ">=" if inclusive else ">"
        raise ValueError(f"`{name}` must be a number {relation} {low}. Received: {name}={value!r}")
    return float(value)


def check_number_pair(name: str, value) -> tuple[float, float]:
    """A list or tuple of exactly two numbers, returned as a tuple of floats."""
    if not isinstance(value, list | tuple) or len(value) != 2 or not all(map(_is_number, value)):
        raise ValueError(f"`{name}` must be a pair of numbers. Received: {name}={value!r}")
    return float(value[0]), float(value[1])


def check_unit_interval(name: str, value, *, include_low: bool, include_high: bool) -> float:
    """A number in [0, 1], with each end open or closed as asked."""
    ok = _is_number(value) and (
        (value > 0 or (include_low and value == 0)) and (value < 1 or (include_high and value == 1))
    )
    if not ok:
        interval = f"{'[' if include_low else '('}0, 1{']' if include_high else ')'}"
        raise ValueError(f"`{name}` must be a number in {interval}. Received: {name}={value!r}")
    return float(value)


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


def check_choice(name: str, value, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {list(choices)}. Received: {name}={value!r}")
    return value


def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be a bool. Received: {name}={value!r}")
    return value


def check_optional_seed(name: str, value) -> int | None:
    if value is not None and not _is_int(value):
        raise TypeError(f"`{name}` must be an integer or None. Received: {name}={value!r}")
    return value


def check_edge_index(edge_index, num_nodes, name: str = "edge_index") -> np.ndarray:
    """A graph's edges as a `[2, num_edges]` integer array of node ids in `[0, num_nodes)`.

    Row 0 holds the sources and row 1 the targets. A host-side (NumPy) check, for
    `zoo.graph.Graph` and for graph layers called on concrete tensors. An error names the first
    offending edge, e.g. "`edge_index[:, 3] = (2, 7)` refers to node 7, but the graph has 5
    nodes. Received: edge_index with value 7".

    Args:
        edge_index: anything `np.asarray` turns into a `[2, E]` integer array (an empty edge
            list may have any dtype).
        num_nodes: the number of nodes of the graph.
        name: the argument's name in messages. Defaults to `"edge_index"`.

    Returns:
        The array, as int32 when it is int32 and as int64 otherwise (no copy when it already is).
    """
    check_non_negative_int("num_nodes", num_nodes, allow_numpy=True)
    array = np.asarray(edge_index)
    if array.ndim != 2 or array.shape[0] != 2:
        raise ValueError(
            f"`{name}` must have shape [2, num_edges] (row 0 the sources, row 1 the targets). "
            f"Received: shape={array.shape}"
        )
    if array.size == 0 and array.dtype.kind in "biuf":
        return array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise ValueError(f"`{name}` must hold integers (node ids). Received: dtype={array.dtype}")
    bad = (array < 0) | (array >= num_nodes)
    if bad.any():
        column = int(np.flatnonzero(bad.any(axis=0))[0])
        source, target = (int(v) for v in array[:, column])
        value = source if bad[0, column] else target
        reason = "node ids are non-negative" if value < 0 else f"the graph has {num_nodes} nodes"
        raise ValueError(
            f"`{name}[:, {column}] = ({source}, {target})` refers to node {value}, but {reason}. "
            f"Received: {name} with value {value}"
        )
    return array if array.dtype == np.int32 else array.astype(np.int64, copy=False)
