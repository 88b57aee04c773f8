"""Serving a detector: boxes, scores and labels from encoded image bytes (TF Serving layout)."""

from __future__ import annotations

import keras
from keras import ops

from zoo.vision.detr.box_ops import cxcywh_to_xyxy


@keras.saving.register_keras_serializable(package="keras_zoo")
class DETRPostprocess(keras.layers.Layer):
    """Detector outputs to detections: each query's best real class, its probability and its
    box as `(x0, y0, x1, y1)` normalised to [0, 1] of the image (multiply by the image's width
    and height for pixels), as Hugging Face's `post_process_object_detection` (no threshold:
    every query is returned, clients filter by score).

    Example:

    ```python
    detections = DETRPostprocess()(detector(images))  # {"boxes", "scores", "labels"}
    ```
    """

    def call(self, outputs):
        probabilities = ops.softmax(ops.cast(outputs["logits"], "float32"), axis=-1)[..., :-1]
        boxes = cxcywh_to_xyxy(ops.cast(outputs["pred_boxes"], "float32"))
        return {
            "boxes": boxes,
            "scores": ops.max(probabilities, axis=-1),
            "labels": ops.cast(ops.argmax(probabilities, axis=-1), "int32"),
        }


def detection_model(detector: keras.Model) -> keras.Model:
    """A functional model `images -> {"boxes", "scores", "labels"}` around `detector`."""
    images = keras.Input(shape=detector.input.shape[1:], name="images")
    outputs = detector(images)
    core = {"logits": outputs["logits"], "pred_boxes": outputs["pred_boxes"]}
    return keras.Model(images, DETRPostprocess(name="postprocess")(core), name="detections")


def export_detector(
    detector: keras.Model,
    base_dir: str,
    name: str,
    image_size,
    version: int | None = None,
    scale: float = 1.0 / 255.0,
) -> str:
    """Exports a detector for TF Serving: encoded images in, boxes, scores and labels out.

    The `serving_default` signature takes `image_bytes` (a `[batch]` string tensor of PNG or
    JPEG files, `{"b64": ...}` in REST JSON), decodes and resizes them to `image_size` in the
    graph (`serving.image_bytes_preprocess`) and returns `boxes` `[batch, queries, 4]`
    (`x0, y0, x1, y1` in [0, 1] of the image), `scores` `[batch, queries]` and `labels`
    `[batch, queries]`.

    Args:
        detector: a `DETRDetector`.
        base_dir: the directory TF Serving watches.
        name: the model name.
        image_size: `(height, width)` the images are resized to.
        version: the version number. Defaults to the next one.
        scale: factor applied to the 0-255 pixels. Defaults to `1 / 255`.

    Returns:
        The version directory.

    Example:

    ```python
    path = export_detector(detector, "models", "shapes", (64, 64))
    ```
    """
    import serving
    from layers.validation import check_int_pair

    height, width = check_int_pair("image_size", image_size)
    channels = int(detector.input.shape[-1])
    preprocess = serving.image_bytes_preprocess(height, width, channels=channels, scale=scale)
    return serving.export(
        detection_model(detector), base_dir, name, version=version, preprocess=preprocess
    )
