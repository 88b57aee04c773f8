"""T5's `generate` serving signature: texts in, generated texts out."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from layers.validation import check_int_at_least
from zoo.text.generation.compiled import compile_generate_graph, generation_options


def t5_generate_signature(
    model, max_length: int, sampler="greedy", jit_compile: bool = True, **options: Any
) -> tf.types.experimental.PolymorphicFunction:
    """A `tf.function` for `serving.export(..., signatures={"generate": ...})`: strings in,
    strings out, T5's cached generation compiled inside.

    The texts are tokenized by the model's `T5Preprocessor` (in the graph), the model's
    `generate_graph` decodes `max_length` tokens (decoder start token included) and the rows are
    detokenized up to `</s>`, without sentinels. (`zoo.text.generation.generate_signature` is
    the decoder-only one: it continues prompts; an encoder-decoder maps inputs to new text.)

    Args:
        model: a `T5Seq2SeqLM` with a `preprocessor`.
        max_length: decoder tokens per row, the start token included; at least 2.
        sampler: a sampler name or `Sampler` (see `get_sampler`). Defaults to `"greedy"`.
        jit_compile: compile the generation loop with XLA. Defaults to `True`.
        **options: `generate_ids` options (`seed`, `num_beams`, `top_k`, `top_p`,
            `temperature`, `length_penalty`).

    Returns:
        A `tf.function` taking `inputs` (string `[batch]`) and returning `{"text": string
        [batch], "token_ids": int32 [batch, max_length]}`.

    Example:

    ```python
    serving.export(model, "models", "t5",
                   signatures={"generate": t5_generate_signature(model, max_length=32)})
    tf.saved_model.load("models/t5/1").signatures["generate"](inputs=tf.constant(["Hi"]))
    ```
    """
    check_int_at_least("max_length", max_length, 2, "the start token and one more")
    preprocessor = getattr(model, "preprocessor", None)
    if preprocessor is None:
        raise ValueError(
            "t5_generate_signature needs a model with a `preprocessor` (strings in, strings "
            f"out). Received: model={model.name!r} without one"
        )
    options = generation_options(
        sampler, **options, end_token_id=model.end_token_id, pad_token_id=model.pad_token_id
    )
    generate_ids = compile_generate_graph(model.generate_graph, max_length, jit_compile, options)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
    def generate(inputs):
        packed = preprocessor.generation_inputs(inputs)
        ids = generate_ids(packed["encoder_token_ids"], packed["encoder_padding_mask"])
        return {"text": preprocessor.detokenize(ids), "token_ids": ids}

    return generate
