"""Accuracy for class ids or the mixed probability labels of MixUp and CutMix."""

from __future__ import annotations

import keras
from keras import ops

from layers.losses.label_smoothing import is_probability_labels


def mixed_label_accuracy(y_true, y_pred):
    """Per-example 1.0/0.0: does the predicted class equal the label's (largest-weight) class.

    Args:
        y_true: class ids, `(batch,)` or `(batch, 1)`, or probabilities `(batch, num_classes)`.
        y_pred: predictions (logits or probabilities), `(batch, num_classes)`.

    Returns:
        A float32 tensor of shape `(batch,)`.
    """
    if is_probability_labels(y_true, y_pred, "MixedLabelAccuracy"):
        target = ops.argmax(y_true, axis=-1)
    else:
        target = ops.cast(y_true, "int64")
        if len(target.shape) == len(y_pred.shape):
            target = ops.squeeze(target, axis=-1)
    predicted = ops.argmax(y_pred, axis=-1)
    return ops.cast(ops.equal(ops.cast(target, "int64"), ops.cast(predicted, "int64")), "float32")


@keras.saving.register_keras_serializable(package="keras_zoo")
class MixedLabelAccuracy(keras.metrics.MeanMetricWrapper):
    """Classification accuracy for class-id labels or mixed probability labels.

    With class ids (shape `(batch,)` or `(batch, 1)`) it equals
    `keras.metrics.SparseCategoricalAccuracy`. With probability labels (shape
    `(batch, num_classes)`, as MixUp and CutMix produce) an example counts as correct when the
    predicted class is the class with the largest weight in its label; for a MixUp/CutMix batch
    that is the class covering most of the image, so the training figure is a rough progress
    signal, not the accuracy on clean images (evaluate on unmixed data for that).

    Args:
        name: metric name. Defaults to `"accuracy"`.
        dtype: dtype of the metric's result. Defaults to `None` (float32).

    Example:

    ```python
    model.compile(optimizer="adamw", loss=SparseLabelSmoothingCrossentropy(0.1),
                  metrics=[MixedLabelAccuracy()])
    ```

    Reference:
        Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018.
    """

    def __init__(self, name: str = "accuracy", dtype=None):
        super().__init__(fn=mixed_label_accuracy, name=name, dtype=dtype)
        # `mode="auto"` callbacks (EarlyStopping, ModelCheckpoint) read this: higher is better.
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}
