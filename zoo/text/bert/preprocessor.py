"""BERT's preprocessor: `[CLS] a [SEP] b [SEP]` with segment ids, padded, in the graph."""

from __future__ import annotations

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from zoo.text.packing import SegmentPacker, segments_of, truncate_longest_first
from zoo.text.sentencepiece import SentencePieceTokenizer
from zoo.text.tokenizers import WordPieceTokenizer


@keras.saving.register_keras_serializable(package="keras_zoo")
class BertPreprocessor(SegmentPacker):
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
    output_names = ("token_ids", "segment_ids", "padding_mask")

    def _special_tokens(self, tokenizer) -> tuple[str, str, str]:
        if isinstance(tokenizer, SentencePieceTokenizer):
            return ("[CLS]", "[SEP]", "<pad>")  # ALBERT's SentencePiece pad piece
        return self.special_tokens

    def call(self, inputs):
        pieces = [self.tokenizer(segment) for segment in segments_of(inputs, "BertPreprocessor")]
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
