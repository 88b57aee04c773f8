"""What the vision classifiers share: their image input (checked, resized inside the model when
it differs from the backbone's) and the check of their `label_smoothing` argument."""

from __future__ import annotations

import keras

from layers.validation import check_positive_ints, check_unit_interval


def check_image_shape(name: str, value, allow_none: bool = True) -> tuple[int, int, int] | None:
    """`(height, width, channels)` of positive integers, returned as a tuple, or `None` where
    `allow_none`."""
    if allow_none and value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise ValueError(
            f"`{name}` must be (height, width, channels) of positive integers. "
            f"Received: {name}={value!r}"
        )
    return check_positive_ints(name, value)


def check_label_smoothing(value) -> float:
    """A label smoothing amount in [0, 1)."""
    return check_unit_interval("label_smoothing", value, include_low=True, include_high=False)


def resized_input(input_shape, backbone: keras.Model, dtype):
    """The model input, and the tensor the backbone gets (resized when the shapes differ).

    Args:
        input_shape: `(height, width, channels)` the model takes, or `None` for the backbone's
            `(*image_hw, num_channels)`.
        backbone: a backbone with `image_hw` and `num_channels` attributes.
        dtype: dtype policy of the resizing layer.

    Returns:
        `(inputs, images)`: the `keras.Input` named `"images"` and the tensor to feed to
        `backbone`, bilinearly resized to `image_hw` by a layer named `"resize"` when needed.
    """
    target = (*backbone.image_hw, backbone.num_channels)
    if input_shape is None:
        inputs = keras.Input(shape=target, name="images")
        return inputs, inputs
    if input_shape[-1] != backbone.num_channels:
        raise ValueError(
            f"`input_shape` has {input_shape[-1]} channels but `num_channels` is "
            f"{backbone.num_channels}. Received: input_shape={input_shape}"
        )
    inputs = keras.Input(shape=input_shape, name="images")
    if tuple(input_shape) == target:
        return inputs, inputs
    return inputs, keras.layers.Resizing(*backbone.image_hw, name="resize", dtype=dtype)(inputs)
