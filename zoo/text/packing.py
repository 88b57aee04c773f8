"""What the text preprocessors share: truncating segment pairs and the packer base class.

`BertPreprocessor` packs `[CLS] A [SEP] B [SEP]` with segment ids; `RobertaPreprocessor` packs
`<s> A </s></s> B </s>` without them. Both truncate pairs like Hugging Face's `longest_first`.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from layers.validation import check_int_at_least
from zoo.models import Preprocessor


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


def segments_of(inputs, layer: str) -> list:
    """The one or two string tensors a preprocessor was called with, as a list."""
    segments = list(inputs) if isinstance(inputs, tuple | list) else [inputs]
    if not 1 <= len(segments) <= 2:
        raise ValueError(f"{layer} takes one or two segments. Received: {len(segments)} inputs")
    return segments


class SegmentPacker(Preprocessor):
    """Base of the text preprocessors: the tokenizer, the length check, the special-token ids.

    Subclasses name their tokenizer type(s), their `(start, end, pad)` special tokens (per
    tokenizer type where they differ, see `_special_tokens`), the shortest `sequence_length`
    that fits the special tokens of one segment, and the outputs they produce.

    Args:
        tokenizer: a tokenizer of the subclass's `tokenizer_type` (or its serialized config).
        sequence_length: length of every output row. Defaults to `128`.
        **kwargs: `name` and the other `keras.layers.Layer` arguments.
    """

    tokenizer_type: type | tuple[type, ...]
    special_tokens: tuple[str, str, str]
    minimum_length: int

    def __init__(self, tokenizer, sequence_length: int = 128, **kwargs):
        kwargs.setdefault("dtype", "int32")
        if isinstance(tokenizer, dict):
            tokenizer = keras.saving.deserialize_keras_object(tokenizer)
        if not isinstance(tokenizer, self.tokenizer_type):
            types = self.tokenizer_type
            types = types if isinstance(types, tuple) else (types,)
            raise TypeError(
                f"`tokenizer` must be a {' or a '.join(t.__name__ for t in types)}. "
                f"Received: tokenizer={tokenizer!r}"
            )
        check_int_at_least(
            "sequence_length",
            sequence_length,
            self.minimum_length,
            f"room for {' and '.join(self.special_tokens[:2])}",
        )
        super().__init__(**kwargs)
        self.tokenizer = tokenizer
        self.start_id, self.end_id, self.pad_id = (
            tokenizer.token_to_id(token) for token in self._special_tokens(tokenizer)
        )

    def _special_tokens(self, tokenizer) -> tuple[str, str, str]:
        return self.special_tokens
