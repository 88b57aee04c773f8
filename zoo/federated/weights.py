"""Moving a Keras model's weights to and from the list of NumPy arrays Flower sends."""

from __future__ import annotations

import keras
import numpy as np


def get_weights(model: keras.Model) -> list[np.ndarray]:
    """All of `model`'s weights (trainable and not, e.g. batch-norm statistics), in order.

    Args:
        model: a built Keras model.

    Returns:
        One NumPy array per entry of `model.weights`.

    Example:

    ```python
    arrays = get_weights(model)  # what a Flower client sends
    ```
    """
    return [np.asarray(keras.ops.convert_to_numpy(w)) for w in model.weights]


def set_weights(model: keras.Model, arrays) -> None:
    """Assigns `arrays` to `model.weights` after checking their number and every shape.

    Nothing is assigned unless every array fits, so a bad update leaves the model as it was.

    Args:
        model: a built Keras model.
        arrays: one array per entry of `model.weights`, in the same order.

    Raises:
        ValueError: the count differs, or an array's shape differs from its weight's (the
            message names the weight and both shapes).

    Example:

    ```python
    set_weights(model, parameters)  # from the server
    ```
    """
    arrays = list(arrays)
    weights = model.weights
    if len(arrays) != len(weights):
        raise ValueError(
            f"The model has {len(weights)} weights but {len(arrays)} arrays were received. "
            f"Received: len(arrays)={len(arrays)}"
        )
    arrays = [np.asarray(a) for a in arrays]
    for weight, array in zip(weights, arrays, strict=True):
        if tuple(weight.shape) != tuple(array.shape):
            raise ValueError(
                f"Weight `{weight.path}` has shape {tuple(weight.shape)} but the array received "
                f"for it has shape {tuple(array.shape)}. Received: shape={tuple(array.shape)}"
            )
    for weight, array in zip(weights, arrays, strict=True):
        weight.assign(array.astype(weight.dtype))
