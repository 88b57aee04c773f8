"""T5 as a sequence-to-sequence language model, with cached generation."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from layers.validation import check_bool, check_int_at_least, check_non_negative_int
from zoo.models import Task
from zoo.text.generation import generate_ids
from zoo.text.generation.compiled import GenerateFunctions, generation_options
from zoo.text.generation.inputs import (
    is_text,
    require_preprocessor,
    text_tensor,
    token_id_array,
)
from zoo.text.t5.backbone import T5Backbone, padding_bias


@keras.saving.register_keras_serializable(package="keras_zoo")
class T5Seq2SeqLM(Task):
    """Scores the next decoder token at every position; generates with a key/value cache.

    The output layer is the transposed token embedding table applied to the decoder output
    scaled by `hidden_dim ** -0.5` (T5 v1.0, `tie_embeddings=True`), or its own dense layer
    `"lm_head"` without scaling (T5 v1.1). `generate` runs the encoder once, precomputes every
    decoder block's cross-attention keys and values, and then decodes one token per step
    against a self-attention cache, the whole loop in one compiled `tf.function`
    (`zoo.text.generation.generate_ids`).

    Args:
        backbone: a `T5Backbone`.
        preprocessor: a `T5Preprocessor`, for string inputs to `generate`. Defaults to `None`.
        tie_embeddings: output layer tied to the token embeddings (v1.0) or separate (v1.1).
            Defaults to `True`.
        decoder_start_token_id: the first decoder token. Defaults to `0` (T5's `<pad>`).
        end_token_id: the id that ends a generated row. Defaults to `1` (T5's `</s>`).
        pad_token_id: written after a row ended. Defaults to `0`.
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Inputs: the backbone's inputs (decoder ids start with `decoder_start_token_id`, the
    targets shifted right). Outputs: logits `(batch, decoder_length, vocabulary_size)`,
    float32. The model comes compiled with AdamW and sparse categorical cross-entropy from
    logits averaged over the real (weighted) tokens, as Hugging Face's loss, accuracy as a
    weighted metric; pass the decoder padding mask as `sample_weight`.

    Example:

    ```python
    model = T5Seq2SeqLM.from_preset("t5_small")
    ids = model.generate(encoder_ids, max_length=20)  # greedy; starts with 0
    beams = model.generate(encoder_ids, max_length=20, sampler="beam", num_beams=3)
    model = zoo.from_huggingface("checkpoints/t5-small", task="seq2seq_lm")
    ```

    Reference:
        Raffel et al., "Exploring the Limits of Transfer Learning with a Unified Text-to-Text
        Transformer", JMLR 2020.
    """

    backbone_class = T5Backbone
    default_weight_decay = 0.01
    metrics_are_weighted = True
    loss_reduction = "mean_with_sample_weight"

    def __init__(
        self,
        backbone: T5Backbone,
        preprocessor=None,
        tie_embeddings: bool = True,
        decoder_start_token_id: int = 0,
        end_token_id: int | None = 1,
        pad_token_id: int = 0,
        **kwargs,
    ):
        if not isinstance(backbone, T5Backbone):
            raise TypeError(f"`backbone` must be a T5Backbone. Received: backbone={backbone!r}")
        check_bool("tie_embeddings", tie_embeddings)
        check_non_negative_int("decoder_start_token_id", decoder_start_token_id)
        if end_token_id is not None:
            check_non_negative_int("end_token_id", end_token_id)
        check_non_negative_int("pad_token_id", pad_token_id)
        dtype = self.dtype_policy_from(kwargs)
        inputs = dict(backbone.input)
        x = backbone(inputs)["decoder_sequence_output"]
        if tie_embeddings:
            head = None
        else:
            head = keras.layers.Dense(
                backbone.vocabulary_size, use_bias=False, dtype=dtype, name="lm_head"
            )
        logits = _logits(backbone, head, x)
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
        super().__init__(
            inputs=inputs,
            outputs=logits,
            backbone=backbone,
            preprocessor=preprocessor,
            dtype=dtype,
            **kwargs,
        )
        self._head = head
        self._generate_functions = GenerateFunctions()

    def logits(self, decoder_output):
        """Float32 logits of decoder outputs (any leading shape)."""
        return ops.cast(_logits(self.backbone, self._head, decoder_output), "float32")

    def generate_graph(self, encoder_token_ids, encoder_padding_mask, max_length: int, **options):
        """The generation graph (call it inside a `tf.function`): encoder ids and mask in,
        decoder ids `[B, max_length]` out. `options` go to `generate_ids`."""
        backbone = self.backbone
        encoder_token_ids = tf.cast(encoder_token_ids, tf.int32)
        encoder_padding_mask = tf.cast(encoder_padding_mask, tf.int32)
        batch_size = tf.shape(encoder_token_ids)[0]
        encoder_output = backbone.encode(encoder_token_ids, encoder_padding_mask)
        state = {
            "cache": backbone.empty_cache(batch_size, max_length),
            "cross": backbone.cross_key_values(encoder_output),
            "cross_bias": padding_bias(encoder_padding_mask),
        }
        start = tf.fill([batch_size, 1], self.decoder_start_token_id)
        ids = tf.pad(start, [[0, 0], [0, max_length - 1]], constant_values=self.pad_token_id)

        def step(previous, state, index):
            x, state = backbone.decoder_step(previous, state, index - 1)
            return self.logits(x), state

        return generate_ids(step, state, ids, 1, **options)

    def generate(
        self,
        inputs,
        max_length: int,
        sampler="greedy",
        padding_mask=None,
        seed: int | None = None,
        num_beams: int = 1,
        length_penalty: float = 1.0,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        jit_compile: bool = True,
    ):
        """Generates decoder sequences of `max_length` tokens for encoder inputs.

        Args:
            inputs: strings (a `str`, a list of them or a string tensor; needs a
                `preprocessor`), or int encoder token ids `[batch, length]`, padded on the
                right with `pad_token_id` (or with `padding_mask`).
            max_length: length of every output row, the decoder start token included; at
                least 2.
            sampler: `"greedy"`, `"random"` (temperature), `"top_k"`, `"top_p"`, `"beam"`
                or a `zoo.text.generation.Sampler`.
            padding_mask: 1 for real encoder tokens. Defaults to `inputs != pad_token_id`.
            seed: makes sampling reproducible. Defaults to `None`.
            num_beams: beam width of beam search.
            length_penalty: beam search's length normalisation. Defaults to `1.0`.
            temperature, top_k, top_p: the samplers' settings (see `get_sampler`).
            jit_compile: compile the loop with XLA. Defaults to `True`.

        Returns:
            For strings, a list of strings (special tokens and sentinels left out); for ids,
            an int32 NumPy array `[batch, max_length]` starting with the decoder start token,
            what Hugging Face's `generate(max_length=N)` returns (padded with `pad_token_id`
            after the end token, and up to `max_length` where Hugging Face stops early).
        """
        options = generation_options(
            sampler, seed=seed, num_beams=num_beams, length_penalty=length_penalty,
            temperature=temperature, top_k=top_k, top_p=top_p,
            end_token_id=self.end_token_id, pad_token_id=self.pad_token_id,
        )  # fmt: skip
        check_int_at_least("max_length", max_length, 2, "the start token and one more")
        strings = is_text(inputs)
        if strings:
            preprocessor = require_preprocessor(self, "inputs", inputs, "T5Preprocessor")
            packed = preprocessor.generation_inputs(text_tensor(inputs))
            token_ids, padding_mask = packed["encoder_token_ids"], packed["encoder_padding_mask"]
        else:
            token_ids = token_id_array("inputs", inputs)
            if padding_mask is None:
                padding_mask = (token_ids != self.pad_token_id).astype("int32")
        run = self._generate_functions.get(self.generate_graph, max_length, jit_compile, options)
        ids = run(tf.cast(token_ids, tf.int32), tf.cast(padding_mask, tf.int32))
        if not strings:
            return ids.numpy()
        texts = self.preprocessor.detokenize(ids).numpy()
        return [text.decode("utf-8", errors="replace") for text in texts]


def _logits(backbone: T5Backbone, head, decoder_output):
    if head is not None:
        return head(decoder_output)
    scaled = decoder_output * (backbone.hidden_dim**-0.5)
    return backbone.token_embedding(scaled, reverse=True)
