"""In-graph preprocessing for `export(preprocess=...)`: clients send raw data, the graph decodes it.

A preprocessing function is a `tf.function` with an `input_signature` whose `TensorSpec`s are
named (those names become the serving inputs), returning what the model takes: a tensor for a
single-input model, or a dict keyed by the model's input names.
"""

from __future__ import annotations

import tensorflow as tf

from layers.validation import check_positive_int


def image_bytes_preprocess(
    height: int,
    width: int,
    channels: int = 3,
    scale: float = 1.0 / 255.0,
    input_name: str = "image_bytes",
) -> tf.types.experimental.GenericFunction:
    """Decodes a batch of encoded images (PNG, JPEG, GIF, BMP) and resizes them for the model.

    The serving input `input_name` is a `[batch]` string tensor of encoded image files (send them
    as `{"b64": ...}` in REST JSON). Each image is decoded to `channels` channels, resized
    bilinearly to `(height, width)` and multiplied by `scale`, giving float32 NHWC.

    Args:
        height: model input height, a positive integer.
        width: model input width, a positive integer.
        channels: channels to decode to (1 grey, 3 RGB, 4 RGBA). Defaults to `3`.
        scale: factor applied to the 0-255 pixel values. Defaults to `1 / 255`.
        input_name: name of the serving input. Defaults to `"image_bytes"`.

    Example:

    ```python
    serving.export(model, "models", "digits",
                   preprocess=serving.image_bytes_preprocess(8, 8, channels=1))
    # REST: {"instances": [{"b64": base64.b64encode(png_bytes).decode()}]}
    ```
    """
    check_positive_int("height", height)
    check_positive_int("width", width)
    if channels not in (1, 3, 4):
        raise ValueError(f"`channels` must be 1, 3 or 4. Received: channels={channels!r}")
    if not input_name or not isinstance(input_name, str):
        raise ValueError(f"`input_name` must be a non-empty string. Received: {input_name!r}")

    def decode_one(data):
        image = tf.io.decode_image(data, channels=channels, expand_animations=False)
        image = tf.image.resize(tf.cast(image, tf.float32), (height, width))
        return image * scale

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=input_name)])
    def preprocess(images):
        return tf.map_fn(
            decode_one,
            images,
            fn_output_signature=tf.TensorSpec([height, width, channels], tf.float32),
        )

    return preprocess
