"""Shared pieces of the vision classifiers: a label-smoothing loss for integer labels."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_unit_interval
from zoo.task import ClassifierTask


@keras.saving.register_keras_serializable(package="keras_zoo")
class SparseLabelSmoothingCrossentropy(keras.losses.Loss):
    """Categorical cross-entropy with label smoothing, for integer class labels.

    The labels are one-hot encoded and smoothed to `(1 - label_smoothing) * one_hot +
    label_smoothing / num_classes`, as in Szegedy et al.; keras's sparse cross-entropy has no
    smoothing option.

    Args:
        label_smoothing: the smoothing amount in [0, 1). Defaults to `0.1`.
        from_logits: whether predictions are logits. Defaults to `True`.
        **kwargs: `name`, `reduction` and the other `keras.losses.Loss` arguments.

    Example:

    ```python
    model.compile(loss=SparseLabelSmoothingCrossentropy(0.1), optimizer="adamw")
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
        y_true = ops.cast(y_true, "int32")
        if len(y_true.shape) == len(y_pred.shape):
            y_true = ops.squeeze(y_true, axis=-1)
        one_hot = ops.one_hot(y_true, ops.shape(y_pred)[-1], dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            one_hot, y_pred, from_logits=self.from_logits, label_smoothing=self.label_smoothing
        )

    def get_config(self):
        return {
            **super().get_config(),
            "label_smoothing": self.label_smoothing,
            "from_logits": self.from_logits,
        }


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
