"""Checked weight assignment for every Hugging Face converter (vision and text)."""

from __future__ import annotations

import numpy as np


class WeightLoader:
    """Reads Hugging Face tensors by name and assigns them with shape checks.

    Errors name the Hugging Face parameter (and the checkpoint directory, when given), so a
    mismatched checkpoint says what is wrong.

    Args:
        weights: Hugging Face parameter name -> array, as read from `model.safetensors`.
        prefixes: prefixes of task checkpoints' backbone parameters (e.g. `"vit."`); the first
            one that some name starts with is stripped, and names without it are dropped.
            Defaults to `()`.
        directory: the checkpoint directory, named in the missing-parameter error. Defaults to
            `None`.

    Example:

    ```python
    loader = WeightLoader(weights, prefixes=("bert.",), directory=directory)
    loader.dense(backbone.get_layer("pooled_dense"), "pooler.dense")
    ```
    """

    def __init__(self, weights: dict, prefixes: tuple[str, ...] = (), directory: str | None = None):
        # Task checkpoints (e.g. `ViTForImageClassification`) prefix the backbone's names.
        for prefix in prefixes:
            if any(name.startswith(prefix) for name in weights):
                weights = {k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}
                break
        self.weights = weights
        self.directory = directory

    def get(self, name: str) -> np.ndarray:
        if name not in self.weights:
            source = "The checkpoint"
            if self.directory is not None:
                source = f"model.safetensors in {self.directory!r}"
            raise ValueError(
                f"{source} has no parameter {name!r} "
                f"({len(self.weights)} parameters found). Received: parameter={name!r}"
            )
        return np.asarray(self.weights[name], dtype="float32")

    def assign(self, variable, value: np.ndarray, name: str) -> None:
        """Assigns `value` (already laid out for Keras) to `variable`, checking the shape."""
        if tuple(variable.shape) != tuple(value.shape):
            raise ValueError(
                f"Shape mismatch for parameter {name!r}: the checkpoint gives {value.shape}, "
                f"the model's {variable.path} is {tuple(variable.shape)}. "
                f"Received: parameter={name!r}"
            )
        variable.assign(value)

    def dense(self, layer, name: str) -> None:
        """A torch `Linear` (weight `(out, in)`) into a keras `Dense`."""
        self.assign(layer.kernel, self.get(f"{name}.weight").T, f"{name}.weight")
        self.assign(layer.bias, self.get(f"{name}.bias"), f"{name}.bias")

    def embedding(self, layer, name: str) -> None:
        """A torch `Embedding` (`(rows, width)`, the same layout) into a keras embedding table."""
        self.assign(layer.embeddings, self.get(name), name)

    def layer_norm(self, layer, name: str) -> None:
        self.assign(layer.gamma, self.get(f"{name}.weight"), f"{name}.weight")
        self.assign(layer.beta, self.get(f"{name}.bias"), f"{name}.bias")

    def conv(self, layer, name: str) -> None:
        """A torch `Conv2d` (`(out, in, kh, kw)`) into a keras `Conv2D` (`(kh, kw, in, out)`)."""
        kernel = self.get(f"{name}.weight").transpose(2, 3, 1, 0)
        self.assign(layer.kernel, kernel, f"{name}.weight")
        self.assign(layer.bias, self.get(f"{name}.bias"), f"{name}.bias")

    def attention(self, layer, names: dict, num_heads: int) -> None:
        """Torch q/k/v/output `Linear`s into a keras `MultiHeadAttention`.

        `names` maps `"query"`, `"key"`, `"value"`, `"output"` to Hugging Face module names.
        """
        for part in ("query", "key", "value"):
            dense = getattr(layer, f"_{part}_dense")
            weight = self.get(f"{names[part]}.weight").T
            bias = self.get(f"{names[part]}.bias")
            features = weight.shape[0]
            self.assign(
                dense.kernel, weight.reshape(features, num_heads, -1), f"{names[part]}.weight"
            )
            self.assign(dense.bias, bias.reshape(num_heads, -1), f"{names[part]}.bias")
        weight = self.get(f"{names['output']}.weight").T
        self.assign(
            layer._output_dense.kernel,
            weight.reshape(num_heads, -1, weight.shape[-1]),
            f"{names['output']}.weight",
        )
        self.assign(
            layer._output_dense.bias, self.get(f"{names['output']}.bias"), f"{names['output']}.bias"
        )


def check_config(config: dict, key: str, expected, allowed=None) -> None:
    """Rejects a Hugging Face config option this converter does not implement."""
    value = config.get(key, expected)
    ok = value == expected if allowed is None else value in allowed
    if not ok:
        raise ValueError(
            f"Unsupported Hugging Face config: {key}={value!r} (supported: "
            f"{allowed if allowed is not None else expected!r}). Received: {key}={value!r}"
        )
