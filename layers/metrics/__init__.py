"""Metrics for `compile(metrics=...)`: calibration of predicted class probabilities."""

from layers.metrics.calibration import (
    BrierScore,
    ExpectedCalibrationError,
    NegativeLogLikelihood,
)

__all__ = ["BrierScore", "ExpectedCalibrationError", "NegativeLogLikelihood"]
