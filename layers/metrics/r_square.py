"""R^2 under TensorFlow Addons' signature: `RSquare(multioutput=..., num_regressors=...)`.

Keras 3's `keras.metrics.R2Score` computes what TFA's `tfa.metrics.RSquare` did, but names the
argument `class_aggregation` (values `None` / `"uniform_average"` /
`"variance_weighted_average"`, TFA: `multioutput` with `"raw_values"` / `"uniform_average"` /
`"variance_weighted"`), defaults to the name `"r2_score"`, and refuses 1-D targets, which TFA
took (one output, a scalar result). This thin adapter takes TFA's arguments and 1-D targets.
"""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_choice, check_non_negative_int

MULTIOUTPUTS = {
    "raw_values": None,
    "uniform_average": "uniform_average",
    "variance_weighted": "variance_weighted_average",
}


@keras.saving.register_keras_serializable(package="keras_zoo")
class RSquare(keras.metrics.R2Score):
    """The coefficient of determination, `1 - SS_res / SS_tot`, over every example seen.

    Sums of `y`, `y^2`, squared residuals and weights per output are accumulated across batches
    (weighted by `sample_weight`), so the value is over everything seen. With
    `num_regressors=p > 0` it is the adjusted R^2, `1 - (1 - R^2)(n - 1) / (n - p - 1)` (`n` the
    number of target values seen, as in TFA).

    Args:
        name: metric name. Defaults to `"r_square"`.
        dtype: dtype of the state and result. Defaults to `None` (float32).
        multioutput: how outputs combine: `"raw_values"` (one score per output),
            `"uniform_average"` or `"variance_weighted"` (weighted by each output's variance).
            Defaults to `"uniform_average"`.
        num_regressors: the number of independent variables, for the adjusted R^2. Defaults to
            `0` (plain R^2).

    Example:

    ```python
    metric = RSquare()
    metric.update_state([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0])
    float(metric.result())  # 0.94860816
    ```
    """

    def __init__(
        self,
        name: str = "r_square",
        dtype=None,
        multioutput: str = "uniform_average",
        num_regressors: int = 0,
    ):
        check_choice("multioutput", multioutput, list(MULTIOUTPUTS))
        check_non_negative_int("num_regressors", num_regressors)
        super().__init__(
            class_aggregation=MULTIOUTPUTS[multioutput],
            num_regressors=num_regressors,
            name=name,
            dtype=dtype,
        )
        self.multioutput = multioutput
        self._one_output = False

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds a batch: `y_true` and `y_pred` of shape `(batch,)` or `(batch, outputs)`."""
        y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        if len(y_true.shape) == 1:
            self._one_output = True
            y_true = y_true[:, None]
            y_pred = ops.reshape(y_pred, (-1, 1))
        return super().update_state(y_true, y_pred, sample_weight)

    def result(self):
        # Keras's `result` decides the adjusted score with a Python `if` on a tensor, which
        # fails inside `fit`; this one decides in the graph (same numbers as TFA's).
        mean = self.sum / self.count
        total = self.squared_sum - self.sum * mean
        raw_scores = 1.0 - self.total_mse / total
        raw_scores = ops.where(ops.isinf(raw_scores), 0.0, raw_scores)
        if self.multioutput == "raw_values":
            score = raw_scores
        elif self.multioutput == "uniform_average":
            score = ops.mean(raw_scores)
        else:
            score = ops.sum(total * raw_scores) / ops.sum(total)
        if self.num_regressors:
            # The adjusted R^2 while there are more samples than regressors + 1, as in TFA.
            n = ops.cast(self.num_samples, score.dtype)
            p = float(self.num_regressors)
            adjusted = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
            score = ops.where(p < n - 1.0, adjusted, score)
        if self._one_output and self.multioutput == "raw_values":
            return ops.reshape(score, ())
        return score

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "multioutput": self.multioutput,
            "num_regressors": self.num_regressors,
        }
