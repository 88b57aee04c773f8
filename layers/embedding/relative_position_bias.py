"""Learned relative position biases for attention logits: T5 buckets and Swin's 2-D table."""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

MODES = ("t5", "swin")


def t5_relative_position_bucket(
    relative_position, bidirectional: bool = True, num_buckets: int = 32, max_distance: int = 128
):
    """Maps `key_position - query_position` to a T5 bucket index (an int32 tensor).

    Half of the buckets hold exact distances `0 .. max_exact - 1`; the other half cover
    `max_exact .. max_distance` logarithmically, and farther distances share the last bucket.
    When `bidirectional`, the buckets are split again between keys before and after the query.
    """
    relative_position = ops.convert_to_tensor(relative_position, "int32")
    buckets = ops.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + ops.cast(relative_position > 0, "int32") * num_buckets
        distance = ops.abs(relative_position)
    else:
        # Keys after the query all map to bucket 0: a causal model never attends to them.
        distance = -ops.minimum(relative_position, 0)
    max_exact = num_buckets // 2
    is_small = distance < max_exact
    # The log is taken of at least `max_exact` so small distances (masked out below) stay finite.
    log_ratio = ops.log(ops.cast(ops.maximum(distance, max_exact), "float32") / max_exact)
    large = max_exact + ops.cast(
        log_ratio / math.log(max_distance / max_exact) * (num_buckets - max_exact), "int32"
    )
    large = ops.minimum(large, num_buckets - 1)
    return buckets + ops.where(is_small, distance, large)


def swin_relative_position_index(window_size: Sequence[int]) -> np.ndarray:
    """Swin's `(Wh*Ww, Wh*Ww)` index into the `(2Wh-1)(2Ww-1)` relative position table."""
    height, width = window_size
    coords = np.stack(np.meshgrid(np.arange(height), np.arange(width), indexing="ij"))
    coords = coords.reshape(2, -1)
    relative = (coords[:, :, None] - coords[:, None, :]).transpose(1, 2, 0)
    # Shift both offsets to start at 0, then flatten the 2-D offset row-major.
    return (relative[..., 0] + height - 1) * (2 * width - 1) + (relative[..., 1] + width - 1)


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return value


