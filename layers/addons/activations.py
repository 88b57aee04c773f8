"""`tfa.activations` on Keras 3: TFA's activation functions (`layers.activations`) under their
TFA names and arguments."""

from layers.activations import (
    gelu,
    hardshrink,
    lisht,
    mish,
    rrelu,
    snake,
    softshrink,
    sparsemax,
    tanhshrink,
)

__all__ = [
    "gelu",
    "hardshrink",
    "lisht",
    "mish",
    "rrelu",
    "snake",
    "softshrink",
    "sparsemax",
    "tanhshrink",
]
