"""Example inputs for the text models' registry entries."""

from __future__ import annotations

import numpy as np


def token_inputs(model, batch_size: int, length: int = 8) -> dict[str, np.ndarray]:
    """Random token ids, zero/one segments and a padding mask with padding at the end.

    Only the inputs the model declares are returned; row `i` has `length - i % 3` real tokens.
    """
    rng = np.random.default_rng(0)
    vocabulary_size = _vocabulary_size(model)
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


def _vocabulary_size(model) -> int:
    backbone = getattr(model, "backbone", model)
    return int(backbone.vocabulary_size)
