"""Predictive uncertainty: Monte Carlo prediction, deep ensembles, Bayesian models, calibration.

Example:

```python
from zoo.uncertainty import mc_predict, reliability_diagram

summary = mc_predict(model, x_test, samples=30, from_logits=True)
reliability_diagram(y_test, summary.mean, "reliability.png")
```
"""

from zoo.uncertainty import presets
from zoo.uncertainty.adversarial import FGSMTrainer
from zoo.uncertainty.bayesian_cnn import BayesianCNN
from zoo.uncertainty.bayesian_mlp import BayesianMLP
from zoo.uncertainty.ensemble import DeepEnsemble
from zoo.uncertainty.gaussian import GaussianHead, GaussianNLL
from zoo.uncertainty.mc_predict import mc_predict
from zoo.uncertainty.reliability import CalibrationBins, calibration_bins, reliability_diagram
from zoo.uncertainty.summaries import (
    PredictiveSummary,
    summarize_classification,
    summarize_regression,
)

__all__ = [
    "BayesianCNN",
    "BayesianMLP",
    "CalibrationBins",
    "DeepEnsemble",
    "FGSMTrainer",
    "GaussianHead",
    "GaussianNLL",
    "PredictiveSummary",
    "calibration_bins",
    "mc_predict",
    "presets",
    "reliability_diagram",
    "summarize_classification",
    "summarize_regression",
]
