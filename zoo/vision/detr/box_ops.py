"""Box formats and the generalized IoU of DETR's set loss (Rezatofighi et al. 2019).

Formats: `"xyxy"` (x0, y0, x1, y1), `"cxcywh"` (centre, width, height; DETR's predictions,
normalised to [0, 1]) and `"xywh"` (COCO's x0, y0, width, height). Everything is written with
`keras.ops` on the last axis, so it runs on any batch shape, inside `fit` and under XLA.
"""

from __future__ import annotations

from keras import ops


def cxcywh_to_xyxy(boxes):
    """`(cx, cy, w, h)` -> `(x0, y0, x1, y1)` on the last axis."""
    cx, cy, w, h = ops.unstack(ops.convert_to_tensor(boxes), 4, axis=-1)
    return ops.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], axis=-1)


def xyxy_to_cxcywh(boxes):
    """`(x0, y0, x1, y1)` -> `(cx, cy, w, h)` on the last axis."""
    x0, y0, x1, y1 = ops.unstack(ops.convert_to_tensor(boxes), 4, axis=-1)
    return ops.stack([(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0], axis=-1)


def xywh_to_xyxy(boxes):
    """COCO's `(x0, y0, w, h)` -> `(x0, y0, x1, y1)` on the last axis."""
    x0, y0, w, h = ops.unstack(ops.convert_to_tensor(boxes), 4, axis=-1)
    return ops.stack([x0, y0, x0 + w, y0 + h], axis=-1)


def xyxy_to_xywh(boxes):
    """`(x0, y0, x1, y1)` -> COCO's `(x0, y0, w, h)` on the last axis."""
    x0, y0, x1, y1 = ops.unstack(ops.convert_to_tensor(boxes), 4, axis=-1)
    return ops.stack([x0, y0, x1 - x0, y1 - y0], axis=-1)


def box_area(boxes):
    """Areas of `(..., 4)` boxes `(x0, y0, x1, y1)`."""
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def _pairwise_iou_and_union(boxes_a, boxes_b):
    area_a = box_area(boxes_a)[..., :, None]
    area_b = box_area(boxes_b)[..., None, :]
    top_left = ops.maximum(boxes_a[..., :, None, :2], boxes_b[..., None, :, :2])
    bottom_right = ops.minimum(boxes_a[..., :, None, 2:], boxes_b[..., None, :, 2:])
    size = ops.maximum(bottom_right - top_left, 0.0)
    intersection = size[..., 0] * size[..., 1]
    union = area_a + area_b - intersection
    return intersection / union, union


def box_iou(boxes_a, boxes_b):
    """Pairwise IoU `[..., Na, Nb]` of `[..., Na, 4]` and `[..., Nb, 4]` boxes (x0, y0, x1, y1)."""
    boxes_a = ops.convert_to_tensor(boxes_a)
    boxes_b = ops.convert_to_tensor(boxes_b, dtype=boxes_a.dtype)
    return _pairwise_iou_and_union(boxes_a, boxes_b)[0]


def generalized_box_iou(boxes_a, boxes_b):
    """Pairwise generalized IoU of two sets of boxes `(x0, y0, x1, y1)`.

    `GIoU = IoU - (|C| - |A u B|) / |C|` with `C` the smallest box enclosing both; it lies in
    (-1, 1] and, unlike IoU, still has a gradient for boxes that do not overlap. Leading batch
    axes are broadcast.

    Args:
        boxes_a: `[..., Na, 4]` boxes with `x1 >= x0` and `y1 >= y0`.
        boxes_b: `[..., Nb, 4]` boxes.

    Returns:
        `[..., Na, Nb]` generalized IoUs.

    Example:

    ```python
    zoo.vision.generalized_box_iou([[0., 0., 2., 2.]], [[1., 1., 3., 3.], [4., 4., 5., 5.]])
    # [[-0.0794, -0.8]]: IoU 1/7 minus 2/9 of the enclosing box; disjoint boxes
    ```

    Reference:
        Rezatofighi et al., "Generalized Intersection over Union", CVPR 2019.
    """
    boxes_a = ops.convert_to_tensor(boxes_a)
    boxes_b = ops.convert_to_tensor(boxes_b, dtype=boxes_a.dtype)
    iou, union = _pairwise_iou_and_union(boxes_a, boxes_b)
    top_left = ops.minimum(boxes_a[..., :, None, :2], boxes_b[..., None, :, :2])
    bottom_right = ops.maximum(boxes_a[..., :, None, 2:], boxes_b[..., None, :, 2:])
    size = ops.maximum(bottom_right - top_left, 0.0)
    enclosing = size[..., 0] * size[..., 1]
    return iou - (enclosing - union) / enclosing
