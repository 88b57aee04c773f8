"""Losses: contrastive, triplet (semi-hard, hard, all), NT-Xent, and label-smoothed
cross-entropy for class ids or the mixed labels of MixUp/CutMix.

Focal, Dice and Tversky losses are keras's (`keras.losses.CategoricalFocalCrossentropy`,
`keras.losses.Dice`, `keras.losses.Tversky`); `keras.losses.Dice(axis=(1, 2))` already gives the
per-class soft Dice of segmentation masks.
"""

from layers.losses.contrastive import ContrastiveLoss
from layers.losses.label_smoothing import SparseLabelSmoothingCrossentropy
from layers.losses.nt_xent import NTXentLoss
from layers.losses.triplet import TripletLoss, pairwise_distances

__all__ = [
    "ContrastiveLoss",
    "NTXentLoss",
    "SparseLabelSmoothingCrossentropy",
    "TripletLoss",
    "pairwise_distances",
]
