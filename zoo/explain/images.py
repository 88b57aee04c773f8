"""Image files for explanations: reading PNG/JPEG inputs, writing heatmaps and overlays as PNG."""

from __future__ import annotations

import os

import numpy as np

from layers.validation import check_number_pair, check_positive_int, check_rate


def _check_heatmap(heatmap) -> np.ndarray:
    array = np.asarray(heatmap, dtype="float32")
    if array.ndim != 2 or not np.all(np.isfinite(array)):
        raise ValueError(
            "`heatmap` must be one (height, width) map of finite values. "
            f"Received: heatmap.shape={array.shape}"
        )
    return np.clip(array, 0.0, 1.0)


def colored_heatmap(heatmap, colormap: str = "jet") -> np.ndarray:
    """A `(height, width)` heatmap in [0, 1] as `(height, width, 3)` uint8 RGB colours.

    Args:
        heatmap: the map (values outside [0, 1] are clipped).
        colormap: a matplotlib colormap name. Defaults to `"jet"`.

    Returns:
        The uint8 RGB image.

    Example:

    ```python
    rgb = colored_heatmap(zoo.explain.grad_cam(model, images)[0])
    ```
    """
    import matplotlib

    heatmap = _check_heatmap(heatmap)
    colors = matplotlib.colormaps[colormap](heatmap)[..., :3]
    return np.round(colors * 255.0).astype("uint8")


def _as_rgb_unit(image) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4):
        raise ValueError(
            "`image` must be (height, width) or (height, width, 1, 3 or 4 channels). "
            f"Received: image.shape={array.shape}"
        )
    array = array[..., :3].astype("float32")
    if np.issubdtype(np.asarray(image).dtype, np.integer) or array.max(initial=0.0) > 1.0:
        array = array / 255.0
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    return np.clip(array, 0.0, 1.0)


def overlay(image, heatmap, alpha: float = 0.4, colormap: str = "jet") -> np.ndarray:
    """The heatmap's colours blended over the image: `(1 - alpha) * image + alpha * colours`.

    Args:
        image: `(height, width[, channels])`, uint8 or floats in [0, 1] (or [0, 255]).
        heatmap: `(h, w)` map in [0, 1], resized bilinearly to the image's size.
        alpha: weight of the heatmap. Defaults to `0.4`.
        colormap: a matplotlib colormap name. Defaults to `"jet"`.

    Returns:
        `(height, width, 3)` uint8 RGB.

    Example:

    ```python
    blended = overlay(images[0], zoo.explain.grad_cam(model, images[:1])[0])
    ```
    """
    import tensorflow as tf

    check_rate("alpha", alpha)
    picture = _as_rgb_unit(image)
    heatmap = _check_heatmap(heatmap)
    if heatmap.shape != picture.shape[:2]:
        resized = tf.image.resize(heatmap[..., None], picture.shape[:2], method="bilinear")
        heatmap = np.clip(resized.numpy()[..., 0], 0.0, 1.0)
    colors = colored_heatmap(heatmap, colormap).astype("float32") / 255.0
    return np.round(((1.0 - alpha) * picture + alpha * colors) * 255.0).astype("uint8")


def save_png(rgb, path: str, scale: int = 1) -> str:
    """Writes a uint8 `(height, width, 3)` image as PNG, each pixel repeated `scale` times along
    both axes (so that an 8x8 map can be seen); parent directories are created.

    Args:
        rgb: the image.
        path: the PNG file.
        scale: integer upscaling factor (nearest neighbour). Defaults to `1`.

    Returns:
        `path`.

    Example:

    ```python
    save_png(colored_heatmap(heatmap), "heatmap.png", scale=32)
    ```
    """
    from PIL import Image

    check_positive_int("scale", scale)
    rgb = np.asarray(rgb, dtype="uint8")
    rgb = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(rgb).save(path, format="PNG")
    return path


def read_image(path: str) -> np.ndarray:
    """A PNG, JPEG, GIF or BMP file as a `(height, width, channels)` uint8 array.

    Args:
        path: the image file.

    Returns:
        The pixels (a GIF's first frame).

    Example:

    ```python
    pixels = read_image("digit.png")
    ```
    """
    import tensorflow as tf

    if not os.path.isfile(path):
        raise FileNotFoundError(f"No image file at {path!r}. Received: image={path!r}")
    try:
        data = tf.io.read_file(path)
        pixels = tf.io.decode_image(data, expand_animations=False, dtype=tf.uint8)
    except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError):
        raise ValueError(
            f"`image` must be a PNG, JPEG, GIF or BMP file. Received: image={path!r}"
        ) from None
    return pixels.numpy()


def image_for_model(pixels, input_shape, value_range=(0.0, 1.0)) -> np.ndarray:
    """Pixels as a model takes them: resized, channels matched, scaled, with a batch axis.

    Args:
        pixels: `(height, width, channels)` uint8 image (`read_image`).
        input_shape: the model's `(height, width, channels)`; `None` sizes keep the image's.
        value_range: `(low, high)` that pixel values 0 and 255 become. Defaults to `(0, 1)`,
            the range zoo's built-in datasets use.

    Returns:
        A `(1, height, width, channels)` float32 array.

    Example:

    ```python
    batch = image_for_model(read_image("digit.png"), model.inputs[0].shape[1:])
    ```
    """
    import tensorflow as tf

    low, high = check_number_pair("value_range", value_range)
    image = np.asarray(pixels, dtype="float32")
    image = image[..., :1] if image.shape[-1] == 2 else image[..., :3]  # alpha dropped
    channels = input_shape[-1]
    if channels == 1 and image.shape[-1] == 3:
        image = tf.image.rgb_to_grayscale(image).numpy()
    elif channels == 3 and image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    elif channels not in (None, image.shape[-1]):
        raise ValueError(
            f"The model takes {channels} channels; the image has {image.shape[-1]}. "
            f"Received: image.shape={image.shape}"
        )
    size = tuple(s if s is not None else image.shape[i] for i, s in enumerate(input_shape[:2]))
    if size != image.shape[:2]:
        shrinks = size[0] <= image.shape[0] and size[1] <= image.shape[1]
        image = tf.image.resize(image, size, method="area" if shrinks else "bilinear").numpy()
    return (low + (high - low) * image / 255.0)[None].astype("float32")
