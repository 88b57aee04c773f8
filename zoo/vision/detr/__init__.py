"""DETR (Carion et al. 2020): detector, backbone, set loss, box ops, data, COCO evaluation.

Importing this package registers the presets (`detr_resnet50`, `detr_tiny`) and the Hugging
Face converter for `model_type` `"detr"`.
"""

from zoo.vision.detr import convert, presets
from zoo.vision.detr.backbone import DETRBackbone
from zoo.vision.detr.blocks import (
    DETRDecoderLayer,
    DETREncoderLayer,
    ObjectQueries,
    SinePositionEmbedding2D,
)
from zoo.vision.detr.box_ops import (
    box_iou,
    cxcywh_to_xyxy,
    generalized_box_iou,
    xywh_to_xyxy,
    xyxy_to_cxcywh,
    xyxy_to_xywh,
)
from zoo.vision.detr.coco import detections_to_coco, from_coco, to_coco
from zoo.vision.detr.data import (
    DETECTION_SCHEMA,
    SHAPE_NAMES,
    check_detection_example,
    make_shapes_detection,
    pad_targets,
    read_detection_tfrecords,
    write_detection_tfrecords,
)
from zoo.vision.detr.detector import DETRDetector
from zoo.vision.detr.evaluation import (
    COCOEvaluation,
    coco_evaluate,
    draw_detections,
    evaluate_detector,
    postprocess,
)
from zoo.vision.detr.export import DETRPostprocess, detection_model, export_detector
from zoo.vision.detr.loss import DETRSetLoss
from zoo.vision.detr.matcher import hungarian_match
from zoo.vision.detr.padding import downsample_mask, pad_detection_batch, pad_images

__all__ = [
    "COCOEvaluation",
    "DETECTION_SCHEMA",
    "DETRBackbone",
    "DETRDecoderLayer",
    "DETRDetector",
    "DETREncoderLayer",
    "DETRPostprocess",
    "DETRSetLoss",
    "ObjectQueries",
    "SHAPE_NAMES",
    "SinePositionEmbedding2D",
    "box_iou",
    "check_detection_example",
    "coco_evaluate",
    "convert",
    "cxcywh_to_xyxy",
    "detection_model",
    "detections_to_coco",
    "downsample_mask",
    "draw_detections",
    "evaluate_detector",
    "export_detector",
    "from_coco",
    "generalized_box_iou",
    "hungarian_match",
    "make_shapes_detection",
    "pad_detection_batch",
    "pad_images",
    "pad_targets",
    "postprocess",
    "presets",
    "read_detection_tfrecords",
    "to_coco",
    "write_detection_tfrecords",
    "xywh_to_xyxy",
    "xyxy_to_cxcywh",
    "xyxy_to_xywh",
]
