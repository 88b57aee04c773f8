"""Fairness of binary classifiers: audits, a training penalty, fairlearn reductions, data.

Audits compare a classifier's selection and error rates across the groups of a sensitive
attribute with fairlearn's `MetricFrame` (`audit`, the `FairnessAudit` callback, `audit_table`,
`plot_audit`). Two ways to train with a constraint: `FairnessPenalty` adds a soft
demographic-parity or equalized-odds gap to the Keras loss; `KerasFairClassifier` lets
fairlearn's reductions (`ExponentiatedGradient`, Agarwal et al. 2018) reweight and refit a Keras
model. `make_biased_data` generates a seeded dataset biased through a proxy feature.

Example:

```python
import zoo.fairness as fairness

data = fairness.make_biased_data(2000, seed=0)
result = fairness.audit(data.y, model.predict(data.x), data.sensitive)
print(fairness.audit_table(result))
```
"""

from zoo.fairness.audit import audit
from zoo.fairness.calibration import expected_calibration_error
from zoo.fairness.callback import FairnessAudit
from zoo.fairness.classifier import KerasFairClassifier, dense_binary_classifier
from zoo.fairness.data import BiasedData, make_biased_data
from zoo.fairness.inputs import sensitive_array
from zoo.fairness.penalty import CONSTRAINTS, FairnessPenalty, fairness_gap
from zoo.fairness.report import audit_table, plot_audit

__all__ = [
    "CONSTRAINTS",
    "BiasedData",
    "FairnessAudit",
    "FairnessPenalty",
    "KerasFairClassifier",
    "audit",
    "audit_table",
    "dense_binary_classifier",
    "expected_calibration_error",
    "fairness_gap",
    "make_biased_data",
    "plot_audit",
    "sensitive_array",
]
