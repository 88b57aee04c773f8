"""Metric-learning losses: contrastive, triplet (semi-hard, hard, all) and NT-Xent.

Focal, Dice and Tversky losses are keras's (`keras.losses.CategoricalFocalCrossentropy`,
`keras.losses.Dice`, `keras.losses.Tversky`); `keras.losses.Dice(axis=(1, 2))` already gives the
per-class soft Dice of segmentation masks.
"""

from layers.losses.contrastive import ContrastiveLoss
from layers.losses.nt_xent import NTXentLoss
from layers.losses.triplet import TripletLoss, pairwise_distances

__all__ = ["ContrastiveLoss", "NTXentLoss", "TripletLoss", "pairwise_distances"]
