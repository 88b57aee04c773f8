"""Image data for the NAS commands and benchmarks: digits (upscaled) or TFRecords."""

from __future__ import annotations

import numpy as np

from layers.validation import check_positive_int


def load_search_data(data: str = "digits", image_size: int = 16, seed: int = 0):
    """`((x_train, y_train), (x_val, y_val))` float images resized to `image_size` pixels.

    Args:
        data: `"digits"` (scikit-learn's 8x8 digits, shipped offline) or a TFRecord pattern
            written by `tfrecords.write` with an image feature and a `"label"` feature.
        image_size: side of the square images the search space takes. Defaults to `16`.
        seed: seed of the train/validation split. Defaults to `0`.

    Returns:
        The two splits (validation: 20% of the examples).

    Example:

    ```python
    (x, y), (x_val, y_val) = load_search_data("digits", image_size=16)
    ```
    """
    import tensorflow as tf

    check_positive_int("image_size", image_size)
    if data == "digits":
        from zoo.datasets import load_digits

        digits = load_digits(dtype="float32", seed=seed)
        splits = [(digits.train.x, digits.train.y), (digits.test.x, digits.test.y)]
    else:
        import tfrecords
        from zoo.datasets import arrays_from_dataset

        x, y = arrays_from_dataset(tfrecords.read(data, label="label"), argument="data")
        x = np.asarray(x, "float32")
        if x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4:
            raise ValueError(
                f"`data` must hold images (height, width[, channels]). Received: data={data!r} "
                f"with examples of shape {x.shape[1:]}"
            )
        order = np.random.default_rng(seed).permutation(len(x))
        cut = int(0.8 * len(x))
        splits = [(x[order[:cut]], y[order[:cut]]), (x[order[cut:]], y[order[cut:]])]
    resized = []
    for x, y in splits:
        x = tf.image.resize(np.asarray(x, "float32"), (image_size, image_size)).numpy()
        resized.append((x, np.asarray(y, "int64")))
    return tuple(resized)
