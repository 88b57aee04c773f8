"""The `generate` serving signature: prompts as strings in, generated text out."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from layers.validation import check_positive_int
from zoo.text.generation.compiled import compile_generate_graph, generation_options


def generate_signature(
    causal_lm, max_length: int, sampler="greedy", jit_compile: bool = True, **options: Any
) -> tf.types.experimental.PolymorphicFunction:
    """A `tf.function` for `serving.export(..., signatures={"generate": ...})`: strings in, text
    out, generation compiled with XLA inside.

    The prompts are tokenized in the graph by the model's preprocessor and padded on the left;
    the model's cached `generate_graph` continues them to `max_length` tokens; the rows are
    detokenized without special tokens. A prompt of `max_length` tokens or more fails the
    request with a message that says so.

    Args:
        causal_lm: a language model with a `preprocessor` and `generate_graph(token_ids,
            padding_mask, max_length, **options)` (e.g. `GPT2CausalLM`).
        max_length: total tokens per row, prompt included.
        sampler: a sampler name or `Sampler` (see `get_sampler`). Defaults to `"greedy"`.
        jit_compile: compile the generation loop with XLA. Defaults to `True`.
        **options: `generate_ids` options (`seed`, `num_beams`, `top_k`, `top_p`,
            `temperature`, `length_penalty`); the end and pad ids default to the model's.

    Returns:
        A `tf.function` taking `prompts` (string `[batch]`) and returning `{"text": string
        [batch], "token_ids": int32 [batch, max_length]}` (prompt included, left-padded).

    Example:

    ```python
    serving.export(lm, "models", "gpt2",
                   signatures={"generate": generate_signature(lm, max_length=64)})
    tf.saved_model.load("models/gpt2/1").signatures["generate"](prompts=tf.constant(["Hi"]))
    ```
    """
    check_positive_int("max_length", max_length)
    preprocessor = getattr(causal_lm, "preprocessor", None)
    if preprocessor is None:
        raise ValueError(
            "generate_signature needs a model with a `preprocessor` (strings in, strings out). "
            f"Received: causal_lm={causal_lm.name!r} without one"
        )
    end = options.pop("end_token_id", causal_lm.stop_token_id)
    pad = options.pop("pad_token_id", 0 if end is None else end)
    options = generation_options(sampler, **options, end_token_id=end, pad_token_id=pad)
    generate_ids = compile_generate_graph(
        causal_lm.generate_graph, max_length, jit_compile, options
    )

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="prompts")])
    def generate(prompts):
        packed = preprocessor.prompts(prompts)
        token_ids, padding_mask = packed["token_ids"], packed["padding_mask"]
        prompt_length = tf.shape(token_ids)[1]
        check = tf.debugging.assert_less(
            prompt_length,
            max_length,
            message=f"The longest prompt must have fewer than max_length={max_length} tokens",
        )
        with tf.control_dependencies([check]):
            ids = generate_ids(token_ids, padding_mask)
        new = tf.ones_like(ids[:, prompt_length:])
        mask = tf.concat([padding_mask, new], axis=1)
        return {"text": preprocessor.detokenize(ids, mask), "token_ids": ids}

    return generate
