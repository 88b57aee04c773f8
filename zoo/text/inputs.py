"""The text models' inputs: which ones a model takes, and example batches for the registry."""

from __future__ import annotations

import keras
import numpy as np


def model_input_names(model: keras.Model) -> list[str]:
    """The names of the inputs `model` declares (dict keys, or the input tensors' names)."""
    if isinstance(model.input, dict):
        return list(model.input)
    return [tensor.name for tensor in model.inputs]


def select_model_inputs(model: keras.Model, inputs):
    """The entries of a dict of inputs that `model` declares (DistilBERT has no `segment_ids`)."""
    if not isinstance(inputs, dict):
        return inputs
    return {name: inputs[name] for name in model_input_names(model)}


def token_inputs(model, batch_size: int, length: int = 8) -> dict[str, np.ndarray]:
    """Random token ids, zero/one segments and a padding mask with padding at the end.

    Only the inputs the model declares are returned; row `i` has `length - i % 3` real tokens.
    """
    rng = np.random.default_rng(0)
    vocabulary_size = int(getattr(model, "backbone", model).vocabulary_size)
    lengths = length - np.arange(batch_size) % 3
    mask = (np.arange(length)[None, :] < lengths[:, None]).astype("int32")
    arrays = {
        "token_ids": (rng.integers(1, vocabulary_size, size=(batch_size, length)) * mask).astype(
            "int32"
        ),
        "segment_ids": (np.arange(length)[None, :] >= length // 2).astype("int32")
        * mask
        * np.ones((batch_size, 1), "int32"),
        "padding_mask": mask,
    }
    names = [t.name for t in model.inputs] if isinstance(model.inputs, list) else list(model.inputs)
    wanted = {name for name in arrays if any(n.startswith(name) for n in names)}
    return {name: arrays[name] for name in arrays if name in wanted}


def masked_lm_inputs(model, batch_size: int) -> dict[str, np.ndarray]:
    """`token_inputs` plus `mask_positions` 0, 1, ... `num_masked - 1` in every row."""
    inputs = token_inputs(model, batch_size)
    positions = np.tile(np.arange(model.num_masked, dtype="int32"), (batch_size, 1))
    return {**inputs, "mask_positions": positions}
