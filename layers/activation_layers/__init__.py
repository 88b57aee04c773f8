"""Activation layers with their own arguments or weights: TensorFlow Addons' `GELU`, `Snake`,
`Sparsemax`, `TLU` and `Maxout` on Keras 3."""

from layers.activation_layers.gelu import GELU
from layers.activation_layers.maxout import Maxout
from layers.activation_layers.snake import Snake
from layers.activation_layers.sparsemax import Sparsemax, sparsemax
from layers.activation_layers.tlu import TLU

__all__ = ["GELU", "TLU", "Maxout", "Snake", "Sparsemax", "sparsemax"]
