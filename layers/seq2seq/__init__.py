"""Sequence-to-sequence decoding: attention mechanisms and wrapper, samplers, basic and beam
search decoders, `dynamic_decode`, and the sequence loss (TensorFlow Addons' `tfa.seq2seq` on
Keras 3, with TFA's names, arguments and numbers)."""

from layers.seq2seq.attention_mechanisms import (
    AttentionMechanism,
    BahdanauAttention,
    LuongAttention,
    hardmax,
)
from layers.seq2seq.attention_wrapper import AttentionWrapper, AttentionWrapperState
from layers.seq2seq.basic_decoder import BasicDecoder, BasicDecoderOutput
from layers.seq2seq.beam_search_decoder import (
    BeamSearchDecoder,
    BeamSearchDecoderOutput,
    BeamSearchDecoderState,
    FinalBeamSearchDecoderOutput,
)
from layers.seq2seq.beam_search_ops import gather_tree, gather_tree_from_array, tile_batch
from layers.seq2seq.decoder import BaseDecoder, Decoder, dynamic_decode
from layers.seq2seq.monotonic_mechanisms import (
    BahdanauMonotonicAttention,
    LuongMonotonicAttention,
    monotonic_attention,
    safe_cumprod,
)
from layers.seq2seq.samplers import (
    CustomSampler,
    GreedyEmbeddingSampler,
    InferenceSampler,
    SampleEmbeddingSampler,
    Sampler,
    ScheduledEmbeddingTrainingSampler,
    ScheduledOutputTrainingSampler,
    TrainingSampler,
)
from layers.seq2seq.sequence_loss import SequenceLoss, sequence_loss

__all__ = [
    "AttentionMechanism",
    "AttentionWrapper",
    "AttentionWrapperState",
    "BahdanauAttention",
    "BahdanauMonotonicAttention",
    "BaseDecoder",
    "BasicDecoder",
    "BasicDecoderOutput",
    "BeamSearchDecoder",
    "BeamSearchDecoderOutput",
    "BeamSearchDecoderState",
    "CustomSampler",
    "Decoder",
    "FinalBeamSearchDecoderOutput",
    "GreedyEmbeddingSampler",
    "InferenceSampler",
    "LuongAttention",
    "LuongMonotonicAttention",
    "SampleEmbeddingSampler",
    "Sampler",
    "ScheduledEmbeddingTrainingSampler",
    "ScheduledOutputTrainingSampler",
    "SequenceLoss",
    "TrainingSampler",
    "dynamic_decode",
    "gather_tree",
    "gather_tree_from_array",
    "hardmax",
    "monotonic_attention",
    "safe_cumprod",
    "sequence_loss",
    "tile_batch",
]
