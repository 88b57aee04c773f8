"""Cross-entropy with label smoothing for class ids or the probability labels of MixUp/CutMix."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_unit_interval


def is_probability_labels(y_true, y_pred, what: str) -> bool:
    """Whether `y_true` holds per-class probabilities, told apart from class ids by its shape.

    `(batch,)` and `(batch, 1)` are class ids; `(batch, num_classes)` (same shape as the
    predictions, with more than one class) are probabilities. Anything else is an error rather
    than a guess, so that labels of the wrong width are not silently broadcast.

    Args:
        y_true: the labels.
        y_pred: the predictions, `(batch, num_classes)`.
        what: the component asking, named in the error.

    Raises:
        ValueError: labels of the predictions' rank whose width is neither 1 nor `num_classes`.
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
        if is_probability_labels(y_true, y_pred, type(self).__name__):
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
