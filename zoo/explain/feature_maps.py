"""Which layer Grad-CAM looks at, and its output as a `(batch, height, width, channels)` map.

Two kinds of layers qualify:

- **convolutional feature maps**: a convolution (or a block holding one, such as
  `InvertedResidual`) and every later layer whose output is still a `(batch, h, w, c)` map
  (batch norm, activation, residual add, pooling);
- **token maps** of vision transformers (ViT, Swin): a `(batch, tokens, features)` output of a
  layer that runs after the last convolution (the patch embedding), whose tokens are a grid of
  the patch grid's aspect ratio, after at most one leading class token.

Chosen automatically: for a CNN, the last feature map of the last convolution's size (the
rectified output of the last convolution block, before any pooling); for a transformer, the last
token map whose grid tokens the score depends on (in ViT the head reads the class token after a
per-token norm, so that is the input of the last block, the layer pytorch-grad-cam's
documentation also picks for ViT).
"""

from __future__ import annotations

import dataclasses
import math

import keras
import tensorflow as tf

from zoo.explain.layer_hooks import LayerCall

CONV_LAYERS = (
    keras.layers.Conv2D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv2D,
    keras.layers.Conv2DTranspose,
)


def is_convolution(layer) -> bool:
    """Whether `layer` is a 2D convolution or a block with one among its sublayers.

    Example:

    ```python
    is_convolution(keras.layers.Conv2D(8, 3))  # True; also for a built InvertedResidual
    ```
    """
    if isinstance(layer, CONV_LAYERS):
        return True
    inner = getattr(layer, "_flatten_layers", None)
    return inner is not None and any(
        isinstance(sub, CONV_LAYERS) for sub in inner(include_self=False, recursive=True)
    )


@dataclasses.dataclass
class FeatureMap:
    """A layer's output, seen as a `(batch, height, width, channels)` map.

    `prefix` leading tokens (a class token) are dropped from a token map, the rest reshaped
    row-major to `grid`; a convolutional map has `prefix=None` and is used as it is.
    """

    call: LayerCall
    grid: tuple[int, int]
    prefix: int | None = None

    @property
    def path(self) -> str:
        return self.call.path

    def as_map(self, tensor) -> tf.Tensor:
        """`tensor` (the layer's output or its gradient) as a float32 `(b, h, w, c)` map."""
        tensor = tf.cast(tensor, "float32")
        if self.prefix is None:
            return tensor
        tokens = tensor[:, self.prefix :]
        return tf.reshape(tokens, (-1, *self.grid, tokens.shape[-1]))


def _is_batched(tensor, rank: int, batch: int) -> bool:
    shape = getattr(tensor, "shape", None)
    return shape is not None and len(shape) == rank and shape[0] == batch


def token_grid(tokens: int, ratio: tuple[int, int]) -> tuple[int, int, int] | None:
    """`(prefix, h, w)` with `prefix + h * w == tokens`, `prefix` 0 or 1 and `h:w == ratio`.

    Args:
        tokens: the sequence length.
        ratio: `(h, w)` of the patch grid (any multiple of the aspect ratio).

    Returns:
        The split, or `None` where no grid of that aspect ratio fits.

    Example:

    ```python
    token_grid(197, (14, 14))  # (1, 14, 14): a class token and 14x14 patches
    ```
    """
    for prefix in (0, 1):
        count = tokens - prefix
        if count < 1:
            continue
        height = round(math.sqrt(count * ratio[0] / ratio[1]))
        if height > 0 and count % height == 0:
            width = count // height
            if height * ratio[1] == width * ratio[0]:
                return prefix, height, width
    return None


def feature_maps(calls: list[LayerCall], batch: int) -> tuple[list[FeatureMap], FeatureMap | None]:
    """Every layer call Grad-CAM may use, in the order they ran, and the last convolution's.

    Args:
        calls: the layer calls of one forward pass (`recorded_calls`).
        batch: the batch size of that pass.

    Returns:
        `(maps, last_convolution)`; `last_convolution` is `None` for a model without one.
    """
    last = {}
    for index, call in enumerate(calls):  # a shared layer counts once, at its last call
        last[call.path] = index
    calls = [call for index, call in enumerate(calls) if last[call.path] == index]
    convolutions = [
        i
        for i, c in enumerate(calls)
        if is_convolution(c.layer) and _is_batched(c.outputs, 4, batch)
    ]
    if not convolutions:
        return [], None
    last_conv = calls[convolutions[-1]]
    maps = [
        FeatureMap(c, tuple(c.outputs.shape[1:3]))
        for c in calls[convolutions[0] :]
        if _is_batched(c.outputs, 4, batch)
    ]
    ratio = tuple(last_conv.outputs.shape[1:3])
    for call in calls[convolutions[-1] + 1 :]:
        if _is_batched(call.outputs, 3, batch) and call.outputs.shape[1] is not None:
            grid = token_grid(call.outputs.shape[1], ratio)
            if grid is not None:
                maps.append(FeatureMap(call, grid[1:], prefix=grid[0]))
    return maps, next(m for m in maps if m.call is last_conv)


def default_feature_maps(maps: list[FeatureMap], last_conv: FeatureMap) -> list[FeatureMap]:
    """The maps `default_feature_map` picks from: every token map, then the last convolution's
    rectified output (the last map of its size)."""
    tokens = [m for m in maps if m.prefix is not None]
    size = last_conv.grid
    return [*tokens, [m for m in maps if m.prefix is None and m.grid == size][-1]]


def default_feature_map(choices: list[FeatureMap], gradients: list) -> FeatureMap:
    """The map Grad-CAM uses when no layer is named (see the module docstring).

    Args:
        choices: `default_feature_maps(...)`.
        gradients: the score's gradient with respect to each choice's output.

    Returns:
        The last token map with a non-zero gradient on its grid, else the convolutional map.
    """
    for choice, gradient in reversed(list(zip(choices[:-1], gradients[:-1], strict=True))):
        if gradient is not None and bool(tf.reduce_any(choice.as_map(gradient) != 0.0)):
            return choice
    return choices[-1]


def find_feature_map(maps: list[FeatureMap], layer_name: str) -> FeatureMap:
    """The candidate whose path (`"backbone/head_conv"`) or unique layer name is `layer_name`."""
    paths = [m.path for m in maps]
    if layer_name in paths:
        return maps[paths.index(layer_name)]
    named = [m for m in maps if m.path.rsplit("/", 1)[-1] == layer_name]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise ValueError(
            f"`layer_name` names {len(named)} layers; give its path, one of "
            f"{[m.path for m in named]}. Received: layer_name={layer_name!r}"
        )
    raise ValueError(
        "`layer_name` must name a convolutional feature-map layer (or a transformer token map) "
        f"of the model, one of {paths}. Received: layer_name={layer_name!r}"
    )
