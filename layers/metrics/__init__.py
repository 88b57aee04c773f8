"""Metrics for `compile(metrics=...)`: calibration of predicted class probabilities, accuracy on
the mixed labels of MixUp/CutMix, and TensorFlow Addons' streaming metrics under their TFA names
(Cohen's kappa, Matthews correlation, Hamming loss, multi-label confusion matrix, geometric and
harmonic means, rank and Pearson correlations, R squared, F1 / F-beta); `layers.addons.metrics`
is `tfa.metrics`."""

from layers.metrics.agreement import CohenKappa, MatthewsCorrelationCoefficient
from layers.metrics.calibration import BrierScore, ExpectedCalibrationError, NegativeLogLikelihood
from layers.metrics.classification_scores import F1Score, FBetaScore
from layers.metrics.correlation import PearsonsCorrelation
from layers.metrics.mean_metric_wrapper import MeanMetricWrapper
from layers.metrics.means import GeometricMean, HarmonicMean
from layers.metrics.mixed_label_accuracy import MixedLabelAccuracy, mixed_label_accuracy
from layers.metrics.multilabel import (
    HammingLoss,
    MultiLabelConfusionMatrix,
    hamming_distance,
    hamming_loss_fn,
)
from layers.metrics.r_square import RSquare
from layers.metrics.rank_correlation import (
    CorrelationBase,
    KendallsTauB,
    KendallsTauC,
    SpearmansRank,
)

__all__ = [
    "BrierScore",
    "ExpectedCalibrationError",
    "MixedLabelAccuracy",
    "NegativeLogLikelihood",
    "mixed_label_accuracy",
    "CohenKappa",
    "CorrelationBase",
    "F1Score",
    "FBetaScore",
    "GeometricMean",
    "HammingLoss",
    "HarmonicMean",
    "KendallsTauB",
    "KendallsTauC",
    "MatthewsCorrelationCoefficient",
    "MeanMetricWrapper",
    "MultiLabelConfusionMatrix",
    "PearsonsCorrelation",
    "RSquare",
    "SpearmansRank",
    "hamming_distance",
    "hamming_loss_fn",
]
