"""The Hungarian matcher of DETR: a one-to-one assignment of predictions to targets.

The assignment itself is `scipy.optimize.linear_sum_assignment` (the Jonker-Volgenant
algorithm). Inside `fit` the matching cost is computed with TensorFlow ops for the whole batch
(and every auxiliary decoder layer) at once; one `tf.numpy_function` then runs scipy on each
image's `[num_queries, num_targets]` block and returns, per target, the query it was given.
The step therefore runs in graph mode (and under `MirroredStrategy`, one call per replica) but
cannot be compiled with XLA: `DETRDetector` compiles with `jit_compile=False` when it uses the
set loss. The assignment is not differentiated (as in the paper); gradients flow through the
losses of the matched pairs.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from keras import ops

from zoo.vision.detr.box_ops import cxcywh_to_xyxy, generalized_box_iou


def hungarian_match(cost) -> tuple[np.ndarray, np.ndarray]:
    """The minimum-cost one-to-one assignment of rows to columns of `cost`.

    The same assignment as `scipy.optimize.linear_sum_assignment`, which computes it. With more
    rows than columns (DETR: queries x targets) every column gets a row.

    Args:
        cost: a `[rows, columns]` matrix (array or tensor) of finite numbers.

    Returns:
        `(row_indices, col_indices)`, int64 arrays of equal length, rows sorted ascending.

    Example:

    ```python
    rows, cols = zoo.vision.hungarian_match([[4.0, 1.0, 3.0], [2.0, 0.0, 5.0], [3.0, 2.0, 2.0]])
    # rows [0, 1, 2], cols [1, 0, 2]
    ```

    Reference:
        Kuhn, "The Hungarian method for the assignment problem", 1955; Carion et al., "End-to-End
        Object Detection with Transformers", ECCV 2020, §3.1.
    """
    cost = np.asarray(ops.convert_to_numpy(cost) if not isinstance(cost, np.ndarray) else cost)
    if cost.ndim != 2:
        raise ValueError(
            f"`cost` must be a [rows, columns] matrix. Received: cost with shape {cost.shape}"
        )
    if not np.all(np.isfinite(cost)):
        raise ValueError("`cost` must hold finite numbers. Received: cost with NaN or inf")
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(cost)
    return rows.astype("int64"), cols.astype("int64")


def _assign_batch(costs: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """For each `[Q, M]` cost block, the query matched to each of its first `counts[i]`
    targets (`-1` for padding targets)."""
    from scipy.optimize import linear_sum_assignment

    assigned = np.full((costs.shape[0], costs.shape[2]), -1, dtype=np.int32)
    for i, count in enumerate(counts):
        if count == 0:
            continue
        block = np.nan_to_num(costs[i, :, :count], nan=1e8, posinf=1e8, neginf=-1e8)
        rows, cols = linear_sum_assignment(block)
        assigned[i, cols] = rows
    return assigned


def matching_cost(logits, pred_boxes, labels, boxes, class_weight, bbox_weight, giou_weight):
    """DETR's matching cost `[..., Q, M]`: `-p(class) * w_class + L1 * w_bbox - GIoU * w_giou`.

    Args:
        logits: `[..., Q, num_classes + 1]` class logits.
        pred_boxes: `[..., Q, 4]` predicted boxes `(cx, cy, w, h)`.
        labels: `[..., M]` target class ids (padding entries may hold anything in range).
        boxes: `[..., M, 4]` target boxes `(cx, cy, w, h)`.
        class_weight, bbox_weight, giou_weight: the cost weights.
    """
    probabilities = ops.softmax(logits, axis=-1)
    class_cost = -ops.take_along_axis(
        probabilities, ops.repeat(labels[..., None, :], ops.shape(logits)[-2], axis=-2), axis=-1
    )
    l1_cost = ops.sum(ops.abs(pred_boxes[..., :, None, :] - boxes[..., None, :, :]), axis=-1)
    giou = generalized_box_iou(cxcywh_to_xyxy(pred_boxes), cxcywh_to_xyxy(boxes))
    return bbox_weight * l1_cost + class_weight * class_cost - giou_weight * giou


def match(costs, counts):
    """Runs `hungarian_match` on each image's block of a batch of costs, in the graph.

    Args:
        costs: `[N, Q, M]` float costs (queries x padded targets).
        counts: `[N]` int, the number of real targets of each image (the first ones).

    Returns:
        `[N, M]` int32: the query assigned to each target, `-1` for padding targets.
    """
    assigned = tf.numpy_function(
        _assign_batch,
        [tf.stop_gradient(tf.cast(costs, tf.float32)), tf.cast(counts, tf.int32)],
        tf.int32,
        stateful=False,
    )
    return tf.ensure_shape(assigned, costs.shape[:1].concatenate(costs.shape[2:]))
