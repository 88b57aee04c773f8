"""An argument check the text package needs and `layers/validation.py` does not have yet.

It follows that module's conventions (returns the value, names the argument and quotes what it
received) and belongs there once its owner adds it.
"""

from __future__ import annotations


def check_int_at_least(name: str, value, minimum: int, why: str = "") -> int:
    """An integer `>= minimum`; `why` says where the bound comes from (e.g. the special tokens).

    Example:

    ```python
    check_int_at_least("sequence_length", 2, 3, "room for [CLS] and [SEP]")  # ValueError
    ```
    """
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        reason = f" ({why})" if why else ""
        raise ValueError(
            f"`{name}` must be an integer of at least {minimum}{reason}. Received: {name}={value!r}"
        )
    return value
