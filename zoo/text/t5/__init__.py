"""T5 (Raffel et al. 2020): encoder-decoder backbone, sequence-to-sequence LM with cached
generation, SentencePiece preprocessor, span-corruption pretraining, presets and Hugging Face
import."""

from zoo.text.t5 import convert, presets
from zoo.text.t5.backbone import T5Backbone
from zoo.text.t5.blocks import T5Attention, T5DecoderBlock, T5EncoderBlock, T5FeedForward
from zoo.text.t5.preprocessor import T5Preprocessor
from zoo.text.t5.seq2seq_lm import T5Seq2SeqLM
from zoo.text.t5.signature import t5_generate_signature
from zoo.text.t5.span_corruption import (
    corrupt_spans,
    noise_span_mask,
    pretrain_t5,
    span_corruption_dataset,
)

__all__ = [
    "T5Attention",
    "T5Backbone",
    "T5DecoderBlock",
    "T5EncoderBlock",
    "T5FeedForward",
    "T5Preprocessor",
    "T5Seq2SeqLM",
    "convert",
    "corrupt_spans",
    "noise_span_mask",
    "pretrain_t5",
    "span_corruption_dataset",
    "t5_generate_signature",
    "presets",
]
