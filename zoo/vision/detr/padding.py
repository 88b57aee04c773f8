"""Batches of differently sized images for DETR: padding, the pixel mask and its downsampling.

DETR (Carion et al. 2020, §A.4; Hugging Face's `DetrImageProcessor.pad`) pads each image at
the bottom and right to the batch's largest height and width and marks the real pixels with a
mask (1 on the image, 0 on padding). The detector takes the mask as `pixel_mask`, brings it to
the feature map's resolution (nearest neighbour) and keeps the padding out of its positions and
attention.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from zoo.vision.detr.data import pad_targets


def pad_images(images, size=None, fill: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Pads differently sized images into one batch, with the mask of the real pixels.

    Args:
        images: a sequence of `(height_i, width_i, channels)` arrays (one channel count).
        size: `(height, width)` of the batch, at least every image's size. Defaults to `None`:
            the largest height and width.
        fill: the value of the padded pixels. Defaults to `0.0` (Hugging Face pads the
            normalised images with 0).

    Returns:
        `(batch, pixel_mask)`: float32 `[N, height, width, channels]` with each image in its
        top-left corner, and int32 `[N, height, width]`, 1 on the image's pixels.

    Example:

    ```python
    batch, pixel_mask = pad_images([image_480x640, image_512x384])  # (2, 512, 640, 3)
    outputs = detector({"images": batch, "pixel_mask": pixel_mask})
    ```
    """
    images = [np.asarray(image) for image in images]
    if not images:
        raise ValueError("`images` must hold at least one image. Received: images=[]")
    for i, image in enumerate(images):
        if image.ndim != 3 or image.shape[-1] != images[0].shape[-1]:
            raise ValueError(
                "`images` must be (height, width, channels) arrays with one channel count. "
                f"Received: images[{i}].shape={image.shape} (images[0].shape={images[0].shape})"
            )
    largest = tuple(max(image.shape[axis] for image in images) for axis in (0, 1))
    height, width = largest if size is None else (int(size[0]), int(size[1]))
    if height < largest[0] or width < largest[1]:
        raise ValueError(
            f"`size` must hold every image (the largest is {largest}). Received: size={size}"
        )
    batch = np.full((len(images), height, width, images[0].shape[-1]), fill, dtype="float32")
    pixel_mask = np.zeros((len(images), height, width), dtype="int32")
    for i, image in enumerate(images):
        batch[i, : image.shape[0], : image.shape[1]] = image
        pixel_mask[i, : image.shape[0], : image.shape[1]] = 1
    return batch, pixel_mask


def pad_detection_batch(
    images, boxes, labels, max_boxes: int, size=None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Differently sized images and their pixel boxes as one padded batch for `DETRDetector`.

    The images are padded at the bottom and right (`pad_images`); each image's boxes are
    normalised by that image's own height and width, not the padded canvas's, as the paper's
    code does (`pad_targets` with one size per image). The detector, which leaves the padding
    out given `pixel_mask`, predicts boxes relative to each image's own size: scale them by
    that size. (Hugging Face's `DetrImageProcessor` with `do_pad` rescales its normalised
    boxes to the padded canvas instead; convert with the ratio of the sizes if mixing the two.)

    Args:
        images: a sequence of `(height_i, width_i, channels)` arrays.
        boxes: a sequence (one per image) of `[n_i, 4]` pixel boxes `(x0, y0, x1, y1)`.
        labels: a sequence of `[n_i]` class ids.
        max_boxes: target slots per image (at most the detector's `num_queries`).
        size: `(height, width)` of the batch. Defaults to `None`: the largest image's.

    Returns:
        `(inputs, targets)`: `{"images", "pixel_mask"}` as `pad_images` returns them and
        `{"labels", "boxes"}` as `pad_targets` does, ready for `detector.fit(inputs, targets)`.

    Example:

    ```python
    inputs, targets = pad_detection_batch(images, boxes, labels, max_boxes=10)
    detector.fit(inputs, targets, batch_size=len(images))
    ```
    """
    batch, pixel_mask = pad_images(images, size=size)
    sizes = [np.shape(image)[:2] for image in images]
    targets = pad_targets(boxes, labels, sizes, max_boxes)
    return {"images": batch, "pixel_mask": pixel_mask}, targets


def downsample_mask(pixel_mask, height, width):
    """`(batch, H, W)` mask to `(batch, height, width)`, nearest as torch's `interpolate`.

    Output row `i` takes input row `floor(i * H / height)` (and likewise for the columns), the
    default `mode="nearest"` of `torch.nn.functional.interpolate` that DETR uses.
    """
    shape = ops.shape(pixel_mask)
    rows = (ops.arange(height, dtype="int32") * shape[1]) // height
    columns = (ops.arange(width, dtype="int32") * shape[2]) // width
    return ops.take(ops.take(pixel_mask, rows, axis=1), columns, axis=2)
