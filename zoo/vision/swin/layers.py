"""Layers of the Swin Transformer: window attention, the (shifted) window block, patch merging."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from layers.embedding import RelativePositionBias
from layers.regularization import StochasticDepth
from layers.validation import (
    check_int_in_range,
    check_int_pair,
    check_positive_float,
    check_positive_int,
    check_rate,
)

# The reference implementation fills masked logits with -100 (not -inf): exp(-100) is 0 in
# float32 and -100 stays finite in float16.
MASK_VALUE = -100.0


def _check_multiples(name: str, value, divisor: int, divisor_name: str) -> tuple[int, int]:
    # Grid sides that must split into whole windows (or 2x2 merges); `layers.validation` has
    # no divisibility check yet.
    pair = check_int_pair(name, value)
    if any(side % divisor for side in pair):
        raise ValueError(
            f"`{name}` must be multiples of {divisor_name}. Received: {name}={value!r}"
        )
    return pair


def window_partition(x, window_size: int):
    """`(batch, h, w, c)` to `(batch * windows, window_size**2, c)`, windows row-major."""
    _, height, width, channels = x.shape
    x = ops.reshape(
        x, (-1, height // window_size, window_size, width // window_size, window_size, channels)
    )
    x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
    return ops.reshape(x, (-1, window_size * window_size, channels))


def window_reverse(windows, window_size: int, height: int, width: int):
    """The inverse of `window_partition`: back to `(batch, h, w, c)`."""
    channels = windows.shape[-1]
    x = ops.reshape(
        windows,
        (-1, height // window_size, width // window_size, window_size, window_size, channels),
    )
    x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
    return ops.reshape(x, (-1, height, width, channels))


def shifted_window_mask(height: int, width: int, window_size: int, shift: int) -> np.ndarray:
    """The `(windows, n, n)` additive mask of shifted-window attention (Liu et al., fig. 4).

    After the cyclic shift, a window can hold pixels from up to four image regions that were not
    adjacent; tokens attend only to tokens of their own region (0), others get `MASK_VALUE`.
    """
    regions = np.zeros((1, height, width, 1), "float32")
    label = 0
    for h in (slice(0, -window_size), slice(-window_size, -shift), slice(-shift, None)):
        for w in (slice(0, -window_size), slice(-window_size, -shift), slice(-shift, None)):
            regions[:, h, w, :] = label
            label += 1
    windows = regions.reshape(
        height // window_size, window_size, width // window_size, window_size
    ).transpose(0, 2, 1, 3)
    windows = windows.reshape(-1, window_size * window_size)
    different = windows[:, None, :] != windows[:, :, None]
    return np.where(different, MASK_VALUE, 0.0).astype("float32")


@keras.saving.register_keras_serializable(package="keras_zoo")
class WindowAttention(keras.layers.Layer):
    """Multi-head self-attention inside windows, with Swin's relative position bias.

    Args:
        num_heads: attention heads; must divide the channels.
        window_size: the window's side (windows hold `window_size**2` tokens).
        attention_dropout: dropout of the attention probabilities. Defaults to `0.0`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        inputs: windows shaped `(batch * windows, window_size**2, channels)`.
        attention_mask: optional additive `(windows, n, n)` mask (see `shifted_window_mask`).

    Example:

    ```python
    y = WindowAttention(num_heads=3, window_size=7)(windows)  # windows: (b * nw, 49, 96)
    ```

    Reference:
        Liu et al., "Swin Transformer: Hierarchical Vision Transformer using Shifted Windows",
        ICCV 2021, section 3.2, eq. 4.
    """

    def __init__(self, num_heads: int, window_size: int, attention_dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.window_size = check_positive_int("window_size", window_size)
        self.attention_dropout = check_rate("attention_dropout", attention_dropout)

    def build(self, inputs_shape, attention_mask_shape=None):
        input_shape = inputs_shape
        channels = input_shape[-1]
        if channels is None or channels % self.num_heads:
            raise ValueError(
                f"WindowAttention needs channels divisible by num_heads={self.num_heads}. "
                f"Received: input_shape={input_shape}"
            )
        policy = self.dtype_policy
        for part in ("query", "key", "value", "projection"):
            dense = keras.layers.Dense(channels, name=part, dtype=policy)
            dense.build(input_shape)
            setattr(self, part, dense)
        self.relative_position_bias = RelativePositionBias(
            self.num_heads,
            mode="swin",
            window_size=self.window_size,
            name="relative_position_bias",
            dtype=policy,
        )
        self.relative_position_bias.build(input_shape)
        self.dropout = keras.layers.Dropout(self.attention_dropout, dtype=policy)

    def _fused_projection(self, dtype, scale):
        """One `(c, 3c)` kernel and bias for query, key and value, the query part pre-scaled.

        One matmul of the windows by the concatenated kernels runs faster than three; folding
        the `1/sqrt(head_dim)` scale into the query's weights saves a pass over the queries.
        """
        factor = ops.cast(scale, dtype)
        kernels = [ops.cast(self.query.kernel, dtype) * factor]
        biases = [ops.cast(self.query.bias, dtype) * factor]
        for part in (self.key, self.value):
            kernels.append(ops.cast(part.kernel, dtype))
            biases.append(ops.cast(part.bias, dtype))
        return ops.concatenate(kernels, axis=-1), ops.concatenate(biases, axis=-1)

    def call(self, inputs, attention_mask=None, training=None):
        tokens, channels = inputs.shape[-2], inputs.shape[-1]
        heads, head_dim = self.num_heads, channels // self.num_heads
        kernel, bias = self._fused_projection(inputs.dtype, head_dim**-0.5)
        projected = ops.matmul(ops.reshape(inputs, (-1, channels)), kernel) + bias
        # (windows, tokens, 3, heads, head_dim) -> 3 x (windows, heads, tokens, head_dim)
        projected = ops.reshape(projected, (-1, tokens, 3, heads, head_dim))
        query, key, value = ops.unstack(ops.transpose(projected, (2, 0, 3, 1, 4)), 3, axis=0)
        scores = ops.einsum("bnth,bnsh->bnts", query, key)
        # The position bias (1, heads, n, n) and the shift mask (windows, 1, n, n) are summed
        # once, then added to the scores in one pass.
        bias = self.relative_position_bias(inputs)
        if attention_mask is not None:
            windows = attention_mask.shape[0]
            bias = bias + ops.cast(attention_mask, bias.dtype)[:, None]
            scores = ops.reshape(scores, (-1, windows, heads, tokens, tokens)) + bias
            scores = ops.reshape(scores, (-1, heads, tokens, tokens))
        else:
            scores = scores + bias
        # Softmax in float32 keeps mixed precision stable.
        probabilities = ops.cast(ops.softmax(ops.cast(scores, "float32"), axis=-1), inputs.dtype)
        probabilities = self.dropout(probabilities, training=training)
        context = ops.einsum("bnts,bnsh->btnh", probabilities, value)
        return self.projection(ops.reshape(context, (-1, tokens, channels)))

    def compute_output_shape(self, inputs_shape, attention_mask_shape=None):
        return tuple(inputs_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "window_size": self.window_size,
            "attention_dropout": self.attention_dropout,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class SwinBlock(keras.layers.Layer):
    """A Swin Transformer block: (shifted) window attention and an MLP, both pre-norm residual.

    Tokens `(batch, h * w, c)` are normed, reshaped to the `(h, w)` grid, cyclically shifted by
    `-shift_size` (when non-zero), split into windows, attended with the shifted-window mask,
    merged and shifted back; the MLP (`Dense(c * mlp_ratio, gelu)`, `Dense(c)`) follows.

    Args:
        num_heads: attention heads.
        input_resolution: `(h, w)` of the token grid; both must be multiples of `window_size`.
        window_size: window side. Defaults to `7`.
        shift_size: cyclic shift, `0` for regular windows; below `window_size`. Defaults to `0`.
        mlp_ratio: MLP width relative to the channels. Defaults to `4.0`.
        dropout: dropout after the attention output and in the MLP. Defaults to `0.0`.
        attention_dropout: dropout of the attention probabilities. Defaults to `0.0`.
        drop_path_rate: stochastic depth rate of both branches. Defaults to `0.0`.
        layer_norm_epsilon: epsilon of the layer norms. Defaults to `1e-5`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Example:

    ```python
    block = SwinBlock(num_heads=3, input_resolution=(56, 56), window_size=7, shift_size=3)
    y = block(tokens)  # tokens: (batch, 3136, 96)
    ```

    Reference:
        Liu et al., "Swin Transformer", ICCV 2021, section 3.2, eq. 3.
    """

    def __init__(
        self,
        num_heads: int,
        input_resolution,
        window_size: int = 7,
        shift_size: int = 0,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        drop_path_rate: float = 0.0,
        layer_norm_epsilon: float = 1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.input_resolution = check_int_pair("input_resolution", input_resolution)
        self.window_size = check_positive_int("window_size", window_size)
        self.shift_size = check_int_in_range(
            "shift_size",
            shift_size,
            0,
            self.window_size,
            include_high=False,
            high_name="window_size",
        )
        _check_multiples(
            "input_resolution", input_resolution, window_size, f"window_size={window_size}"
        )
        self.mlp_ratio = check_positive_float("mlp_ratio", mlp_ratio)
        self.dropout = check_rate("dropout", dropout)
        self.attention_dropout = check_rate("attention_dropout", attention_dropout)
        self.drop_path_rate = check_rate("drop_path_rate", drop_path_rate)
        self.layer_norm_epsilon = check_positive_float("layer_norm_epsilon", layer_norm_epsilon)
        self._mask = None
        if self.shift_size:
            self._mask = shifted_window_mask(*self.input_resolution, window_size, shift_size)

    def build(self, input_shape):
        height, width = self.input_resolution
        if len(input_shape) != 3 or input_shape[1] not in (None, height * width):
            raise ValueError(
                f"SwinBlock expects (batch, {height * width}, channels) tokens for "
                f"input_resolution={self.input_resolution}. Received: input_shape={input_shape}"
            )
        channels = input_shape[-1]
        policy = self.dtype_policy
        self.norm_1 = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="norm_1", dtype=policy
        )
        self.attention = WindowAttention(
            self.num_heads, self.window_size, self.attention_dropout, name="attention", dtype=policy
        )
        self.norm_2 = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="norm_2", dtype=policy
        )
        hidden = int(channels * self.mlp_ratio)
        self.mlp_in = keras.layers.Dense(hidden, activation="gelu", name="mlp_in", dtype=policy)
        self.mlp_out = keras.layers.Dense(channels, name="mlp_out", dtype=policy)
        self.drop = keras.layers.Dropout(self.dropout, dtype=policy)
        survival = 1.0 - self.drop_path_rate
        self.drop_path_1 = StochasticDepth(survival, name="drop_path_1", dtype=policy)
        self.drop_path_2 = StochasticDepth(survival, name="drop_path_2", dtype=policy)
        self.norm_1.build(input_shape)
        self.attention.build((None, self.window_size**2, channels))
        self.norm_2.build(input_shape)
        self.mlp_in.build(input_shape)
        self.mlp_out.build((*input_shape[:-1], hidden))

    def call(self, inputs, training=None):
        height, width = self.input_resolution
        channels = inputs.shape[-1]
        x = ops.reshape(self.norm_1(inputs), (-1, height, width, channels))
        if self.shift_size:
            x = ops.roll(x, shift=(-self.shift_size, -self.shift_size), axis=(1, 2))
        windows = window_partition(x, self.window_size)
        mask = None if self._mask is None else ops.convert_to_tensor(self._mask)
        windows = self.attention(windows, attention_mask=mask, training=training)
        x = window_reverse(windows, self.window_size, height, width)
        if self.shift_size:
            x = ops.roll(x, shift=(self.shift_size, self.shift_size), axis=(1, 2))
        x = ops.reshape(x, (-1, height * width, channels))
        x = self.drop_path_1([inputs, self.drop(x, training=training)], training=training)
        h = self.mlp_out(self.drop(self.mlp_in(self.norm_2(x)), training=training))
        return self.drop_path_2([x, self.drop(h, training=training)], training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "input_resolution": list(self.input_resolution),
            "window_size": self.window_size,
            "shift_size": self.shift_size,
            "mlp_ratio": self.mlp_ratio,
            "dropout": self.dropout,
            "attention_dropout": self.attention_dropout,
            "drop_path_rate": self.drop_path_rate,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class PatchMerging(keras.layers.Layer):
    """Halves the token grid, doubles the channels: 2x2 neighbours concatenated and projected.

    `(batch, h * w, c)` becomes `(batch, h/2 * w/2, 2c)`; the four neighbours are concatenated
    in the reference order (top-left, bottom-left, top-right, bottom-right), layer-normed and
    projected by a bias-free `Dense(2c)`.

    Args:
        input_resolution: `(h, w)` of the token grid; both even.
        layer_norm_epsilon: epsilon of the layer norm. Defaults to `1e-5`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Example:

    ```python
    y = PatchMerging(input_resolution=(56, 56))(tokens)  # (b, 3136, 96) -> (b, 784, 192)
    ```

    Reference:
        Liu et al., "Swin Transformer", ICCV 2021, section 3.1.
    """

    def __init__(self, input_resolution, layer_norm_epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.input_resolution = check_int_pair("input_resolution", input_resolution)
        _check_multiples("input_resolution", input_resolution, 2, "2 (even)")
        self.layer_norm_epsilon = check_positive_float("layer_norm_epsilon", layer_norm_epsilon)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="norm", dtype=self.dtype_policy
        )
        self.reduction = keras.layers.Dense(
            2 * channels, use_bias=False, name="reduction", dtype=self.dtype_policy
        )
        self.norm.build((*input_shape[:-1], 4 * channels))
        self.reduction.build((*input_shape[:-1], 4 * channels))

    def call(self, inputs):
        height, width = self.input_resolution
        channels = inputs.shape[-1]
        x = ops.reshape(inputs, (-1, height, width, channels))
        x = ops.concatenate(
            [x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], axis=-1
        )
        x = ops.reshape(x, (-1, (height // 2) * (width // 2), 4 * channels))
        return self.reduction(self.norm(x))

    def compute_output_shape(self, input_shape):
        height, width = self.input_resolution
        return (input_shape[0], (height // 2) * (width // 2), 2 * input_shape[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "input_resolution": list(self.input_resolution),
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }
