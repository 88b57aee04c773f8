"""COCO evaluation of detections (pycocotools: AP, AP50, AP75), as a function and a callback,
and predictions drawn on images as PNG."""

from __future__ import annotations

import contextlib
import io

import keras
import numpy as np

from zoo.vision.detr.coco import detections_to_coco, to_coco
from zoo.vision.detr.data import check_image_batch


def postprocess(outputs, image_sizes, threshold: float = 0.0) -> list[dict[str, np.ndarray]]:
    """Detector outputs to per-image detections in pixels, as Hugging Face's
    `post_process_object_detection`: each query's best real class (softmax, "no object"
    excluded) and its score, boxes `(x0, y0, x1, y1)` scaled to the image.

    Args:
        outputs: the detector's dict (`logits`, `pred_boxes`).
        image_sizes: `(height, width)` for all images, or one pair per image.
        threshold: keep detections scoring above it. Defaults to `0.0` (all).

    Returns:
        A list (one per image) of `{"boxes": [k, 4], "scores": [k], "labels": [k]}`.
    """
    logits = np.asarray(keras.ops.convert_to_numpy(outputs["logits"]), dtype="float64")
    boxes = np.asarray(keras.ops.convert_to_numpy(outputs["pred_boxes"]), dtype="float64")
    probabilities = np.exp(logits - logits.max(-1, keepdims=True))
    probabilities /= probabilities.sum(-1, keepdims=True)
    real = probabilities[..., :-1]
    scores, labels = real.max(-1), real.argmax(-1)
    sizes = np.asarray(image_sizes, dtype="float64")
    sizes = np.broadcast_to(sizes, (len(logits), 2)) if sizes.ndim == 1 else sizes
    results = []
    for i in range(len(logits)):
        cx, cy, w, h = boxes[i].T
        height, width = sizes[i]
        x0, y0, x1, y1 = (cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2), (cy + h / 2)
        xyxy = np.stack([x0, y0, x1 * width, y1 * height], axis=-1)
        keep = scores[i] > threshold
        results.append({"boxes": xyxy[keep], "scores": scores[i][keep], "labels": labels[i][keep]})
    return results


def coco_evaluate(ground_truth: dict, results: list[dict]) -> dict[str, float]:
    """COCO box AP of detections against a ground truth, computed by pycocotools.

    Args:
        ground_truth: a COCO ground-truth dict (`to_coco`).
        results: COCO's results list (`detections_to_coco`).

    Returns:
        `{"AP": ..., "AP50": ..., "AP75": ..., "AP_small": ..., "AP_medium": ...,
        "AP_large": ...}` (COCO's `stats[0:6]`; -1 where a size range has no box). With no
        detections at all every AP is 0.

    Example:

    ```python
    scores = coco_evaluate(to_coco((64, 64), boxes, labels), detections_to_coco(found))
    ```
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    names = ("AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large")
    if not results:
        return dict.fromkeys(names, 0.0)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {**ground_truth, "info": {}, "licenses": []}
        gt.createIndex()
        dt = gt.loadRes(results)
        evaluator = COCOeval(gt, dt, iouType="bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return {name: float(value) for name, value in zip(names, evaluator.stats[:6], strict=True)}


def evaluate_detector(
    detector, images, boxes, labels, batch_size: int = 16, num_classes: int | None = None
) -> dict[str, float]:
    """COCO AP, AP50, AP75 of `detector` on images with pixel boxes `(x0, y0, x1, y1)`.

    Args:
        detector: a `DETRDetector` (any model returning `logits` and `pred_boxes`).
        images: float `[N, H, W, C]` model inputs.
        boxes: per image, `[n_i, 4]` pixel boxes.
        labels: per image, `[n_i]` class ids.
        batch_size: prediction batch size. Defaults to `16`.
        num_classes: defaults to the detector's `num_classes`.

    Example:

    ```python
    scores = evaluate_detector(detector, images / 255.0, data["boxes"], data["labels"])
    print(scores["AP50"])
    ```
    """
    check_image_batch(images)
    size = tuple(np.shape(images)[1:3])
    num_classes = num_classes or getattr(detector, "num_classes", None)
    outputs = detector.predict(images, batch_size=batch_size, verbose=0)
    ground_truth = to_coco(size, boxes, labels, num_classes=num_classes)
    return coco_evaluate(ground_truth, detections_to_coco(postprocess(outputs, size)))


class COCOEvaluation(keras.callbacks.Callback):
    """Computes COCO AP, AP50 and AP75 on a held-out set at the end of every `frequency` epochs
    and adds them to the logs (`val_AP`, `val_AP50`, `val_AP75`), so `History`, `EarlyStopping`
    and checkpoints see them.

    Args:
        images: float `[N, H, W, C]` model inputs.
        boxes: per image, `[n_i, 4]` pixel boxes `(x0, y0, x1, y1)`.
        labels: per image, `[n_i]` class ids.
        frequency: evaluate every this many epochs. Defaults to `1`.
        batch_size: prediction batch size. Defaults to `16`.

    Example:

    ```python
    detector.fit(x, targets, epochs=20,
                 callbacks=[COCOEvaluation(x_val, val["boxes"], val["labels"])])
    ```
    """

    def __init__(self, images, boxes, labels, frequency: int = 1, batch_size: int = 16):
        super().__init__()
        check_image_batch(images)
        if isinstance(frequency, bool) or not isinstance(frequency, int) or frequency < 1:
            raise ValueError(f"`frequency` must be a positive int. Received: frequency={frequency}")
        self.images, self.boxes, self.labels = images, boxes, labels
        self.frequency, self.batch_size = frequency, batch_size

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.frequency:
            return
        scores = evaluate_detector(
            self.model, self.images, self.boxes, self.labels, batch_size=self.batch_size
        )
        if logs is not None:
            for name in ("AP", "AP50", "AP75"):
                logs[f"val_{name}"] = scores[name]


def draw_detections(
    images,
    detections,
    path: str,
    class_names=None,
    ground_truth_boxes=None,
    columns: int = 4,
) -> str:
    """Draws detections (and, optionally, the true boxes dashed) on images; writes one PNG.

    Args:
        images: `[N, H, W, C]` images, uint8 or floats in [0, 1].
        detections: per image, a dict with pixel `boxes`, `scores` and `labels` (`postprocess`).
        path: the PNG to write.
        class_names: a name per class. Defaults to the class ids.
        ground_truth_boxes: per image, true pixel boxes, drawn dashed. Defaults to `None`.
        columns: images per row. Defaults to `4`.

    Returns:
        `path`.
    """
    from zoo.plots import pyplot, save_figure

    plt = pyplot()
    count = len(images)
    rows = (count + columns - 1) // columns
    figure, axes = plt.subplots(
        rows, min(columns, count), figsize=(3 * min(columns, count), 3 * rows), squeeze=False
    )
    colours = plt.get_cmap("tab10")
    for i, axis in enumerate(axes.flat):
        axis.axis("off")
        if i >= count:
            continue
        image = np.asarray(images[i])
        axis.imshow(image if image.dtype == np.uint8 else np.clip(image, 0, 1))
        if ground_truth_boxes is not None:
            for x0, y0, x1, y1 in np.asarray(ground_truth_boxes[i]).reshape(-1, 4):
                axis.add_patch(
                    plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ls="--", ec="white")
                )
        found = detections[i]
        for box, score, label in zip(found["boxes"], found["scores"], found["labels"], strict=True):
            x0, y0, x1, y1 = box
            colour = colours(int(label) % 10)
            axis.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec=colour, lw=2))
            name = class_names[int(label)] if class_names is not None else str(int(label))
            axis.text(x0, y0, f"{name} {score:.2f}", color="white", fontsize=7,
                      bbox={"facecolor": colour, "pad": 1, "lw": 0})  # fmt: skip
    return save_figure(figure, path)
