"""Graph pieces the small classifiers share: their inputs and the conv-and-pool stages.

`zoo.basic` and the Bayesian classifiers of `zoo.uncertainty` are their own networks (no
separate backbone); they build the same input layers and the same stage layout, with plain or
Bayesian layers inside.
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from layers.validation import check_positive_ints


def check_image_shape(input_shape) -> tuple[int, int, int]:
    """`input_shape` as a `(height, width, channels)` tuple of positive integers."""
    input_shape = check_positive_ints("input_shape", input_shape)
    if len(input_shape) != 3:
        raise ValueError(
            "`input_shape` must be (height, width, channels). "
            f"Received: input_shape={input_shape!r}"
        )
    return input_shape


def feature_input(input_shape: tuple[int, ...], dtype) -> tuple[keras.KerasTensor, ...]:
    """The `"features"` input and the flat vector it becomes (inputs of rank > 1 are flattened).

    Returns:
        `(inputs, features)`.
    """
    inputs = keras.Input(shape=input_shape, name="features")
    features = keras.layers.Flatten(dtype=dtype)(inputs) if len(input_shape) > 1 else inputs
    return inputs, features


def conv_pool_stages(
    input_shape: tuple[int, int, int],
    filters: tuple[int, ...],
    conv_block: Callable[[keras.KerasTensor, int, int], keras.KerasTensor],
    dtype,
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """The `"images"` input, one stage per entry of `filters` and global average pooling.

    Stage `i` is `conv_block(x, i, filters[i])` followed by 2x2 max pooling named `pool_{i}`,
    which is skipped once the feature map is one pixel wide.

    Args:
        input_shape: `(height, width, channels)` of one image.
        filters: filters of each stage.
        conv_block: builds a stage's convolution (and normalisation, activation) on `x`.
        dtype: dtype policy of the pooling layers.

    Returns:
        `(inputs, pooled_features)`.
    """
    inputs = keras.Input(shape=input_shape, name="images")
    x = inputs
    width = min(input_shape[:2])
    for i, n in enumerate(filters):
        x = conv_block(x, i, n)
        if width >= 2:
            x = keras.layers.MaxPooling2D(2, name=f"pool_{i}", dtype=dtype)(x)
            width //= 2
    return inputs, keras.layers.GlobalAveragePooling2D(name="gap", dtype=dtype)(x)
