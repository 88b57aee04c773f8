"""`zoo.from_huggingface`: build a zoo backbone from a local Hugging Face checkpoint directory.

A model family registers a converter for each Hugging Face `model_type` it understands; the
converter reads `config.json` (already parsed) and the `model.safetensors` weights and returns a
built Keras model with those weights. Nothing is downloaded: the directory must hold the files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import keras

Converter = Callable[[dict, dict, str], keras.Model]
_CONVERTERS: dict[str, Converter] = {}


def register_converter(model_type: str) -> Callable[[Converter], Converter]:
    """Registers `fn(config, weights, directory) -> keras.Model` for a Hugging Face `model_type`.

    `config` is the parsed `config.json`, `weights` maps tensor names to NumPy arrays from
    `model.safetensors`, `directory` is the checkpoint directory (for vocabularies and the like).
    """

    def decorator(fn: Converter) -> Converter:
        if model_type in _CONVERTERS:
            raise ValueError(
                f"A converter for model_type {model_type!r} is already registered. "
                f"Received: model_type={model_type!r}"
            )
        _CONVERTERS[model_type] = fn
        return fn

    return decorator


def supported_model_types() -> list[str]:
    return sorted(_CONVERTERS)


def load_safetensors(path: str) -> dict:
    """Reads a `.safetensors` file into a dict of NumPy arrays."""
    from safetensors.numpy import load_file

    return load_file(path)


def from_huggingface(directory: str) -> keras.Model:
    """Builds the zoo backbone matching a local Hugging Face checkpoint and loads its weights.

    Args:
        directory: a directory holding `config.json` and `model.safetensors` (as written by
            `transformers`' `save_pretrained(..., safe_serialization=True)`).

    Returns:
        A built Keras model with the checkpoint's weights.

    Raises:
        FileNotFoundError: a file is missing.
        ValueError: the `model_type` has no converter, or the configuration is unsupported.

    Example:

    ```python
    backbone = zoo.from_huggingface("checkpoints/vit-base-patch16-224")
    ```
    """
    config_path = os.path.join(directory, "config.json")
    weights_path = os.path.join(directory, "model.safetensors")
    for path in (config_path, weights_path):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No {os.path.basename(path)} in {directory!r}")
    with open(config_path) as f:
        config = json.load(f)
    model_type = config.get("model_type")
    if model_type not in _CONVERTERS:
        raise ValueError(
            f"Unsupported Hugging Face model_type {model_type!r}; supported: "
            f"{supported_model_types()}. Received: model_type={model_type!r}"
        )
    return _CONVERTERS[model_type](config, load_safetensors(weights_path), directory)
