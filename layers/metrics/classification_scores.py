"""F-scores under TensorFlow Addons' signature: `FBetaScore` and `F1Score` with `num_classes`.

Keras 3's `keras.metrics.FBetaScore` / `F1Score` compute what TFA's did (TFA's code moved into
Keras), but take no `num_classes`: TFA's calls, `F1Score(num_classes=3, average="micro")` or
`F1Score(3)`, fail there. These thin adapters take TFA's arguments, create the state at
construction from `num_classes` (so it exists before an XLA or distributed step traces), and
accept integer `beta` / `threshold` as TFA did. Everything else is Keras's metric.
"""

from __future__ import annotations

import keras

from layers.validation import check_choice, check_positive_float, check_positive_int

AVERAGES = (None, "micro", "macro", "weighted")


def _threshold(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValueError(
            f"`threshold` must be a number in (0, 1] or None. Received: threshold={value!r}"
        )
    return float(value)


@keras.saving.register_keras_serializable(package="keras_zoo")
class FBetaScore(keras.metrics.FBetaScore):
    """The F-beta score, per class or averaged, accumulated over every batch (TFA's signature).

    `F_beta = (1 + beta^2) P R / (beta^2 P + R)` from the true positives, false positives and
    false negatives of each class summed over all batches (weighted by `sample_weight`, one per
    example). `y_true` is one-hot or multi-hot `(batch, num_classes)`; `y_pred` scores are
    thresholded (`> threshold`), or with `threshold=None` the arg-max of each row is the
    prediction.

    Args:
        num_classes: the number of classes (the last dimension of `y_true` and `y_pred`).
        average: `None` (one score per class), `"micro"` (from the pooled counts), `"macro"`
            (the mean of the class scores) or `"weighted"` (weighted by the number of true
            instances of each class). Defaults to `None`.
        beta: the weight of recall against precision, a positive number. Defaults to `1.0`.
        threshold: a number in `(0, 1]`, or `None` for the arg-max. Defaults to `None`.
        name: metric name. Defaults to `"fbeta_score"`.
        dtype: dtype of the state and result. Defaults to `None` (float32).

    Example:

    ```python
    metric = FBetaScore(num_classes=3, beta=2.0, threshold=0.5)
    metric.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
                        [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
    metric.result()  # [0.3846154, 0.90909094, 0.8333334]
    ```

    Reference:
        Van Rijsbergen, "Information Retrieval", 2nd ed., Butterworths, 1979 (chapter 7).
    """

    def __init__(
        self,
        num_classes: int,
        average: str | None = None,
        beta: float = 1.0,
        threshold: float | None = None,
        name: str = "fbeta_score",
        dtype=None,
    ):
        check_positive_int("num_classes", num_classes)
        check_choice("average", average, AVERAGES)
        super().__init__(
            average=average,
            beta=check_positive_float("beta", beta),
            threshold=_threshold(threshold),
            name=name,
            dtype=dtype,
        )
        self.num_classes = num_classes
        self._build((None, num_classes), (None, num_classes))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


@keras.saving.register_keras_serializable(package="keras_zoo")
class F1Score(FBetaScore):
    """The F1 score (`FBetaScore` with `beta=1`), with TFA's signature.

    Args:
        num_classes: the number of classes (the last dimension of `y_true` and `y_pred`).
        average: `None`, `"micro"`, `"macro"` or `"weighted"` (see `FBetaScore`). Defaults to
            `None`.
        threshold: a number in `(0, 1]`, or `None` for the arg-max. Defaults to `None`.
        name: metric name. Defaults to `"f1_score"`.
        dtype: dtype of the state and result. Defaults to `None` (float32).

    Example:

    ```python
    model.compile("adam", "categorical_crossentropy", metrics=[F1Score(10, average="macro")])
    ```
    """

    def __init__(
        self,
        num_classes: int,
        average: str | None = None,
        threshold: float | None = None,
        name: str = "f1_score",
        dtype=None,
    ):
        super().__init__(num_classes, average, 1.0, threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
