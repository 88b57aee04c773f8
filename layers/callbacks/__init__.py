"""Training callbacks: SWA, EWC, the learning-rate range test and gradient histograms."""

from layers.callbacks.batch_norm_statistics import recompute_batch_norm_statistics
from layers.callbacks.ewc import EWC, diagonal_fisher
from layers.callbacks.gradient_histograms import GradientHistograms
from layers.callbacks.lr_finder import LRFinder, suggest_learning_rate
from layers.callbacks.swa import SWA

__all__ = [
    "EWC",
    "SWA",
    "GradientHistograms",
    "LRFinder",
    "diagonal_fisher",
    "recompute_batch_norm_statistics",
    "suggest_learning_rate",
]
