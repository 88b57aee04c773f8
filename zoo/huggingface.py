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

Converter = Callable[..., keras.Model]
_CONVERTERS: dict[str, tuple[Converter, tuple[str, ...] | None]] = {}


def register_converter(
    model_type: str, tasks: tuple[str, ...] | None = None
) -> Callable[[Converter], Converter]:
    """Registers a converter for a Hugging Face `model_type`.

    Without `tasks` the converter is `fn(config, weights, directory) -> keras.Model` and builds
    the backbone. With `tasks` (e.g. `("backbone", "causal_lm")`; the first is the default) it is
    `fn(config, weights, directory, task=...)` and builds the model for the task asked for.
    `config` is the parsed `config.json`, `weights` maps tensor names to NumPy arrays from
    `model.safetensors`, `directory` is the checkpoint directory (for vocabularies and the like).
    """
    if tasks is not None and (not tasks or not all(isinstance(t, str) for t in tasks)):
        raise ValueError(f"`tasks` must be a non-empty tuple of names. Received: tasks={tasks!r}")

    def decorator(fn: Converter) -> Converter:
        if model_type in _CONVERTERS:
            raise ValueError(
                f"A converter for model_type {model_type!r} is already registered. "
                f"Received: model_type={model_type!r}"
            )
        _CONVERTERS[model_type] = (fn, None if tasks is None else tuple(tasks))
        return fn

    return decorator


def supported_tasks(model_type: str) -> tuple[str, ...]:
    """The `task` values `from_huggingface` accepts for a `model_type`; the first is the default."""
    if model_type not in _CONVERTERS:
        raise ValueError(
            f"Unsupported Hugging Face model_type {model_type!r}; supported: "
            f"{supported_model_types()}. Received: model_type={model_type!r}"
        )
    return _CONVERTERS[model_type][1] or ("backbone",)


def supported_model_types() -> list[str]:
    return sorted(_CONVERTERS)


def load_safetensors(path: str) -> dict:
    """Reads a `.safetensors` file into a dict of NumPy arrays."""
    from safetensors.numpy import load_file

    return load_file(path)


def from_huggingface(directory: str, task: str | None = None) -> keras.Model:
    """Builds the zoo model matching a local Hugging Face checkpoint and loads its weights.

    Args:
        directory: a directory holding `config.json` and `model.safetensors` (as written by
            `transformers`' `save_pretrained(..., safe_serialization=True)`).
        task: which model to build for families that convert heads as well (e.g. `"causal_lm"`
            for GPT-2; `supported_tasks(model_type)` lists them). Defaults to the family's
            first task, the backbone for most.

    Returns:
        A built Keras model with the checkpoint's weights.

    Raises:
        FileNotFoundError: a file is missing.
        ValueError: the `model_type` has no converter, the family has no such `task`, or the
            configuration is unsupported.

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
    tasks = supported_tasks(model_type)
    if task is not None and task not in tasks:
        raise ValueError(
            f"Hugging Face model_type {model_type!r} converts to tasks {list(tasks)}. "
            f"Received: task={task!r}"
        )
    fn, declared_tasks = _CONVERTERS[model_type]
    weights = load_safetensors(weights_path)
    if declared_tasks is None:
        return fn(config, weights, directory)
    return fn(config, weights, directory, task=task or declared_tasks[0])
