"""`tfa.layers` on Keras 3: TFA's layers under their TFA names."""

from layers.crf import CRF
from layers.embedding import EmbeddingBag
from layers.recurrent import ESN

__all__ = ["CRF", "ESN", "EmbeddingBag"]
