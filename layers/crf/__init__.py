"""Linear-chain CRF: TensorFlow Addons' `tfa.text` CRF functions and `tfa.layers.CRF`.

The scoring functions (`crf_log_likelihood`, `crf_log_norm`, ...) and the decoders
(`crf_decode`, `viterbi_decode`, ...) keep TFA's names, arguments and outputs; `CRF` is the
layer, and `CRFModelWrapper` trains a model with a CRF head through plain `fit`.
"""

from layers.crf.decode import (
    crf_constrained_decode,
    crf_decode,
    crf_decode_backward,
    crf_decode_forward,
    viterbi_decode,
)
from layers.crf.layer import CRF
from layers.crf.model_wrapper import CRFModelWrapper
from layers.crf.scores import (
    crf_binary_score,
    crf_filtered_inputs,
    crf_forward,
    crf_log_likelihood,
    crf_log_norm,
    crf_multitag_sequence_score,
    crf_sequence_score,
    crf_unary_score,
)

__all__ = [
    "CRF",
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
    "viterbi_decode",
]
