"""What a language model's `generate` was given: text or token ids."""

from __future__ import annotations

import numpy as np
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


def text_tensor(inputs) -> tf.Tensor:
    """Strings (a `str`, a list of them or a string tensor of any shape) as a string `[batch]`.

    Example:

    ```python
    text_tensor("Hello").shape  # (1,)
    ```
    """
    if isinstance(inputs, tf.Tensor):
        return tf.reshape(inputs, [-1])
    return tf.constant([inputs] if isinstance(inputs, str) else list(inputs))


def token_id_array(name: str, inputs) -> np.ndarray:
    """`inputs` as an integer array `[batch, length]`, or a `ValueError` naming `name`.

    Example:

    ```python
    token_id_array("prompts", [[1, 2, 3]]).shape  # (1, 3)
    ```
    """
    token_ids = np.asarray(inputs)
    if token_ids.ndim != 2 or not np.issubdtype(token_ids.dtype, np.integer):
        raise ValueError(
            f"`{name}` must be strings or int token ids of shape [batch, length]. "
            f"Received: {name} of dtype {token_ids.dtype} and shape {token_ids.shape}"
        )
    return token_ids


def require_preprocessor(model, name: str, inputs, preprocessor_class: str):
    """The model's preprocessor, or a `ValueError` saying string `inputs` need one.

    Example:

    ```python
    preprocessor = require_preprocessor(lm, "prompts", prompts, "GPT2Preprocessor")
    ```
    """
    preprocessor = getattr(model, "preprocessor", None)
    if preprocessor is None:
        raise ValueError(
            f"String {name} need a `preprocessor`; pass token ids or build the model with a "
            f"{preprocessor_class}. Received: {name}={inputs!r}"
        )
    return preprocessor
