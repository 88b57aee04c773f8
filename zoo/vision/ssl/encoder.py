"""One adapter from any zoo image network to a `[batch, features]` representation."""

from __future__ import annotations

import keras


def serialize_encoder(encoder: keras.Model) -> dict:
    """`encoder`'s config without its own compile state (an SSL trainer has its own)."""
    config = keras.saving.serialize_keras_object(encoder)
    config.pop("compile_config", None)
    return config


def _network(encoder: keras.Model) -> keras.Model:
    """The part of `encoder` that computes features: a task's backbone, a classifier up to
    the input of its `"logits"` layer (dropout before it skipped), or `encoder` itself."""
    backbone = getattr(encoder, "backbone", None)
    if isinstance(backbone, keras.Model):
        return backbone
    try:
        logits = encoder.get_layer("logits")
    except ValueError:
        return encoder
    features = logits.input
    layer = features._keras_history.operation
    while isinstance(layer, keras.layers.Dropout):
        features = layer.input
        layer = features._keras_history.operation
    return keras.Model(encoder.inputs, features, name=f"{encoder.name}_features")


def _pool(output, dtype):
    if isinstance(output, dict):
        for key in ("pooled_output", "feature_map", "sequence_output"):
            if key in output:
                return _pool(output[key], dtype)
        raise ValueError(
            "The encoder's dict output needs 'pooled_output', 'feature_map' or "
            f"'sequence_output'. Received: encoder output keys={sorted(output)}"
        )
    rank = len(output.shape)
    if rank == 4:
        return keras.layers.GlobalAveragePooling2D(name="pool_feature_map", dtype=dtype)(output)
    if rank == 3:
        return keras.layers.GlobalAveragePooling1D(name="pool_sequence", dtype=dtype)(output)
    if rank == 2:
        return output
    raise ValueError(
        "The encoder must return [batch, features], [batch, tokens, features] or an NHWC "
        f"feature map. Received: encoder output shape={tuple(output.shape)}"
    )


def feature_model(encoder: keras.Model, name: str = "features") -> keras.Model:
    """`images -> [batch, features]` from any zoo image network, sharing its layers.

    Dict outputs use `"pooled_output"`, else the global average of `"feature_map"` (NHWC)
    or of `"sequence_output"` (tokens). A classifier with a layer named `"logits"` (the digits
    CNN, a zoo task) is cut before its head; a task with a `backbone` uses the backbone.
    Training the returned model trains `encoder`'s weights.

    Args:
        encoder: a built functional `keras.Model` taking NHWC images (ViT, Swin, MobileNetV2
            or ResNet backbones or classifiers, `zoo.create("cnn_digits")`, ...).
        name: name of the returned model. Defaults to `"features"`.

    Returns:
        A functional `keras.Model` with one NHWC input and a rank-2 output.

    Example:

    ```python
    features = feature_model(zoo.create("cnn_digits", input_shape=(32, 32, 3)))
    features(images).shape  # (batch, 64)
    ```
    """
    if not isinstance(encoder, keras.Model) or not encoder.built:
        raise TypeError(
            "`encoder` must be a built keras.Model taking NHWC images. "
            f"Received: encoder={encoder!r}"
        )
    network = _network(encoder)
    shape = network.inputs[0].shape if getattr(network, "inputs", None) else None
    if shape is None or len(shape) != 4:
        raise ValueError(
            "`encoder` must take one NHWC image input of rank 4. "
            f"Received: encoder input shape={None if shape is None else tuple(shape)}"
        )
    images = keras.Input(shape[1:], name="images")
    pooled = _pool(network(images), network.dtype_policy)
    return keras.Model(images, pooled, name=name)
