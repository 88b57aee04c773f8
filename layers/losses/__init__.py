"""Losses: contrastive, triplet (semi-hard, hard, all), NT-Xent, and label-smoothed
cross-entropy for class ids or the mixed labels of MixUp/CutMix.

Focal, Dice and Tversky losses are keras's (`keras.losses.CategoricalFocalCrossentropy`,
`keras.losses.Dice`, `keras.losses.Tversky`); `keras.losses.Dice(axis=(1, 2))` already gives the
per-class soft Dice of segmentation masks.

TensorFlow Addons' losses under their TFA names (GIoU, pinball, N-pairs, lifted structure,
sparsemax, weighted kappa, and TFA-argument adapters of the focal, contrastive and triplet
losses) are here too; `layers.addons.losses` is `tfa.losses`.
"""

from layers.losses.contrastive import ContrastiveLoss
from layers.losses.giou import GIoULoss, giou_loss
from layers.losses.label_smoothing import SparseLabelSmoothingCrossentropy
from layers.losses.lifted_struct import LiftedStructLoss, lifted_struct_loss
from layers.losses.npairs import (
    NpairsLoss,
    NpairsMultilabelLoss,
    npairs_loss,
    npairs_multilabel_loss,
)
from layers.losses.nt_xent import NTXentLoss
from layers.losses.pinball import PinballLoss, pinball_loss
from layers.losses.sparsemax import SparsemaxLoss, sparsemax_loss
from layers.losses.tfa_adapters import (
    SigmoidFocalCrossEntropy,
    TripletHardLoss,
    TripletSemiHardLoss,
    contrastive_loss,
    sigmoid_focal_crossentropy,
    triplet_hard_loss,
    triplet_semihard_loss,
)
from layers.losses.triplet import TripletLoss, pairwise_distances
from layers.losses.weighted_kappa import WeightedKappaLoss

__all__ = [
    "ContrastiveLoss",
    "NTXentLoss",
    "SparseLabelSmoothingCrossentropy",
    "TripletLoss",
    "pairwise_distances",
    "GIoULoss",
    "LiftedStructLoss",
    "NpairsLoss",
    "NpairsMultilabelLoss",
    "PinballLoss",
    "SigmoidFocalCrossEntropy",
    "SparsemaxLoss",
    "TripletHardLoss",
    "TripletSemiHardLoss",
    "WeightedKappaLoss",
    "contrastive_loss",
    "giou_loss",
    "lifted_struct_loss",
    "npairs_loss",
    "npairs_multilabel_loss",
    "pinball_loss",
    "sigmoid_focal_crossentropy",
    "sparsemax_loss",
    "triplet_hard_loss",
    "triplet_semihard_loss",
]
