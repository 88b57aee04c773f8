"""Regularization layers: DropBlock, Shakeout, stochastic depth and Monte Carlo dropout.

Cutout, MixUp, CutMix, RandomErasing and spectral normalization are keras's own layers
(`keras.layers.RandomErasing`, `MixUp`, `CutMix`, `SpectralNormalization`).
"""

from layers.regularization.drop_block import DropBlock2D, drop_block_gamma
from layers.regularization.mc_dropout import MCDropout
from layers.regularization.shakeout import ShakeoutDense, shakeout_matmul
from layers.regularization.stochastic_depth import StochasticDepth

__all__ = [
    "DropBlock2D",
    "MCDropout",
    "ShakeoutDense",
    "StochasticDepth",
    "drop_block_gamma",
    "shakeout_matmul",
]
