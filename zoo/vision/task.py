"""Shared pieces of the vision classifiers: a label-smoothing loss and an accuracy that take
integer class labels or the probability labels that MixUp and CutMix produce."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_unit_interval
from zoo.task import ClassifierTask


def _is_probability_labels(y_true, y_pred, what: str) -> bool:
    """Whether `y_true` holds per-class probabilities, told apart from class ids by its shape.

    `(batch,)` and `(batch, 1)` are class ids; `(batch, num_classes)` (same shape as the
    predictions, with more than one class) are probabilities. Anything else is an error rather
    than a guess, so that labels of the wrong width are not silently broadcast.
    """
    if len(y_true.shape) != len(y_pred.shape):
        return False
    classes, width = y_pred.shape[-1], y_true.shape[-1]
    if width == 1:
        return False
    if width is None or classes is None or width != classes:
        raise ValueError(
            f"{what}: labels must be class ids of shape (batch,) or (batch, 1), or probabilities "
            f"of shape (batch, num_classes={classes}). Received: labels of shape {y_true.shape}"
        )
    return True


@keras.saving.register_keras_serializable(package="keras_zoo")
class SparseLabelSmoothingCrossentropy(keras.losses.Loss):
    """Categorical cross-entropy with label smoothing, for class ids or probability labels.

    Class-id labels (shape `(batch,)` or `(batch, 1)`) are one-hot encoded; probability labels
    (shape `(batch, num_classes)`, e.g. the mixed labels of `keras.layers.MixUp` and
    `keras.layers.CutMix`) are used as they are. Either is then smoothed to
    `(1 - label_smoothing) * labels + label_smoothing / num_classes`, as in Szegedy et al.;
    keras's sparse cross-entropy has no smoothing option and takes no probabilities. The shape
    alone tells the two kinds apart, so with `num_classes=1` labels are always class ids.

    Args:
        label_smoothing: the smoothing amount in [0, 1). Defaults to `0.1`.
        from_logits: whether predictions are logits. Defaults to `True`.
        **kwargs: `name`, `reduction` and the other `keras.losses.Loss` arguments.

    Example:

    ```python
    model.compile(loss=SparseLabelSmoothingCrossentropy(0.1), optimizer="adamw")
    model.fit(images, class_ids)  # or MixUp/CutMix batches with probability labels
    ```

    Reference:
        Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", CVPR 2016.
    """

    def __init__(self, label_smoothing: float = 0.1, from_logits: bool = True, **kwargs):
        kwargs.setdefault("name", "sparse_label_smoothing_crossentropy")
        super().__init__(**kwargs)
        self.label_smoothing = check_unit_interval(
            "label_smoothing", label_smoothing, include_low=True, include_high=False
        )
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        if _is_probability_labels(y_true, y_pred, type(self).__name__):
            targets = ops.cast(y_true, y_pred.dtype)
        else:
            class_ids = ops.cast(y_true, "int32")
            if len(class_ids.shape) == len(y_pred.shape):
                class_ids = ops.squeeze(class_ids, axis=-1)
            targets = ops.one_hot(class_ids, ops.shape(y_pred)[-1], dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            targets, y_pred, from_logits=self.from_logits, label_smoothing=self.label_smoothing
        )

    def get_config(self):
        return {
            **super().get_config(),
            "label_smoothing": self.label_smoothing,
            "from_logits": self.from_logits,
        }


def mixed_label_accuracy(y_true, y_pred):
    """Per-example 1.0/0.0: does the predicted class equal the label's (largest-weight) class."""
    if _is_probability_labels(y_true, y_pred, "MixedLabelAccuracy"):
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


class VisionClassifierTask(ClassifierTask):
    """`ClassifierTask` whose default loss applies the model's `label_smoothing`."""

    label_smoothing: float = 0.0

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        if loss == "auto" and self.label_smoothing:
            loss = SparseLabelSmoothingCrossentropy(
                self.label_smoothing, from_logits=self.output_activation is None
            )
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)


def check_output_activation(output_activation):
    if output_activation not in (None, "softmax"):
        raise ValueError(
            "`output_activation` must be None (logits) or 'softmax'. "
            f"Received: output_activation={output_activation!r}"
        )
    return output_activation


def check_image_shape(name: str, value) -> tuple[int, int, int] | None:
    """`None` or `(height, width, channels)` of positive integers."""
    if value is None:
        return None
    if (
        not isinstance(value, list | tuple)
        or len(value) != 3
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise ValueError(
            f"`{name}` must be (height, width, channels) of positive integers. "
            f"Received: {name}={value!r}"
        )
    return tuple(value)


def check_label_smoothing(value) -> float:
    return check_unit_interval("label_smoothing", value, include_low=True, include_high=False)


def resized_input(input_shape, backbone, dtype):
    """The model input, and the tensor the backbone gets (resized when the shapes differ)."""
    target = (*backbone.image_hw, backbone.num_channels)
    if input_shape is None:
        inputs = keras.Input(shape=target, name="images")
        return inputs, inputs
    if input_shape[-1] != backbone.num_channels:
        raise ValueError(
            f"`input_shape` has {input_shape[-1]} channels but `num_channels` is "
            f"{backbone.num_channels}. Received: input_shape={input_shape}"
        )
    inputs = keras.Input(shape=input_shape, name="images")
    if tuple(input_shape) == target:
        return inputs, inputs
    return inputs, keras.layers.Resizing(*backbone.image_hw, name="resize", dtype=dtype)(inputs)