@keras.saving.register_keras_serializable(package="keras_zoo")
class RelativePositionBias(keras.layers.Layer):
    """A learned per-head bias on attention logits, indexed by relative position.

    Two published schemes, chosen with `mode`:

    - `"t5"` (Raffel et al. 2020): the distance `key - query` is mapped to one of `num_buckets`
      buckets (exact for short distances, logarithmic up to `max_distance`, then shared); each
      bucket has one learned scalar per head. Call it on the queries (and optionally the keys,
      for cross-attention); it returns the bias shaped `(1, num_heads, query_len, key_len)`.
    - `"swin"` (Liu et al. 2021): inside a `(Wh, Ww)` window each 2-D offset
      `(dy, dx)` has one learned scalar per head, a `((2Wh-1)(2Ww-1), num_heads)` table. Call it
      on the windowed tokens `(batch * windows, Wh * Ww, channels)`; it returns the bias shaped
      `(1, num_heads, Wh * Ww, Wh * Ww)`.

    Both outputs broadcast against attention logits shaped `(batch, num_heads, query, key)`.
    (Swin's reference code builds the same bias as `(num_heads, N, N)` and adds a batch axis
    before the sum; the axis is kept here so both modes look alike.)

    Args:
        num_heads: number of attention heads.
        mode: `"t5"` or `"swin"`. Defaults to `"t5"`.
        num_buckets: T5 only: number of buckets. Defaults to `32` in `"t5"` mode.
        max_distance: T5 only: distance from which all keys share the last bucket. Defaults to
            `128` in `"t5"` mode.
        bidirectional: T5 only: separate buckets for keys before and after the query (encoders)
            or only keys before it (decoders). Defaults to `True` in `"t5"` mode.
        window_size: Swin only (required there): `(Wh, Ww)` or an int for a square window.
        initializer: initializer of the bias table. Defaults to a truncated normal with
            standard deviation 0.02 (Swin's choice).
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Example:

    ```python
    bias = RelativePositionBias(num_heads=8, num_buckets=32, max_distance=128)(x)
    scores = scores + bias  # scores: (batch, 8, length, length)

    window_bias = RelativePositionBias(num_heads=4, mode="swin", window_size=(7, 7))(windows)
    ```

    References:
        Raffel et al., "Exploring the Limits of Transfer Learning with a Unified Text-to-Text
        Transformer", JMLR 2020, section 2.1.
        Liu et al., "Swin Transformer: Hierarchical Vision Transformer using Shifted Windows",
        ICCV 2021, section 3.2.
    """

    def __init__(
        self,
        num_heads: int,
        mode: str = "t5",
        num_buckets: int | None = None,
        max_distance: int | None = None,
        bidirectional: bool | None = None,
        window_size: int | Sequence[int] | None = None,
        initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = _positive_int("num_heads", num_heads)
        if mode not in MODES:
            raise ValueError(f"`mode` must be one of {MODES}. Received: mode={mode!r}")
        self.mode = mode
        t5_arguments = {
            "num_buckets": num_buckets,
            "max_distance": max_distance,
            "bidirectional": bidirectional,
        }
        if mode == "swin":
            for name, value in t5_arguments.items():
                if value is not None:
                    raise ValueError(
                        f"`{name}` applies to mode='t5' only. Received: {name}={value!r} with "
                        "mode='swin'"
                    )
            if window_size is None:
                raise ValueError("mode='swin' needs `window_size`. Received: window_size=None")
            if isinstance(window_size, int):
                window_size = (window_size, window_size)
            if (
                not isinstance(window_size, Sequence)
                or len(window_size) != 2
                or not all(
                    isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in window_size
                )
            ):
                raise ValueError(
                    "`window_size` must be a positive integer or a pair of them. "
                    f"Received: window_size={window_size!r}"
                )
            window_size = tuple(window_size)
        else:
            if window_size is not None:
                raise ValueError(
                    f"`window_size` applies to mode='swin' only. Received: "
                    f"window_size={window_size!r} with mode='t5'"
                )
            num_buckets = _positive_int("num_buckets", 32 if num_buckets is None else num_buckets)
            max_distance = _positive_int(
                "max_distance", 128 if max_distance is None else max_distance
            )
            bidirectional = True if bidirectional is None else bidirectional
            if not isinstance(bidirectional, bool):
                raise TypeError(
                    f"`bidirectional` must be a bool. Received: bidirectional={bidirectional!r}"
                )
            # The log-spaced half needs at least one exact bucket and a distance beyond it.
            exact = num_buckets // (4 if bidirectional else 2)
            if exact < 1 or max_distance <= exact:
                raise ValueError(
                    f"`num_buckets` must be at least {4 if bidirectional else 2} and "
                    f"`max_distance` greater than {max(exact, 1)}. Received: "
                    f"num_buckets={num_buckets}, max_distance={max_distance}"
                )
        self.num_buckets = num_buckets
        self.max_distance = max_distance
        self.bidirectional = bidirectional
        self.window_size = window_size
        self.initializer = keras.initializers.get(
            initializer or keras.initializers.TruncatedNormal(stddev=0.02)
        )
        if mode == "swin":
            self._index = swin_relative_position_index(window_size).reshape(-1).astype("int32")

    def build(self, input_shape):
        if self.mode == "swin":
            height, width = self.window_size
            tokens = input_shape[-2] if len(input_shape) >= 2 else None
            if tokens is not None and tokens != height * width:
                raise ValueError(
                    f"mode='swin' expects windows of window_size={self.window_size} "
                    f"({height * width} tokens) on axis -2. Received: input_shape={input_shape}"
                )
            rows = (2 * height - 1) * (2 * width - 1)
        else:
            rows = self.num_buckets
        self.table = self.add_weight(
            shape=(rows, self.num_heads), initializer=self.initializer, name="table"
        )

    def call(self, inputs, key=None):
        table = ops.cast(self.table, self.compute_dtype)
        if self.mode == "swin":
            tokens = self.window_size[0] * self.window_size[1]
            bias = ops.reshape(ops.take(table, self._index, axis=0), (tokens, tokens, -1))
        else:
            query_length = ops.shape(inputs)[1]
            key_length = query_length if key is None else ops.shape(key)[1]
            relative = ops.arange(key_length)[None, :] - ops.arange(query_length)[:, None]
            buckets = t5_relative_position_bucket(
                relative, self.bidirectional, self.num_buckets, self.max_distance
            )
            bias = ops.take(table, buckets, axis=0)  # (query, key, heads)
        return ops.expand_dims(ops.transpose(bias, (2, 0, 1)), 0)

    def compute_output_shape(self, inputs_shape, key_shape=None):
        if self.mode == "swin":
            tokens = self.window_size[0] * self.window_size[1]
            return (1, self.num_heads, tokens, tokens)
        key_length = inputs_shape[1] if key_shape is None else key_shape[1]
        return (1, self.num_heads, inputs_shape[1], key_length)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "mode": self.mode,
            "num_buckets": self.num_buckets,
            "max_distance": self.max_distance,
            "bidirectional": self.bidirectional,
            "window_size": None if self.window_size is None else list(self.window_size),
            "initializer": keras.initializers.serialize(self.initializer),
        }
