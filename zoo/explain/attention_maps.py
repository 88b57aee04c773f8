"""Attention rollout for vision transformers: how much each image patch flows into the output."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from layers.validation import check_choice
from zoo.explain.feature_maps import token_grid
from zoo.explain.layer_hooks import replaced_calls
from zoo.explain.model_outputs import check_model_input

HEAD_FUSIONS = ("mean", "max", "min")


def _attention_layers(model: keras.Model) -> list:
    layers = model._flatten_layers(include_self=False, recursive=True)
    return [layer for layer in layers if isinstance(layer, keras.layers.MultiHeadAttention)]


def attention_probabilities(model: keras.Model, images) -> list[np.ndarray]:
    """The attention probabilities of every `keras.layers.MultiHeadAttention` layer of `model`.

    Each attention layer is asked for its scores (`return_attention_scores=True`) during one
    call of the model and returns its output unchanged, so the model computes what it always
    does. Zoo's ViT blocks use `FusedMultiHeadAttention`, which then runs keras' own attention
    path with the same weights.

    Args:
        model: a Keras model built from `keras.layers.MultiHeadAttention` layers (zoo's ViT).
        images: `(batch, height, width, channels)` images as the model takes them.

    Returns:
        One `(batch, heads, queries, keys)` float32 array per attention call, in the order
        they ran.

    Example:

    ```python
    probabilities = attention_probabilities(vit, images)  # one per block
    ```
    """
    images = check_model_input(model, "images", images, rank=4)
    layers = _attention_layers(model)
    if not layers:
        raise ValueError(
            "The model has no keras.layers.MultiHeadAttention layer to read attention from "
            f"(Swin's window attention is not one; use grad_cam). Received: model={model.name!r}"
        )
    found = []

    def make_call(layer, original):
        def call(*args, **kwargs):
            kwargs["return_attention_scores"] = True
            outputs, scores = original(*args, **kwargs)
            found.append(np.asarray(tf.cast(scores, "float32")))
            return outputs

        return call

    with replaced_calls(layers, make_call):
        model(tf.constant(images), training=False)
    return found


def rollout(attentions, head_fusion: str = "mean") -> np.ndarray:
    """Attention rollout: the product over layers of head-fused attention plus the residual.

    Each layer's `A` (heads fused by `head_fusion`) becomes `0.5 * A + 0.5 * I`, rows renormalised
    to sum to 1, and the layers are multiplied, last on the left.

    Args:
        attentions: `(batch, heads, tokens, tokens)` probabilities per layer, first layer first.
        head_fusion: `"mean"` (the paper's), `"max"` or `"min"` over heads. Defaults to
            `"mean"`.

    Returns:
        `(batch, tokens, tokens)`: row `i` says how much each input token flows into output
        token `i`.

    Example:

    ```python
    flow = rollout(attention_probabilities(vit, images))
    ```

    Reference:
        Abnar and Zuidema, "Quantifying Attention Flow in Transformers", ACL 2020.
    """
    check_choice("head_fusion", head_fusion, HEAD_FUSIONS)
    result = None
    for attention in attentions:
        fused = getattr(np, head_fusion)(np.asarray(attention, "float64"), axis=1)
        mixed = 0.5 * fused + 0.5 * np.eye(fused.shape[-1])
        mixed /= mixed.sum(axis=-1, keepdims=True)
        result = mixed if result is None else mixed @ result
    if result is None:
        raise ValueError("`attentions` must hold at least one layer. Received: attentions=[]")
    return result.astype("float32")


def attention_rollout(model: keras.Model, images, head_fusion: str = "mean") -> np.ndarray:
    """Attention-rollout heatmaps of a ViT: how much each patch flows into the prediction.

    The rollout row of the class token (or, in a model without one, the mean over all tokens,
    as mean pooling reads them) is reshaped to the patch grid, resized bilinearly to the image
    and divided by its maximum. The map does not depend on a class; `grad_cam` gives
    class-specific maps for ViT and Swin.

    Args:
        model: a ViT classifier (any model whose attention layers are
            `keras.layers.MultiHeadAttention` over one token sequence, patch tokens row-major
            after at most one class token).
        images: `(batch, height, width, channels)` images as the model takes them.
        head_fusion: how heads are combined, `"mean"`, `"max"` or `"min"`. Defaults to
            `"mean"`.

    Returns:
        `(batch, height, width)` float32 heatmaps in [0, 1].

    Example:

    ```python
    model = zoo.create("vit_tiny_32")
    heatmaps = zoo.explain.attention_rollout(model, images)
    ```

    Reference:
        Abnar and Zuidema, "Quantifying Attention Flow in Transformers", ACL 2020.
    """
    check_choice("head_fusion", head_fusion, HEAD_FUSIONS)
    images = check_model_input(model, "images", images, rank=4)
    attentions = attention_probabilities(model, images)
    tokens = sorted({a.shape[-1] for a in attentions} | {a.shape[-2] for a in attentions})
    height, width = images.shape[1:3]
    grid = token_grid(tokens[0], (height, width)) if len(tokens) == 1 else None
    if grid is None:
        raise ValueError(
            "Attention rollout needs every attention layer over the same patch grid, after at "
            f"most one class token. Received: token counts {tokens} for "
            f"{height}x{width} images"
        )
    prefix, rows, columns = grid
    flow = rollout(attentions, head_fusion)
    relevance = flow[:, 0] if prefix else flow.mean(axis=1)
    maps = relevance[:, prefix:].reshape(-1, rows, columns, 1)
    maps = tf.image.resize(maps, (height, width), method="bilinear")[..., 0]
    peak = tf.reduce_max(maps, axis=(1, 2), keepdims=True)
    return tf.math.divide_no_nan(maps, peak).numpy()
