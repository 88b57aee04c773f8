"""DETR's set prediction loss: Hungarian matching, then cross-entropy, L1 and GIoU."""

from __future__ import annotations

import keras
import tensorflow as tf

from layers.validation import check_positive_int, check_unit_interval
from zoo.vision.detr.box_ops import cxcywh_to_xyxy, generalized_box_iou
from zoo.vision.detr.matcher import match, matching_cost


def _check_weight(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative number. Received: {name}={value!r}")
    return float(value)


@keras.saving.register_keras_serializable(package="keras_zoo")
class DETRSetLoss(keras.losses.Loss):
    """The bipartite matching loss of DETR, over the final and every auxiliary decoder output.

    For each image and each decoder output, predictions are matched one-to-one to the targets by
    the Hungarian algorithm on the cost `class_cost * -p(class) + bbox_cost * L1 + giou_cost *
    -GIoU` (`zoo.vision.detr.matcher`). The loss is then a cross-entropy over all queries (the
    unmatched ones must predict "no object", class `num_classes`, whose weight is `eos_coef`),
    plus, for the matched pairs, the L1 distance of the `(cx, cy, w, h)` boxes and `1 - GIoU`,
    both averaged over the number of target boxes in the batch:
    `ce + bbox_loss_weight * L1 + giou_loss_weight * GIoU`, summed over the decoder outputs.

    Targets are padded: `{"labels": [batch, max_boxes] int (-1 after the last real box),
    "boxes": [batch, max_boxes, 4] (cx, cy, w, h) in [0, 1]}` (`pad_targets` builds them).
    Predictions are the detector's dict (`"logits"`, `"pred_boxes"` and, with auxiliary
    losses, `"aux_logits"`, `"aux_pred_boxes"`). `DETRDetector.compile()` uses this loss by
    default; the matching runs scipy through `tf.numpy_function`, so the step is not XLA-compiled.

    Args:
        num_classes: object classes (without "no object").
        eos_coef: weight of the "no object" class in the cross-entropy. Defaults to `0.1`.
        class_cost, bbox_cost, giou_cost: matching cost weights. Default to `1`, `5`, `2`.
        bbox_loss_weight, giou_loss_weight: loss weights of L1 and GIoU. Default to `5`, `2`.
        name: loss name. Defaults to `"detr_set_loss"`.

    Example:

    ```python
    loss = DETRSetLoss(num_classes=3)
    value = loss.components(targets, detector(images))["loss"]
    ```

    Reference:
        Carion et al., "End-to-End Object Detection with Transformers", ECCV 2020, §3.1, §A.2.
    """

    def __init__(
        self,
        num_classes: int,
        eos_coef: float = 0.1,
        class_cost: float = 1.0,
        bbox_cost: float = 5.0,
        giou_cost: float = 2.0,
        bbox_loss_weight: float = 5.0,
        giou_loss_weight: float = 2.0,
        name: str = "detr_set_loss",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.eos_coef = check_unit_interval(
            "eos_coef", eos_coef, include_low=False, include_high=True
        )
        self.class_cost = _check_weight("class_cost", class_cost)
        self.bbox_cost = _check_weight("bbox_cost", bbox_cost)
        self.giou_cost = _check_weight("giou_cost", giou_cost)
        self.bbox_loss_weight = _check_weight("bbox_loss_weight", bbox_loss_weight)
        self.giou_loss_weight = _check_weight("giou_loss_weight", giou_loss_weight)

    def call(self, y_true, y_pred):
        return self.components(y_true, y_pred)["loss"]

    def components(self, targets, outputs) -> dict[str, tf.Tensor]:
        """The total loss and its parts (`loss_ce`, `loss_bbox`, `loss_giou`, summed over the
        decoder outputs), scalars."""
        logits = tf.cast(outputs["logits"], tf.float32)[None]
        pred_boxes = tf.cast(outputs["pred_boxes"], tf.float32)[None]
        if "aux_logits" in outputs:
            # [layers - 1, batch, ...] then the final output last.
            aux_logits = tf.transpose(tf.cast(outputs["aux_logits"], tf.float32), [1, 0, 2, 3])
            aux_boxes = tf.transpose(tf.cast(outputs["aux_pred_boxes"], tf.float32), [1, 0, 2, 3])
            logits = tf.concat([aux_logits, logits], axis=0)
            pred_boxes = tf.concat([aux_boxes, pred_boxes], axis=0)
        labels = tf.cast(targets["labels"], tf.int32)
        boxes = tf.cast(targets["boxes"], tf.float32)
        # Padding boxes become a proper box: a degenerate one would give NaN GIoU gradients.
        boxes = tf.where((labels >= 0)[..., None], boxes, tf.constant([0.5, 0.5, 1.0, 1.0]))
        layers = tf.shape(logits)[0]
        batch, num_queries = tf.shape(logits)[1], tf.shape(logits)[2]
        max_boxes = tf.shape(labels)[1]

        valid = labels >= 0
        counts = tf.reduce_sum(tf.cast(valid, tf.int32), axis=1)
        safe_labels = tf.where(valid, labels, 0)
        all_labels = tf.broadcast_to(safe_labels[None], [layers, batch, max_boxes])
        all_boxes = tf.broadcast_to(boxes[None], [layers, batch, max_boxes, 4])
        cost = matching_cost(
            logits,
            pred_boxes,
            all_labels,
            all_boxes,
            self.class_cost,
            self.bbox_cost,
            self.giou_cost,
        )
        assigned = match(
            tf.reshape(cost, [layers * batch, num_queries, max_boxes]), tf.tile(counts, [layers])
        )
        assigned = tf.reshape(assigned, [layers, batch, max_boxes])

        # Classification over every query: the matched ones take their target's class.
        one_hot = tf.one_hot(assigned, num_queries, dtype=tf.float32)  # -1 -> all zeros
        is_matched = tf.reduce_max(one_hot, axis=2) > 0  # [L, B, Q]
        matched_label = tf.reduce_sum(one_hot * tf.cast(all_labels, tf.float32)[..., None], 2)
        target_class = tf.where(is_matched, tf.cast(matched_label, tf.int32), self.num_classes)
        class_weight = tf.where(target_class == self.num_classes, self.eos_coef, 1.0)
        cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(target_class, logits)
        loss_ce = tf.reduce_sum(
            tf.reduce_sum(class_weight * cross_entropy, [1, 2])
            / tf.reduce_sum(class_weight, [1, 2])
        )

        # Boxes of the matched pairs, averaged over the batch's number of target boxes.
        matched_boxes = tf.gather(pred_boxes, tf.maximum(assigned, 0), batch_dims=2)
        mask = tf.cast(valid, tf.float32)[None]
        num_boxes = tf.maximum(tf.reduce_sum(tf.cast(counts, tf.float32)), 1.0)
        l1 = tf.reduce_sum(tf.abs(matched_boxes - all_boxes), axis=-1)
        loss_bbox = tf.reduce_sum(l1 * mask) / num_boxes
        giou = generalized_box_iou(
            cxcywh_to_xyxy(matched_boxes)[..., None, :], cxcywh_to_xyxy(all_boxes)[..., None, :]
        )[..., 0, 0]
        loss_giou = tf.reduce_sum((1.0 - giou) * mask) / num_boxes
        total = loss_ce + self.bbox_loss_weight * loss_bbox + self.giou_loss_weight * loss_giou
        return {"loss": total, "loss_ce": loss_ce, "loss_bbox": loss_bbox, "loss_giou": loss_giou}

    def get_config(self):
        return {
            "name": self.name,
            "num_classes": self.num_classes,
            "eos_coef": self.eos_coef,
            "class_cost": self.class_cost,
            "bbox_cost": self.bbox_cost,
            "giou_cost": self.giou_cost,
            "bbox_loss_weight": self.bbox_loss_weight,
            "giou_loss_weight": self.giou_loss_weight,
        }
