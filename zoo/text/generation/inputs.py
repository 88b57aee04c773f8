"""What a language model's `generate` was given: text or token ids."""

from __future__ import annotations

import tensorflow as tf


def is_text(inputs) -> bool:
    """Whether `inputs` are strings (a `str`, a non-empty list of `str`/`bytes`, or a string
    tensor) rather than token ids.

    Example:

    ```python
    is_text(["Hello"])  # True
    is_text(np.array([[1, 2]]))  # False
    ```
    """
    if isinstance(inputs, str):
        return True
    if isinstance(inputs, tf.Tensor):
        return inputs.dtype == tf.string
    if isinstance(inputs, list | tuple):
        return len(inputs) > 0 and all(isinstance(p, str | bytes) for p in inputs)
    return False
