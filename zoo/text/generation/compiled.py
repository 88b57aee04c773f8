"""Compiled generation loops: one `tf.function` per setting, kept on a model but never saved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from zoo.text.generation.samplers import get_sampler

GenerateGraph = Callable[..., tf.Tensor]

SAMPLER_SETTINGS = ("temperature", "top_k", "top_p", "num_beams", "length_penalty")


def generation_options(sampler="greedy", **options: Any) -> dict[str, Any]:
    """Checks a sampler and its settings (see `get_sampler`) and returns every option for
    `generate_ids` in one dict, `sampler` included.

    Example:

    ```python
    generation_options("top_k", top_k=10, seed=0)  # {"sampler": "top_k", "top_k": 10, "seed": 0}
    ```
    """
    get_sampler(sampler, **{k: options[k] for k in SAMPLER_SETTINGS if k in options})
    return {**options, "sampler": sampler}


def compile_generate_graph(
    generate_graph: GenerateGraph, max_length: int, jit_compile: bool, options: dict[str, Any]
) -> tf.types.experimental.PolymorphicFunction:
    """`generate_graph(token_ids, padding_mask, max_length, **options)` as one `tf.function`
    of `(token_ids, padding_mask)`, compiled with XLA when `jit_compile`.

    Example:

    ```python
    run = compile_generate_graph(lm.generate_graph, 32, True, {"sampler": "greedy"})
    ids = run(token_ids, padding_mask)
    ```
    """

    def run(token_ids, padding_mask):
        return generate_graph(token_ids, padding_mask, max_length, **options)

    return tf.function(run, jit_compile=jit_compile, autograph=False)


class GenerateFunctions:
    """A model's compiled generation loops, one per `(max_length, jit_compile, options)`.

    A language model keeps one of these so repeated `generate` calls with the same settings
    reuse the traced (and XLA-compiled) loop. It is a plain object on purpose: a dict attribute
    would be wrapped by Keras/TensorFlow tracking for checkpointing, and with tuple keys that
    wrapper refuses to be saved, so `serving.export` after `generate` would fail.

    Example:

    ```python
    self._generate_functions = GenerateFunctions()  # in the model's __init__
    run = self._generate_functions.get(self.generate_graph, 32, True, {"sampler": "greedy"})
    ```
    """

    def __init__(self):
        self._functions: dict[tuple, tf.types.experimental.PolymorphicFunction] = {}

    def __len__(self) -> int:
        return len(self._functions)

    def get(
        self,
        generate_graph: GenerateGraph,
        max_length: int,
        jit_compile: bool,
        options: dict[str, Any],
    ) -> tf.types.experimental.PolymorphicFunction:
        """The compiled loop for these settings, traced on first use (see
        `compile_generate_graph`)."""
        key = (max_length, jit_compile, *sorted((k, repr(v)) for k, v in options.items()))
        if key not in self._functions:
            self._functions[key] = compile_generate_graph(
                generate_graph, max_length, jit_compile, options
            )
        return self._functions[key]
