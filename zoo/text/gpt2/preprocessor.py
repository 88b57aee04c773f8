"""GPT-2's preprocessor: byte-level BPE in the graph; right padding to train, left for prompts."""

from __future__ import annotations

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from layers.validation import check_bool
from zoo.text.byte_pair import BytePairTokenizer
from zoo.text.packing import SegmentPacker

END_TOKEN = "<|endoftext|>"


@keras.saving.register_keras_serializable(package="keras_zoo")
class GPT2Preprocessor(SegmentPacker):
    """Turns text into GPT-2's `{"token_ids", "padding_mask"}` with a `BytePairTokenizer`.

    Called on strings it gives rows padded on the right to `sequence_length` (padding is
    `<|endoftext|>`, masked out), optionally with `<|endoftext|>` before and after the text;
    `lm_examples` makes `(x, y, sample_weight)` next-token training triples; `prompts` pads on
    the left to the longest prompt (what decoder-only generation needs); `detokenize` maps
    ids back to text. Everything runs in the graph, so exported models take raw strings.

    Args:
        tokenizer: a `BytePairTokenizer` (or its serialized config) whose vocabulary holds
            `<|endoftext|>`.
        sequence_length: length of every row of `call` and `lm_examples`. Defaults to `1024`.
        add_start_token: put `<|endoftext|>` before the text in `call`. Defaults to `False`.
        add_end_token: put `<|endoftext|>` after the text in `call`. Defaults to `False`.
        **kwargs: `name` and the other `keras.layers.Layer` arguments.

    Call arguments:
        inputs: a string tensor `(batch,)`.

    Example:

    ```python
    preprocessor = GPT2Preprocessor(BytePairTokenizer("vocab.json", "merges.txt"), 128)
    x, y, weights = preprocessor.lm_examples(tf.constant(["some text", "more text"]))
    ```

    Reference:
        Radford et al., "Language Models are Unsupervised Multitask Learners", 2019.
    """

    tokenizer_type = BytePairTokenizer
    special_tokens = (END_TOKEN, END_TOKEN, END_TOKEN)
    minimum_length = 1
    output_names = ("token_ids", "padding_mask")

    def __init__(
        self,
        tokenizer,
        sequence_length: int = 1024,
        add_start_token: bool = False,
        add_end_token: bool = False,
        **kwargs,
    ):
        check_bool("add_start_token", add_start_token)
        check_bool("add_end_token", add_end_token)
        super().__init__(tokenizer, sequence_length, **kwargs)

    def _pieces(self, inputs, start: bool, end: bool) -> tf.RaggedTensor:
        text = tf.convert_to_tensor(inputs)
        if text.dtype != tf.string or text.shape.rank != 1:
            raise ValueError(
                "GPT2Preprocessor takes a string tensor of shape (batch,). "
                f"Received: inputs of dtype {text.dtype.name} and shape {text.shape}"
            )
        ids = self.tokenizer(text)
        ones = tf.ones_like(ids.row_lengths(), tf.int32)[:, None]
        special = tf.RaggedTensor.from_tensor(ones * self.end_id)
        parts = ([special] if start else []) + [ids] + ([special] if end else [])
        return tf.concat(parts, axis=1) if len(parts) > 1 else ids

    def _pad(self, ids: tf.RaggedTensor, length: int):
        ids = ids[:, :length]
        token_ids, mask = tf_text.pad_model_inputs(ids, length, pad_value=self.pad_id)
        return {"token_ids": tf.cast(token_ids, "int32"), "padding_mask": tf.cast(mask, "int32")}

    def call(self, inputs):
        ids = self._pieces(inputs, self.add_start_token, self.add_end_token)
        return self._pad(ids, self.sequence_length)

    def lm_examples(self, inputs):
        """`(x, y, sample_weight)` for next-token training: `<|endoftext|> text <|endoftext|>`
        cut to `sequence_length + 1` tokens; `y` is `x` shifted by one, weighted where real.

        Example:

        ```python
        dataset = texts.batch(16).map(preprocessor.lm_examples)
        ```
        """
        packed = self._pad(self._pieces(inputs, True, True), self.sequence_length + 1)
        ids, mask = packed["token_ids"], packed["padding_mask"]
        x = {"token_ids": ids[:, :-1], "padding_mask": mask[:, :-1]}
        return x, ids[:, 1:], mask[:, 1:]

    def prompts(self, inputs):
        """Tokenized prompts padded on the left to the longest one: `{"token_ids",
        "padding_mask"}` (no special tokens, as Hugging Face's GPT-2 tokenizer)."""
        ids = self._pieces(inputs, self.add_start_token, False)
        lengths = tf.cast(ids.row_lengths(), tf.int32)
        reversed_ids = tf.reverse(ids, axis=[1])  # reverse each row, pad right, reverse back
        padded = reversed_ids.to_tensor(default_value=self.pad_id)
        mask = tf.sequence_mask(lengths, tf.shape(padded)[1], tf.int32)
        return {
            "token_ids": tf.reverse(tf.cast(padded, tf.int32), axis=[1]),
            "padding_mask": tf.reverse(mask, axis=[1]),
        }

    def detokenize(self, token_ids, padding_mask=None):
        """UTF-8 text of `token_ids` `[B, T]`, without `<|endoftext|>` and masked positions."""
        token_ids = tf.convert_to_tensor(token_ids, tf.int32)
        keep = tf.not_equal(token_ids, self.end_id)
        if padding_mask is not None:
            keep &= tf.cast(padding_mask, tf.bool)
        text = self.tokenizer.detokenize(tf.ragged.boolean_mask(token_ids, keep))
        # Tokens can end inside a UTF-8 character: replace broken bytes with U+FFFD, as
        # Hugging Face's `decode` does, so the text is valid UTF-8 (JSON needs it).
        return tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")
