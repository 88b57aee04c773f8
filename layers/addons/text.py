"""`tfa.text` on Keras 3: the linear-chain CRF (`layers.crf`), skip-gram sampling and
`parse_time` (`layers.text`), under TFA's names."""

from layers.crf import (
    CRFModelWrapper,
    crf_binary_score,
    crf_constrained_decode,
    crf_decode,
    crf_decode_backward,
    crf_decode_forward,
    crf_filtered_inputs,
    crf_forward,
    crf_log_likelihood,
    crf_log_norm,
    crf_multitag_sequence_score,
    crf_sequence_score,
    crf_unary_score,
    viterbi_decode,
)
from layers.text import parse_time, skip_gram_sample, skip_gram_sample_with_text_vocab

__all__ = [
    "CRFModelWrapper",
    "crf_binary_score",
    "crf_constrained_decode",
    "crf_decode",
    "crf_decode_backward",
    "crf_decode_forward",
    "crf_filtered_inputs",
    "crf_forward",
    "crf_log_likelihood",
    "crf_log_norm",
    "crf_multitag_sequence_score",
    "crf_sequence_score",
    "crf_unary_score",
    "parse_time",
    "skip_gram_sample",
    "skip_gram_sample_with_text_vocab",
    "viterbi_decode",
]
