"""What the explainers share: checking inputs against the model, and the class scores."""

from __future__ import annotations

import numbers

import keras
import numpy as np
import tensorflow as tf


def check_model_input(model: keras.Model, name: str, value, rank: int | None = None) -> np.ndarray:
    """`value` as a float32 array with a batch axis, shaped like `model`'s (single) input.

    Args:
        model: the model; its `inputs` (when it has them) give the expected shape.
        name: the argument's name in the error message.
        value: the array.
        rank: the rank `value` must have, where the model does not say. Defaults to `None`.

    Returns:
        The float32 array.
    """
    array = np.asarray(value)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"`{name}` must be a numeric array. Received: {name}={value!r}")
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) > 1:
        raise ValueError(
            f"The model takes {len(inputs)} inputs; explainers take models with one input. "
            f"Received: model={model.name!r}"
        )
    expected = tuple(inputs[0].shape[1:]) if inputs else None
    rank = 1 + len(expected) if expected is not None else rank
    fits = rank is None or array.ndim == rank
    if fits and expected is not None:
        fits = all(e is None or e == a for e, a in zip(expected, array.shape[1:], strict=True))
    if not fits or array.shape[0] == 0:
        shape = "(batch, " + ", ".join(str(e) for e in expected) + ")" if expected else "batched"
        raise ValueError(
            f"`{name}` must be shaped {shape}, like the model's input, with at least one "
            f"example (add a batch axis to a single one). Received: {name}.shape={array.shape}"
        )
    return array.astype("float32")


def class_scores(outputs) -> tf.Tensor:
    """The `(batch, classes)` float32 scores of a model's outputs (a tensor, or one in a list or
    dict). Zoo classifiers output logits, which is what Grad-CAM and integrated gradients
    differentiate; a model ending in a softmax gives probabilities instead."""
    if isinstance(outputs, dict | list | tuple):
        values = list(outputs.values()) if isinstance(outputs, dict) else list(outputs)
        if len(values) != 1:
            raise ValueError(
                f"The model must have one output to explain; it has {len(values)}. "
                f"Received: outputs with {len(values)} entries"
            )
        outputs = values[0]
    if len(outputs.shape) == 1:
        outputs = outputs[:, None]
    if len(outputs.shape) != 2:
        raise ValueError(
            "The model's output must be (batch, classes) scores. "
            f"Received: output shape {tuple(outputs.shape)}"
        )
    return tf.cast(outputs, "float32")


def check_class_index(name: str, value, num_classes: int, batch: int) -> np.ndarray:
    """One class index per example: `value` an integer (the same for all) or one per example.

    Args:
        name: the argument's name in the error message.
        value: an integer or a sequence of `batch` integers.
        num_classes: the number of classes; indices must be in `[0, num_classes)`.
        batch: the number of examples.

    Returns:
        An int32 array of `batch` indices.
    """
    array = np.asarray(value)
    integral = array.dtype != bool and np.issubdtype(array.dtype, np.integer)
    if array.ndim == 0 and not isinstance(value, numbers.Integral | np.ndarray):
        integral = False
    if not integral or array.ndim > 1 or (array.ndim == 1 and len(array) != batch):
        raise ValueError(
            f"`{name}` must be an integer or {batch} integers (one per example). "
            f"Received: {name}={value!r}"
        )
    if np.any(array < 0) or np.any(array >= num_classes):
        raise ValueError(
            f"`{name}` must be in [0, {num_classes}): the model has {num_classes} output(s). "
            f"Received: {name}={value!r}"
        )
    return np.broadcast_to(array, (batch,)).astype("int32")


def scores_of(outputs, classes: np.ndarray) -> tf.Tensor:
    """`(batch,)` score of each example's class in the model's `outputs`."""
    return tf.gather(class_scores(outputs), classes, axis=1, batch_dims=1)
