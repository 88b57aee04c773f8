"""GPT-2's language model: tied output embeddings, and fast cached `generate`."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from layers.validation import check_int_at_least, check_non_negative_int
from zoo.models import Task
from zoo.text.generation import generate_ids
from zoo.text.generation.compiled import GenerateFunctions, generation_options
from zoo.text.generation.inputs import (
    is_text,
    require_preprocessor,
    text_tensor,
    token_id_array,
)
from zoo.text.gpt2.backbone import GPT2Backbone
from zoo.text.gpt2.preprocessor import GPT2Preprocessor


@keras.saving.register_keras_serializable(package="keras_zoo")
class GPT2CausalLM(Task):
    """Next-token prediction with GPT-2: the backbone, then the transposed token table.

    `generate` fills prompts up to `max_length` with a key/value cache (each new token runs one
    position through the network), the whole loop compiled into one XLA `tf.function`; prompts
    of different lengths are padded on the left. It takes strings (with a `preprocessor`) or
    token ids and returns the same kind.

    Args:
        backbone: a `GPT2Backbone`.
        preprocessor: an optional `GPT2Preprocessor` (needed for string prompts).
        end_token_id: the id that ends a generated row (`<|endoftext|>`, 50256, in the
            published vocabulary). Defaults to `None`: the preprocessor's `<|endoftext|>` if
            there is one, else rows run to `max_length`.
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Inputs: `{"token_ids", "padding_mask"}`. Outputs: float32 logits `(batch, length, vocab)`.

    The model comes compiled with AdamW (learning rate 1e-4, weight decay 0.01), sparse
    categorical cross-entropy on logits averaged over the real (weighted) tokens, as Hugging
    Face's language-model loss, and a weighted accuracy: fit it on `preprocessor.lm_examples`
    triples.

    Example:

    ```python
    lm = GPT2CausalLM(GPT2Backbone.from_preset("gpt2_small"), preprocessor)
    lm.generate(["The meaning of life is"], max_length=40, sampler="top_p", top_p=0.9, seed=1)
    lm.generate(np.array([[464, 3290]]), max_length=10)  # ids [1, 10], prompt included
    ```

    Reference:
        Radford et al., "Language Models are Unsupervised Multitask Learners", 2019.
    """

    backbone_class = GPT2Backbone
    default_learning_rate = 1e-4
    default_weight_decay = 0.01
    metrics_are_weighted = True
    loss_reduction = "mean_with_sample_weight"

    def __init__(self, backbone, preprocessor=None, end_token_id: int | None = None, **kwargs):
        if not isinstance(backbone, GPT2Backbone):
            raise TypeError(f"`backbone` must be a GPT2Backbone. Received: backbone={backbone!r}")
        if preprocessor is not None and not isinstance(preprocessor, GPT2Preprocessor):
            raise TypeError(
                "`preprocessor` must be a GPT2Preprocessor. "
                f"Received: preprocessor={preprocessor!r}"
            )
        check_non_negative_int("end_token_id", end_token_id, allow_none=True)
        dtype = self.dtype_policy_from(kwargs)
        inputs = dict(backbone.input)
        sequence = backbone(inputs)["sequence_output"]
        logits = ops.cast(backbone.token_embedding(sequence, reverse=True), "float32")
        super().__init__(
            inputs=inputs,
            outputs=logits,
            backbone=backbone,
            preprocessor=preprocessor,
            dtype=dtype,
            **kwargs,
        )
        self._generate_functions = GenerateFunctions()

    @property
    def stop_token_id(self) -> int | None:
        """The id that ends generation: `end_token_id`, else the preprocessor's, else None."""
        if self.end_token_id is not None:
            return self.end_token_id
        preprocessor = getattr(self, "preprocessor", None)
        return None if preprocessor is None else preprocessor.end_id

    def logits_and_cache(self, token_ids, padding_mask, cache, index):
        """Logits `[B, T, vocab]` of `T` tokens at `index`, and the updated per-layer caches."""
        x, cache = self.backbone.call_with_cache(token_ids, padding_mask, cache, index)
        return ops.cast(self.backbone.token_embedding(x, reverse=True), "float32"), cache

    def empty_cache(self, batch_size, max_length) -> tuple[tf.Tensor, ...]:
        """One zero `[B, 2, max_length, heads, head_dim]` key/value cache per layer."""
        backbone = self.backbone
        shape = [batch_size, 2, max_length, backbone.num_heads, backbone.head_dim]
        return tuple(tf.zeros(shape, backbone.compute_dtype) for _ in range(backbone.num_layers))

    def generate_graph(self, token_ids, padding_mask, max_length: int, **options):
        """The generation graph (call it inside a `tf.function`): left-padded prompts
        `[B, P]` and their mask in, ids `[B, max_length]` out. `options` go to `generate_ids`."""
        token_ids = tf.cast(token_ids, tf.int32)
        padding_mask = tf.cast(padding_mask, tf.int32)
        batch_size, prompt_length = tf.shape(token_ids)[0], tf.shape(token_ids)[1]
        pad_id = options.get("pad_token_id", 0)
        ids = tf.pad(token_ids, [[0, 0], [0, max_length - prompt_length]], constant_values=pad_id)
        mask = tf.pad(padding_mask, [[0, 0], [0, max_length - prompt_length]], constant_values=1)
        cache = self.empty_cache(batch_size, max_length)
        # Prefill: every prompt token but the last goes into the cache in one pass.
        _, cache = self.backbone.call_with_cache(token_ids[:, :-1], mask, cache, 0)

        def step(previous, state, index):
            logits, cache = self.logits_and_cache(
                previous[:, None], state["padding_mask"], state["cache"], index - 1
            )
            return logits[:, 0], {"cache": cache, "padding_mask": state["padding_mask"]}

        state = {"cache": cache, "padding_mask": mask}
        return generate_ids(step, state, ids, prompt_length, **options)

    def generate(
        self,
        prompts,
        max_length: int,
        sampler="greedy",
        padding_mask=None,
        seed: int | None = None,
        num_beams: int = 1,
        length_penalty: float = 1.0,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        end_token_id: int | None | str = "auto",
        pad_token_id: int | None = None,
        jit_compile: bool = True,
    ):
        """Continues `prompts` up to `max_length` tokens (prompt included).

        Args:
            prompts: strings (a `str`, a list of them or a string tensor; needs a
                `preprocessor`), or int token ids `[batch, prompt_length]` without padding
                (with `padding_mask`, rows padded on the left).
            max_length: total length of every output row, prompt included; more than the
                prompt length and at most the backbone's `max_sequence_length`.
            sampler: `"greedy"`, `"random"` (temperature), `"top_k"`, `"top_p"`, `"beam"`
                or a `zoo.text.generation.Sampler`.
            padding_mask: for id prompts padded on the left: 1 for real tokens.
            seed: makes sampling reproducible. Defaults to `None`.
            num_beams: beam width (`"beam"`, or `"greedy"` with more than one beam).
            length_penalty: beam search's length normalisation. Defaults to `1.0`.
            temperature, top_k, top_p: the samplers' settings (see `get_sampler`).
            end_token_id: the id that ends a row; `"auto"` (default) takes `stop_token_id`;
                `None` runs every row to `max_length`.
            pad_token_id: written after a row's end. Defaults to the end token (as Hugging
                Face does for GPT-2), else 0.
            jit_compile: compile the loop with XLA. Defaults to `True`.

        Returns:
            For strings, a list of strings (prompt and continuation, special tokens left
            out); for ids, an int32 NumPy array `[batch, max_length]`, what Hugging Face's
            `generate(max_length=N)` returns (padded with `pad_token_id` after an end).
        """
        options = generation_options(
            sampler, seed=seed, num_beams=num_beams, length_penalty=length_penalty,
            temperature=temperature, top_k=top_k, top_p=top_p,
        )  # fmt: skip
        end = self.stop_token_id if end_token_id == "auto" else end_token_id
        options["end_token_id"] = end
        options["pad_token_id"] = (
            pad_token_id if pad_token_id is not None else (0 if end is None else end)
        )
        strings = is_text(prompts)
        if strings:
            preprocessor = require_preprocessor(self, "prompts", prompts, "GPT2Preprocessor")
            packed = preprocessor.prompts(text_tensor(prompts))
            token_ids, padding_mask = packed["token_ids"], packed["padding_mask"]
        else:
            token_ids = token_id_array("prompts", prompts)
            if padding_mask is None:
                padding_mask = np.ones_like(token_ids)
        prompt_length = int(token_ids.shape[1])
        self.check_lengths(prompt_length, max_length)
        run = self._generate_functions.get(self.generate_graph, max_length, jit_compile, options)
        ids = run(tf.cast(token_ids, tf.int32), tf.cast(padding_mask, tf.int32))
        if not strings:
            return ids.numpy()
        mask = tf.concat(
            [tf.cast(padding_mask, tf.int32), tf.ones_like(ids[:, prompt_length:])], axis=1
        )
        texts = self.preprocessor.detokenize(ids, mask).numpy()
        return [text.decode("utf-8", errors="replace") for text in texts]

    def check_lengths(self, prompt_length: int, max_length: int) -> None:
        """Rejects prompts longer than the context and `max_length` not after the prompt."""
        context = self.backbone.max_sequence_length
        if prompt_length > context:
            raise ValueError(
                f"The prompt is longer than the model's context ({context} tokens). "
                f"Received: prompt_length={prompt_length}"
            )
        if prompt_length < 1:
            raise ValueError(f"Prompts must not be empty. Received: prompt_length={prompt_length}")
        check_int_at_least(
            "max_length", max_length, prompt_length + 1, f"longer than the prompt ({prompt_length})"
        )
        if max_length > context:
            raise ValueError(
                f"`max_length` must be at most the model's context ({context} tokens). "
                f"Received: max_length={max_length}"
            )
