"""Turns raw strings into model inputs: tokenize, truncate, add the special tokens, pad.

`BertPreprocessor` packs `[CLS] A [SEP] B [SEP]` with segment ids; `RobertaPreprocessor` packs
`<s> A </s></s> B </s>` without them. Both truncate pairs like Hugging Face's `longest_first`.
"""

from __future__ import annotations

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from layers.validation import check_positive_int
from zoo.text.byte_pair import BytePairTokenizer
from zoo.text.sentencepiece import SentencePieceTokenizer
from zoo.text.tokenizers import WordPieceTokenizer


def truncate_longest_first(segments: list, budget: int) -> list:
    """Cuts one or two ragged `(batch, None)` segments to `budget` tokens in all, per row.

    Hugging Face's `truncation="longest_first"`: when a pair is too long, the shorter segment
    is kept whole if it fits in half the budget and the longer one gets the rest; otherwise
    each gets half, the longer (the second on a tie) the odd token.
    """
    lengths = [segment.row_lengths() for segment in segments]
    budget = tf.constant(budget, lengths[0].dtype)
    if len(segments) == 1:
        keep = [tf.minimum(lengths[0], budget)]
    else:
        first, second = lengths
        swap = first > second
        short = tf.minimum(first, second)
        long_keep = tf.where(short > budget, short, tf.maximum(short, budget - short))
        both_cut = short + long_keep > budget
        short_keep = tf.where(both_cut, budget // 2, short)
        long_keep = tf.where(both_cut, budget // 2 + budget % 2, long_keep)
        keep = [tf.where(swap, long_keep, short_keep), tf.where(swap, short_keep, long_keep)]
    return [
        tf.ragged.boolean_mask(segment, tf.ragged.range(length) < n[:, None])
        for segment, length, n in zip(segments, lengths, keep, strict=True)
    ]


def _segments(inputs, layer: str) -> list:
    segments = list(inputs) if isinstance(inputs, tuple | list) else [inputs]
    if not 1 <= len(segments) <= 2:
        raise ValueError(f"{layer} takes one or two segments. Received: {len(segments)} inputs")
    return segments


class _SegmentPacker(keras.layers.Layer):
    """What both preprocessors share: the tokenizer, the length check, the special-token ids.

    Subclasses name their tokenizer type(s), their `(start, end, pad)` special tokens (per
    tokenizer type where they differ, see `_special_tokens`) and the shortest `sequence_length`
    that fits the special tokens of one segment.
    """

    tokenizer_type: type | tuple[type, ...]
    special_tokens: tuple[str, str, str]
    minimum_length: int

    def __init__(self, tokenizer, sequence_length: int = 128, **kwargs):
        kwargs.setdefault("dtype", "int32")
        super().__init__(**kwargs)
        if isinstance(tokenizer, dict):
            tokenizer = keras.saving.deserialize_keras_object(tokenizer)
        if not isinstance(tokenizer, self.tokenizer_type):
            types = self.tokenizer_type
            types = types if isinstance(types, tuple) else (types,)
            raise TypeError(
                f"`tokenizer` must be a {' or a '.join(t.__name__ for t in types)}. "
                f"Received: tokenizer={tokenizer!r}"
            )
        check_positive_int("sequence_length", sequence_length)
        if sequence_length < self.minimum_length:
            raise ValueError(
                f"`sequence_length` must leave room for {' and '.join(self.special_tokens[:2])} "
                f"(at least {self.minimum_length}). Received: sequence_length={sequence_length}"
            )
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.start_id, self.end_id, self.pad_id = (
            tokenizer.token_to_id(token) for token in self._special_tokens(tokenizer)
        )

    def _special_tokens(self, tokenizer) -> tuple[str, str, str]:
        return self.special_tokens

    def get_config(self):
        return {
            **super().get_config(),
            "tokenizer": keras.saving.serialize_keras_object(self.tokenizer),
            "sequence_length": self.sequence_length,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class BertPreprocessor(_SegmentPacker):
    """Packs one or two text segments into `{"token_ids", "segment_ids", "padding_mask"}`.

    Each input is tokenized; pairs are truncated like Hugging Face's `longest_first` (the
    longer segment loses tokens first) so that `[CLS] a [SEP] b [SEP]` fits in
    `sequence_length`; the result is padded with `[PAD]` to exactly `sequence_length`. Segment
    ids are 0 for `[CLS] a [SEP]` and 1 for `b [SEP]`. ALBERT uses the same layout over a
    `SentencePieceTokenizer`, padded with its `<pad>`. Runs in the graph, so a SavedModel with it
    takes raw strings.

    Args:
        tokenizer: a `WordPieceTokenizer`, or for ALBERT a `SentencePieceTokenizer` whose model
            holds `[CLS]`, `[SEP]` and `<pad>` (or the tokenizer's serialized config).
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

    tokenizer_type = (WordPieceTokenizer, SentencePieceTokenizer)
    special_tokens = ("[CLS]", "[SEP]", "[PAD]")
    minimum_length = 3

    def _special_tokens(self, tokenizer) -> tuple[str, str, str]:
        if isinstance(tokenizer, SentencePieceTokenizer):
            return ("[CLS]", "[SEP]", "<pad>")  # ALBERT's SentencePiece pad piece
        return self.special_tokens

    def call(self, inputs):
        pieces = [self.tokenizer(segment) for segment in _segments(inputs, "BertPreprocessor")]
        budget = self.sequence_length - 1 - len(pieces)  # [CLS] and one [SEP] per segment
        pieces = truncate_longest_first(pieces, budget)
        ids, segment_ids = tf_text.combine_segments(
            pieces, start_of_sequence_id=self.start_id, end_of_segment_id=self.end_id
        )
        token_ids, mask = tf_text.pad_model_inputs(ids, self.sequence_length, pad_value=self.pad_id)
        segment_ids, _ = tf_text.pad_model_inputs(segment_ids, self.sequence_length)
        return {
            "token_ids": tf.cast(token_ids, "int32"),
            "segment_ids": tf.cast(segment_ids, "int32"),
            "padding_mask": tf.cast(mask, "int32"),
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class RobertaPreprocessor(_SegmentPacker):
    """Packs one or two text segments into RoBERTa's `{"token_ids", "padding_mask"}`.

    Each input is tokenized with a `BytePairTokenizer`; pairs are truncated like Hugging Face's
    `longest_first` so that `<s> a </s>` or `<s> a </s></s> b </s>` fits in `sequence_length`;
    the result is padded with `<pad>` (id 1 in RoBERTa's vocabulary) to exactly
    `sequence_length`. RoBERTa has no segment ids. Runs in the graph, so a SavedModel with it
    takes raw strings.

    Args:
        tokenizer: a `BytePairTokenizer` (or its serialized config) whose vocabulary holds
            `<s>`, `</s>` and `<pad>`.
        sequence_length: length of every output row. Defaults to `128`.
        **kwargs: `name` and the other `keras.layers.Layer` arguments.

    Call arguments:
        inputs: a string tensor `(batch,)`, or a tuple of two for sentence pairs.

    Example:

    ```python
    tokenizer = BytePairTokenizer("vocab.json", "merges.txt")
    preprocessor = RobertaPreprocessor(tokenizer, sequence_length=64)
    inputs = preprocessor(tf.constant(["the first text", "another"]))
    logits = classifier(inputs)
    ```

    Reference:
        Liu et al., "RoBERTa: A Robustly Optimized BERT Pretraining Approach", 2019.
    """

    tokenizer_type = BytePairTokenizer
    special_tokens = ("<s>", "</s>", "<pad>")
    minimum_length = 2

    def call(self, inputs):
        pieces = [self.tokenizer(s) for s in _segments(inputs, "RobertaPreprocessor")]
        if len(pieces) == 2 and self.sequence_length < 4:
            raise ValueError(
                "Pairs need `sequence_length` of at least 4 (<s> a </s></s> b </s> less the "
                f"text). Received: sequence_length={self.sequence_length}"
            )
        budget = self.sequence_length - (2 if len(pieces) == 1 else 4)
        pieces = truncate_longest_first(pieces, budget)
        ones = tf.ones_like(pieces[0].row_lengths(), tf.int32)[:, None]
        start = tf.RaggedTensor.from_tensor(ones * self.start_id)
        end = tf.RaggedTensor.from_tensor(ones * self.end_id)
        parts = [start, pieces[0], end]
        if len(pieces) == 2:
            parts += [end, pieces[1], end]
        ids = tf.concat(parts, axis=1)
        token_ids, mask = tf_text.pad_model_inputs(ids, self.sequence_length, pad_value=self.pad_id)
        return {"token_ids": tf.cast(token_ids, "int32"), "padding_mask": tf.cast(mask, "int32")}
