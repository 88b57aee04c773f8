"""COCO-format JSON for detection sets and predictions: export and import.

Ground truth is the COCO "instances" layout (`images`, `annotations` with `bbox` as
`[x, y, width, height]` pixels, `categories`); predictions are COCO's results list
(`image_id`, `category_id`, `bbox`, `score`). Class ids are the zoo's `0..num_classes - 1`;
COCO's category ids are `class_id + category_offset` (1 by default, as COCO starts at 1).
"""

from __future__ import annotations

import json
import os

import numpy as np

from zoo.vision.detr.data import check_detection_example


def to_coco(
    image_sizes,
    boxes,
    labels,
    class_names=None,
    category_offset: int = 1,
    num_classes: int | None = None,
    path: str | None = None,
) -> dict:
    """A detection set as a COCO ground-truth dict (written to `path` as JSON when given).

    Args:
        image_sizes: `(height, width)` per image, or one pair for all.
        boxes: per image, `[n_i, 4]` pixel boxes `(x0, y0, x1, y1)`.
        labels: per image, `[n_i]` class ids.
        class_names: a name per class. Defaults to `None` (`"class_0"`, ...).
        category_offset: COCO category id of class 0. Defaults to `1`.
        num_classes: number of classes. Defaults to `len(class_names)`, else the largest id
            plus one.
        path: a JSON file to write. Defaults to `None`.

    Returns:
        The COCO dict; image ids are `1..N` in order.

    Example:

    ```python
    gt = to_coco((64, 64), data["boxes"], data["labels"], SHAPE_NAMES, path="gt.json")
    ```
    """
    if num_classes is None:
        seen = [int(np.max(lab)) + 1 for lab in labels if len(lab)]
        num_classes = len(class_names) if class_names is not None else max(seen, default=1)
    names = (
        list(class_names) if class_names is not None else [f"class_{i}" for i in range(num_classes)]
    )
    sizes = np.asarray(image_sizes)
    sizes = np.broadcast_to(sizes, (len(boxes), 2)) if sizes.ndim == 1 else sizes
    images, annotations = [], []
    for i, (image_boxes, image_labels) in enumerate(zip(boxes, labels, strict=True)):
        height, width = (int(v) for v in sizes[i])
        _, image_boxes, image_labels = check_detection_example(
            np.zeros((height, width, 1), "uint8"), image_boxes, image_labels, num_classes, i
        )
        images.append({"id": i + 1, "height": height, "width": width, "file_name": f"{i}.png"})
        for box, label in zip(image_boxes, image_labels, strict=True):
            x0, y0, x1, y1 = (float(v) for v in box)
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i + 1,
                    "category_id": int(label) + category_offset,
                    "bbox": [x0, y0, x1 - x0, y1 - y0],
                    "area": (x1 - x0) * (y1 - y0),
                    "iscrowd": 0,
                }
            )
    categories = [{"id": c + category_offset, "name": n} for c, n in enumerate(names)]
    coco = {"images": images, "annotations": annotations, "categories": categories}
    if path is not None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump(coco, f)
    return coco


def from_coco(source, category_offset: int = 1) -> dict:
    """Reads a COCO ground-truth JSON file (or dict) into per-image arrays.

    Args:
        source: a path to a COCO JSON file, or the dict.
        category_offset: COCO category id of class 0. Defaults to `1`.

    Returns:
        `{"image_ids": [N], "image_sizes": [N, 2] (height, width), "boxes": object [N] of
        [n_i, 4] pixel (x0, y0, x1, y1), "labels": object [N] of [n_i], "class_names": [...]}`,
        images in the file's order.

    Example:

    ```python
    data = from_coco("instances_val.json")
    ```
    """
    if isinstance(source, dict):
        coco = source
    else:
        with open(source) as f:
            coco = json.load(f)
    for key in ("images", "annotations", "categories"):
        if key not in coco:
            raise ValueError(f"A COCO ground-truth file needs {key!r}. Received: keys={list(coco)}")
    ids = [image["id"] for image in coco["images"]]
    index = {image_id: i for i, image_id in enumerate(ids)}
    boxes = [[] for _ in ids]
    labels = [[] for _ in ids]
    for annotation in coco["annotations"]:
        if annotation["image_id"] not in index:
            raise ValueError(
                f"Annotation {annotation.get('id')!r} refers to an unknown image. "
                f"Received: image_id={annotation['image_id']!r}"
            )
        i = index[annotation["image_id"]]
        x, y, w, h = annotation["bbox"]
        boxes[i].append([x, y, x + w, y + h])
        labels[i].append(annotation["category_id"] - category_offset)
    out_boxes = np.empty(len(ids), dtype=object)
    out_labels = np.empty(len(ids), dtype=object)
    for i in range(len(ids)):
        out_boxes[i] = np.asarray(boxes[i], dtype="float32").reshape(-1, 4)
        out_labels[i] = np.asarray(labels[i], dtype="int64")
    categories = sorted(coco["categories"], key=lambda c: c["id"])
    return {
        "image_ids": np.asarray(ids),
        "image_sizes": np.asarray([[im["height"], im["width"]] for im in coco["images"]]),
        "boxes": out_boxes,
        "labels": out_labels,
        "class_names": [c["name"] for c in categories],
    }


def detections_to_coco(detections, image_ids=None, category_offset: int = 1) -> list[dict]:
    """Per-image detections (`postprocess` output) as COCO's results list.

    Args:
        detections: a list (one per image) of dicts with `boxes` (pixel `(x0, y0, x1, y1)`),
            `scores` and `labels`.
        image_ids: COCO image id per image. Defaults to `1..N`.
        category_offset: COCO category id of class 0. Defaults to `1`.
    """
    image_ids = range(1, len(detections) + 1) if image_ids is None else image_ids
    results = []
    for image_id, found in zip(image_ids, detections, strict=True):
        for box, score, label in zip(found["boxes"], found["scores"], found["labels"], strict=True):
            x0, y0, x1, y1 = (float(v) for v in box)
            results.append(
                {
                    "image_id": int(image_id),
                    "category_id": int(label) + category_offset,
                    "bbox": [x0, y0, x1 - x0, y1 - y0],
                    "score": float(score),
                }
            )
    return results
