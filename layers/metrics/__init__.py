"""Metrics for `compile(metrics=...)`: calibration of predicted class probabilities, and accuracy
on the mixed labels of MixUp/CutMix."""

from layers.metrics.calibration import (
    BrierScore,
    ExpectedCalibrationError,
    NegativeLogLikelihood,
)
from layers.metrics.mixed_label_accuracy import MixedLabelAccuracy, mixed_label_accuracy

__all__ = [
    "BrierScore",
    "ExpectedCalibrationError",
    "MixedLabelAccuracy",
    "NegativeLogLikelihood",
    "mixed_label_accuracy",
]
