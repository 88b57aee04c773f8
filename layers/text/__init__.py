"""Text utilities from TensorFlow Addons: skip-gram sampling and time-string parsing.

TensorFlow-only (string tensors, lookup tables, stateless random ops); every function runs in
graphs and in a `tf.data` map.
"""

from layers.text.parse_time import parse_time
from layers.text.skip_gram import skip_gram_sample, skip_gram_sample_with_text_vocab

__all__ = ["parse_time", "skip_gram_sample", "skip_gram_sample_with_text_vocab"]
