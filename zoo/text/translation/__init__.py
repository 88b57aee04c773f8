"""Neural machine translation: `AttentionTranslator` (LSTM encoder, Luong-attention decoder,
greedy and beam search decoding, the shape of TensorFlow Addons' NMT tutorial) and
`TranslationTask`, a generated translation-like task with a seeded grammar."""

from zoo.text.translation.data import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    TranslationPairs,
    TranslationTask,
    sequence_exact_match,
)
from zoo.text.translation.model import AttentionTranslator, TranslationSearch, mask_after_end

__all__ = [
    "BOS_ID",
    "EOS_ID",
    "PAD_ID",
    "AttentionTranslator",
    "TranslationPairs",
    "TranslationSearch",
    "TranslationTask",
    "mask_after_end",
    "sequence_exact_match",
]
