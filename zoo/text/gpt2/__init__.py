"""GPT-2 (Radford et al. 2019): backbone, causal LM with cached generation, preprocessor,
presets and Hugging Face import."""

from zoo.text.gpt2 import convert, presets
from zoo.text.gpt2.backbone import CountedPositionEmbedding, GPT2Backbone
from zoo.text.gpt2.causal_lm import GPT2CausalLM
from zoo.text.gpt2.decoder_block import GPT2DecoderBlock
from zoo.text.gpt2.preprocessor import GPT2Preprocessor

__all__ = [
    "CountedPositionEmbedding",
    "GPT2Backbone",
    "GPT2CausalLM",
    "GPT2DecoderBlock",
    "GPT2Preprocessor",
    "convert",
    "presets",
]
