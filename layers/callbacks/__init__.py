"""Training callbacks: SWA, EWC, the learning-rate range test, gradient histograms, and
TensorFlow Addons' `TimeStopping`, `TQDMProgressBar` and `AverageModelCheckpoint`
(`layers.addons.callbacks` is `tfa.callbacks`)."""

from layers.callbacks.average_model_checkpoint import AverageModelCheckpoint
from layers.callbacks.batch_norm_statistics import recompute_batch_norm_statistics
from layers.callbacks.ewc import EWC, diagonal_fisher
from layers.callbacks.gradient_histograms import GradientHistograms
from layers.callbacks.lr_finder import LRFinder, suggest_learning_rate
from layers.callbacks.swa import SWA
from layers.callbacks.time_stopping import TimeStopping
from layers.callbacks.tqdm_progress_bar import TQDMProgressBar

__all__ = [
    "EWC",
    "SWA",
    "GradientHistograms",
    "LRFinder",
    "diagonal_fisher",
    "recompute_batch_norm_statistics",
    "suggest_learning_rate",
    "AverageModelCheckpoint",
    "TimeStopping",
    "TQDMProgressBar",
]
