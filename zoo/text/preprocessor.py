"""Turns raw strings into BERT inputs: tokenize, add [CLS]/[SEP], truncate, pad."""

from __future__ import annotations

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from layers.validation import check_positive_int
from zoo.text.tokenizers import WordPieceTokenizer


@keras.saving.register_keras_serializable(package="keras_zoo")
class BertPreprocessor(keras.layers.Layer):
    """Packs one or two text segments into `{"token_ids", "segment_ids", "padding_mask"}`.

    Each input is tokenized; pairs are truncated round-robin (the longer segment loses tokens
    first) so that `[CLS] a [SEP] b [SEP]` fits in `sequence_length`; the result is padded
    with `[PAD]` to exactly `sequence_length`. Segment ids are 0 for `[CLS] a [SEP]` and 1 for
    `b [SEP]`. Runs in the graph, so a SavedModel with it takes raw strings.

    Args:
        tokenizer: a `WordPieceTokenizer` (or its serialized config).
        sequence_length: length of every output row. Defaults to `128`.
        **kwargs: `name` and the other `keras.layers.Layer` arguments.

    Call arguments:
        inputs: a string tensor `(batch,)`, or a tuple of two for sentence pairs.

    Example:

    ```python
    preprocessor = BertPreprocessor(WordPieceTokenizer("vocab.txt"), sequence_length=64)
    inputs = preprocessor(tf.constant(["the first text", "another"]))
    logits = classifier(inputs)
    ```
    """

    def __init__(self, tokenizer, sequence_length: int = 128, **kwargs):
        kwargs.setdefault("dtype", "int32")
        super().__init__(**kwargs)
        if isinstance(tokenizer, dict):
            tokenizer = keras.saving.deserialize_keras_object(tokenizer)
        if not isinstance(tokenizer, WordPieceTokenizer):
            raise TypeError(
                f"`tokenizer` must be a WordPieceTokenizer. Received: tokenizer={tokenizer!r}"
            )
        check_positive_int("sequence_length", sequence_length)
        if sequence_length < 3:
            raise ValueError(
                "`sequence_length` must leave room for [CLS] and [SEP] (at least 3). "
                f"Received: sequence_length={sequence_length}"
            )
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.cls_id = tokenizer.token_to_id("[CLS]")
        self.sep_id = tokenizer.token_to_id("[SEP]")
        self.pad_id = tokenizer.token_to_id("[PAD]")

    def call(self, inputs):
        segments = list(inputs) if isinstance(inputs, tuple | list) else [inputs]
        if not 1 <= len(segments) <= 2:
            raise ValueError(
                f"BertPreprocessor takes one or two segments. Received: {len(segments)} inputs"
            )
        pieces = [self.tokenizer(segment) for segment in segments]
        budget = self.sequence_length - 1 - len(pieces)  # [CLS] and one [SEP] per segment
        pieces = tf_text.RoundRobinTrimmer(budget).trim(pieces)
        ids, segment_ids = tf_text.combine_segments(
            pieces, start_of_sequence_id=self.cls_id, end_of_segment_id=self.sep_id
        )
        token_ids, mask = tf_text.pad_model_inputs(ids, self.sequence_length, pad_value=self.pad_id)
        segment_ids, _ = tf_text.pad_model_inputs(segment_ids, self.sequence_length)
        return {
            "token_ids": tf.cast(token_ids, "int32"),
            "segment_ids": tf.cast(segment_ids, "int32"),
            "padding_mask": tf.cast(mask, "int32"),
        }

    def get_config(self):
        return {
            **super().get_config(),
            "tokenizer": keras.saving.serialize_keras_object(self.tokenizer),
            "sequence_length": self.sequence_length,
        }
