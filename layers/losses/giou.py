"""Generalized intersection over union (GIoU) loss for bounding boxes (Rezatofighi et al. 2019)."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_choice

GIOU_MODES = ("giou", "iou")


def _divide_or_zero(numerator, denominator):
    safe = ops.where(denominator == 0.0, ops.ones_like(denominator), denominator)
    return ops.where(denominator == 0.0, ops.zeros_like(numerator), numerator / safe)


def _box_sides(boxes):
    y_min, x_min, y_max, x_max = (boxes[..., i] for i in range(4))
    return y_min, x_min, y_max, x_max


def _area(y_min, x_min, y_max, x_max):
    return ops.maximum(x_max - x_min, 0.0) * ops.maximum(y_max - y_min, 0.0)


def box_giou(boxes_a, boxes_b, mode: str = "giou"):
    """IoU, or GIoU, of two sets of boxes `[y_min, x_min, y_max, x_max]` (last axis of 4).

    `iou = intersection / union` (0 where the union is empty); `giou = iou - (enclosing -
    union) / enclosing`, with `enclosing` the area of the smallest box holding both.
    """
    a_y0, a_x0, a_y1, a_x1 = _box_sides(boxes_a)
    b_y0, b_x0, b_y1, b_x1 = _box_sides(boxes_b)
    intersection = _area(
        ops.maximum(a_y0, b_y0),
        ops.maximum(a_x0, b_x0),
        ops.minimum(a_y1, b_y1),
        ops.minimum(a_x1, b_x1),
    )
    union = _area(a_y0, a_x0, a_y1, a_x1) + _area(b_y0, b_x0, b_y1, b_x1) - intersection
    iou = _divide_or_zero(intersection, union)
    if mode == "iou":
        return iou
    enclosing = _area(
        ops.minimum(a_y0, b_y0),
        ops.minimum(a_x0, b_x0),
        ops.maximum(a_y1, b_y1),
        ops.maximum(a_x1, b_x1),
    )
    return iou - _divide_or_zero(enclosing - union, enclosing)


def giou_loss(y_true, y_pred, mode: str = "giou"):
    """`1 - GIoU` (or `1 - IoU`) per box, as TensorFlow Addons' `tfa.losses.giou_loss`.

    Args:
        y_true: boxes `(..., 4)` as `[y_min, x_min, y_max, x_max]`.
        y_pred: predicted boxes of the same shape.
        mode: `"giou"` or `"iou"`. Defaults to `"giou"`.

    Returns:
        The loss per box, shape `y_pred.shape[:-1]` (size-1 axes squeezed, as in TFA).

    Example:

    ```python
    giou_loss([[4.0, 3.0, 7.0, 5.0]], [[3.0, 4.0, 6.0, 8.0]])  # 1.075
    ```

    Reference:
        Rezatofighi et al., "Generalized Intersection over Union: A Metric and A Loss for
        Bounding Box Regression", CVPR 2019.
    """
    check_choice("mode", mode, GIOU_MODES)
    y_pred = ops.convert_to_tensor(y_pred)
    if not keras.backend.is_float_dtype(y_pred.dtype):
        y_pred = ops.cast(y_pred, "float32")
    y_true = ops.cast(y_true, y_pred.dtype)
    if y_pred.shape[-1] != 4 or y_true.shape[-1] != 4:
        raise ValueError(
            "`y_true` and `y_pred` must be boxes with a last axis of 4 "
            "([y_min, x_min, y_max, x_max]). "
            f"Received: y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
        )
    return 1.0 - ops.squeeze(box_giou(y_pred, y_true, mode))


@keras.saving.register_keras_serializable(package="keras_zoo")
class GIoULoss(keras.losses.Loss):
    """GIoU (or IoU) loss for bounding-box regression, TensorFlow Addons' `GIoULoss`.

    The loss per box is `1 - GIoU(y_pred, y_true)` (between 0 and 2); unlike `1 - IoU` it still
    has a gradient when the boxes do not overlap. Boxes are `[y_min, x_min, y_max, x_max]`.

    Args:
        mode: `"giou"` or `"iou"`. Defaults to `"giou"`.
        reduction: keras loss reduction. Defaults to `"sum_over_batch_size"` (TFA's `AUTO`).
        name: name of the loss. Defaults to `"giou_loss"`.
        dtype: dtype of the computation. Defaults to `None` (`keras.backend.floatx()`).

    Example:

    ```python
    loss = GIoULoss()
    loss([[4.0, 3.0, 7.0, 5.0], [5.0, 6.0, 10.0, 7.0]],
         [[3.0, 4.0, 6.0, 8.0], [14.0, 14.0, 15.0, 15.0]])  # 1.5041667
    ```

    Reference:
        Rezatofighi et al., "Generalized Intersection over Union: A Metric and A Loss for
        Bounding Box Regression", CVPR 2019.
    """

    def __init__(
        self,
        mode: str = "giou",
        reduction: str = "sum_over_batch_size",
        name: str = "giou_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.mode = check_choice("mode", mode, GIOU_MODES)
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        return giou_loss(y_true, y_pred, self.mode)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "dtype": self._dtype_argument}
