"""Detection data: checks, padded targets, TFRecords and the synthetic shapes set.

Boxes are stored and passed around as absolute pixel `(x0, y0, x1, y1)` with one class id per
box; the detector trains on padded, normalised `(cx, cy, w, h)` targets (`pad_targets`).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from layers.validation import check_int_at_least, check_optional_seed, check_positive_int

SHAPE_NAMES = ("square", "disk", "triangle")

# `tfrecords.write(..., schema=DETECTION_SCHEMA)`: a PNG image and a variable number of boxes.
DETECTION_SCHEMA = {
    "image": "png",
    "boxes": {"dtype": "float32", "shape": [None, 4]},
    "labels": {"dtype": "int64", "shape": [None]},
}


def check_detection_example(image, boxes, labels, num_classes: int, record=None):
    """Checks one image and its boxes; returns them as `(uint8 or float image, float32 [n, 4],
    int64 [n])` arrays.

    Raises a `ValueError` naming the record (when given), the argument and the value for: an
    image that is not `(height, width, channels)`, boxes not `[n, 4]`, boxes with non-positive
    width or height or reaching outside the image, labels of another length, or a class id
    outside `[0, num_classes)`.

    Args:
        image: `(height, width, channels)` array.
        boxes: `[n, 4]` pixel boxes `(x0, y0, x1, y1)`.
        labels: `[n]` class ids.
        num_classes: number of object classes.
        record: index or name of the example, quoted in errors. Defaults to `None`.
    """
    where = "" if record is None else f" in record {record!r}"
    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(
            f"`image`{where} must be (height, width, channels). "
            f"Received: image with shape {image.shape}"
        )
    boxes = (
        np.asarray(boxes, dtype="float32").reshape(-1, 4)
        if np.size(boxes)
        else np.zeros((0, 4), "float32")
    )
    if np.asarray(boxes).ndim != 2:
        raise ValueError(f"`boxes`{where} must be [n, 4]. Received: boxes={boxes!r}")
    labels = np.asarray(labels).reshape(-1)
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"`labels`{where} must be integer class ids. Received: labels={labels}")
    labels = labels.astype("int64")
    if len(labels) != len(boxes):
        raise ValueError(
            f"`labels`{where} must give one class per box ({len(boxes)} boxes). "
            f"Received: labels={labels.tolist()}"
        )
    height, width = image.shape[:2]
    for box in boxes:
        x0, y0, x1, y1 = box
        if not (x1 > x0 and y1 > y0):
            raise ValueError(
                f"`boxes`{where} must have positive width and height (x0 < x1, y0 < y1). "
                f"Received: box={box.tolist()}"
            )
        if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
            raise ValueError(
                f"`boxes`{where} must lie inside the {width}x{height} image. "
                f"Received: box={box.tolist()}"
            )
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.size:
        raise ValueError(
            f"`labels`{where} must be class ids in [0, {num_classes}). "
            f"Received: label={int(bad[0])}"
        )
    return image, boxes, labels


def check_image_batch(images, name: str = "images") -> None:
    """Raises a `ValueError` unless `images` is a `(batch, height, width, channels)` batch."""
    shape = tuple(np.shape(images))
    if len(shape) != 4:
        raise ValueError(
            f"`{name}` must be a (batch, height, width, channels) batch. "
            f"Received: {name} with shape {shape}"
        )


def pad_targets(boxes, labels, image_size, max_boxes: int) -> dict[str, np.ndarray]:
    """Padded, normalised training targets for `DETRDetector.fit`.

    Args:
        boxes: a sequence (one per image) of `[n_i, 4]` pixel boxes `(x0, y0, x1, y1)`.
        labels: a sequence of `[n_i]` class ids.
        image_size: `(height, width)` of the images, or a sequence of one pair per image.
        max_boxes: target slots per image (at most the detector's `num_queries`).

    Returns:
        `{"labels": int32 [N, max_boxes] (-1 after the real boxes), "boxes": float32
        [N, max_boxes, 4] (cx, cy, w, h) in [0, 1]}`.

    Example:

    ```python
    targets = pad_targets(data["boxes"], data["labels"], (64, 64), max_boxes=10)
    detector.fit(data["images"] / 255.0, targets)
    ```
    """
    check_positive_int("max_boxes", max_boxes)
    count = len(boxes)
    sizes = np.asarray(image_size, dtype="float32")
    sizes = np.broadcast_to(sizes, (count, 2)) if sizes.ndim == 1 else sizes
    out_labels = np.full((count, max_boxes), -1, dtype="int32")
    out_boxes = np.zeros((count, max_boxes, 4), dtype="float32")
    for i, (image_boxes, image_labels) in enumerate(zip(boxes, labels, strict=True)):
        image_boxes = np.asarray(image_boxes, dtype="float32").reshape(-1, 4)
        if len(image_boxes) > max_boxes:
            raise ValueError(
                f"Image {i} has {len(image_boxes)} boxes, more than `max_boxes`. "
                f"Received: max_boxes={max_boxes}"
            )
        height, width = sizes[i]
        x0, y0, x1, y1 = image_boxes.T
        normalised = np.stack(
            [(x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height],
            axis=-1,
        )
        out_boxes[i, : len(image_boxes)] = normalised
        out_labels[i, : len(image_boxes)] = np.asarray(image_labels).reshape(-1)
    return {"labels": out_labels, "boxes": out_boxes}


def _draw_shape(canvas, kind: int, box, colour) -> None:
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[y0:y1, x0:x1]
    if kind == 0:
        mask = np.ones_like(xs, dtype=bool)
    elif kind == 1:
        cx, cy, r = (x0 + x1 - 1) / 2, (y0 + y1 - 1) / 2, (x1 - x0) / 2
        mask = (xs - cx) ** 2 + (ys - cy) ** 2 <= r**2
    else:  # an upward triangle filling the box: apex at top centre, base at the bottom row
        rel_y = (ys - y0 + 0.5) / (y1 - y0)
        half = np.maximum(rel_y * (x1 - x0) / 2, 0.5)  # the apex row keeps a pixel
        mask = np.abs(xs + 0.5 - (x0 + x1) / 2) <= half
    canvas[y0:y1, x0:x1][mask] = colour


def make_shapes_detection(
    num_images: int,
    image_size: int = 64,
    max_objects: int = 4,
    min_size: int = 10,
    max_size: int = 24,
    seed: int | None = 0,
) -> dict[str, np.ndarray]:
    """A synthetic detection set: coloured squares, disks and triangles on a noisy canvas.

    Each image holds 1 to `max_objects` shapes of random class, colour, size and position,
    not overlapping; a shape's box is tight: `(x0, y0, x1, y1)` pixels with the shape filling
    it edge to edge (a disk touches all four sides, a triangle's apex the top and its base the
    bottom). Generated offline from `seed`, the same arrays every time.

    Args:
        num_images: images to draw.
        image_size: height and width. Defaults to `64`.
        max_objects: most shapes per image. Defaults to `4`.
        min_size: smallest side of a shape, pixels. Defaults to `10`.
        max_size: largest side of a shape, pixels. Defaults to `24`.
        seed: random seed. Defaults to `0`.

    Returns:
        `{"images": uint8 [N, size, size, 3], "boxes": object [N] of float32 [n_i, 4],
        "labels": object [N] of int64 [n_i]}`; classes `SHAPE_NAMES` = square, disk, triangle.

    Example:

    ```python
    data = make_shapes_detection(256)
    targets = pad_targets(data["boxes"], data["labels"], (64, 64), max_boxes=10)
    ```
    """
    check_positive_int("num_images", num_images)
    check_int_at_least("image_size", image_size, 8)
    check_positive_int("max_objects", max_objects)
    check_int_at_least("min_size", min_size, 3)
    check_int_at_least("max_size", max_size, min_size, "it must be at least `min_size`")
    if max_size > image_size:
        raise ValueError(
            f"`max_size` must be at most `image_size` ({image_size}). Received: max_size={max_size}"
        )
    check_optional_seed("seed", seed)
    rng = np.random.default_rng(seed)
    images = np.empty((num_images, image_size, image_size, 3), dtype="uint8")
    all_boxes = np.empty(num_images, dtype=object)
    all_labels = np.empty(num_images, dtype=object)
    for i in range(num_images):
        canvas = rng.integers(0, 40, size=(image_size, image_size, 3)).astype("uint8")
        boxes, labels = [], []
        for _ in range(int(rng.integers(1, max_objects + 1))):
            for _attempt in range(20):
                size = int(rng.integers(min_size, max_size + 1))
                x0 = int(rng.integers(0, image_size - size + 1))
                y0 = int(rng.integers(0, image_size - size + 1))
                box = (x0, y0, x0 + size, y0 + size)
                if all(
                    box[2] <= b[0] or b[2] <= box[0] or box[3] <= b[1] or b[3] <= box[1]
                    for b in boxes
                ):
                    break
            else:
                continue
            kind = int(rng.integers(0, len(SHAPE_NAMES)))
            colour = rng.integers(100, 256, size=3).astype("uint8")
            _draw_shape(canvas, kind, box, colour)
            boxes.append(box)
            labels.append(kind)
        images[i] = canvas
        all_boxes[i] = np.asarray(boxes, dtype="float32").reshape(-1, 4)
        all_labels[i] = np.asarray(labels, dtype="int64")
    return {"images": images, "boxes": all_boxes, "labels": all_labels}


def write_detection_tfrecords(
    path: str, images, boxes, labels, num_classes: int, **write_kwargs
) -> list[str]:
    """Checks a detection set and writes it with `tfrecords.write` (`DETECTION_SCHEMA`).

    Args:
        path: shard prefix.
        images: uint8 `[N, H, W, C]` images (stored as PNG).
        boxes: `N` arrays of pixel boxes `(x0, y0, x1, y1)`, `[n_i, 4]` (any `n_i`, 0 included).
        labels: `N` arrays of class ids `[n_i]`.
        num_classes: number of classes (ids are checked against it).
        **write_kwargs: `num_shards`, `compression`, ... for `tfrecords.write`.

    Returns:
        The shard paths.

    Example:

    ```python
    data = make_shapes_detection(64)
    write_detection_tfrecords("data/shapes", data["images"], data["boxes"], data["labels"], 3)
    dataset = read_detection_tfrecords("data/shapes", batch_size=8, max_boxes=10)
    ```
    """
    import tfrecords

    check_image_batch(images)
    if not (len(images) == len(boxes) == len(labels)):
        raise ValueError(
            "`images`, `boxes` and `labels` must have one entry per image. Received: "
            f"{len(images)} images, {len(boxes)} boxes, {len(labels)} labels"
        )
    column_boxes = np.empty(len(images), dtype=object)
    column_labels = np.empty(len(images), dtype=object)
    for i in range(len(images)):
        _, column_boxes[i], column_labels[i] = check_detection_example(
            images[i], boxes[i], labels[i], num_classes, record=i
        )
    data = {"image": np.asarray(images), "boxes": column_boxes, "labels": column_labels}
    return tfrecords.write(data, path, schema=DETECTION_SCHEMA, **write_kwargs)


def read_detection_tfrecords(
    path: str, batch_size: int, max_boxes: int, shuffle: bool = False, seed: int | None = None
) -> tf.data.Dataset:
    """Reads a detection set written by `write_detection_tfrecords` for `DETRDetector.fit`.

    Yields `(images, targets)`: float32 images in [0, 1] and padded targets as `pad_targets`
    makes them (`labels` -1 after the real boxes; boxes normalised `(cx, cy, w, h)`).

    Args:
        path: the prefix (or shards) given to `tfrecords.read`.
        batch_size: images per batch.
        max_boxes: target slots per image.
        shuffle: shuffle the examples every epoch. Defaults to `False`.
        seed: shuffle seed. Defaults to `None`.
    """
    import tfrecords

    check_positive_int("max_boxes", max_boxes)

    def to_targets(example):
        images = tf.cast(example["image"], tf.float32) / 255.0
        size = tf.cast(tf.shape(images)[1:3], tf.float32)
        height, width = size[0], size[1]
        boxes = example["boxes"].to_tensor(shape=[None, max_boxes, 4])
        labels = example["labels"].to_tensor(default_value=-1, shape=[None, max_boxes])
        x0, y0, x1, y1 = tf.unstack(boxes, axis=-1)
        normalised = tf.stack(
            [(x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height],
            axis=-1,
        )
        return images, {"labels": tf.cast(labels, tf.int32), "boxes": normalised}

    dataset = tfrecords.read(path, batch_size=batch_size, shuffle=shuffle, seed=seed)
    return dataset.map(to_targets)
