"""GPT-2's transformer block: pre-LayerNorm causal attention and MLP, with a key/value cache."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_positive_float, check_positive_int, check_rate
from zoo.text.encoder import gelu_approximate


def gpt2_initializer() -> keras.initializers.Initializer:
    """GPT-2's initializer: a normal with standard deviation 0.02."""
    return keras.initializers.RandomNormal(stddev=0.02)


def causal_padding_mask(padding_mask):
    """Bool `[B, T, T]`: query `t` sees key `s <= t` where `s` is a real token."""
    length = ops.shape(padding_mask)[1]
    causal = ops.arange(length)[None, :] <= ops.arange(length)[:, None]
    return ops.logical_and(causal[None], ops.cast(padding_mask, "bool")[:, None, :])


@keras.saving.register_keras_serializable(package="keras_zoo")
class GPT2DecoderBlock(keras.layers.Layer):
    """One GPT-2 layer: `x + attn(ln_1(x))`, then `x + mlp(ln_2(x))`, attention masked causally.

    The fused query/key/value projection (`c_attn`) and the output projections are plain dense
    layers, laid out as Hugging Face's `Conv1D` weights (`[in, out]`), so checkpoints load as
    they are. The MLP uses GELU with the tanh approximation (`gelu_new`).

    With a `cache` (`[B, 2, max_length, heads, head_dim]`, keys then values) the block writes the
    keys and values of its `T` input positions at `cache_index` and attends over the whole cache,
    so generating one token costs one position of keys and values.

    Args:
        num_heads: attention heads; must divide the input width.
        intermediate_dim: width of the MLP's hidden layer.
        dropout: dropout of the attention probabilities and residual branches. Defaults to `0.1`.
        layer_norm_epsilon: epsilon of both layer norms. Defaults to `1e-5`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        x: `[B, T, hidden]`.
        padding_mask: int `[B, T]`, 1 for real tokens: the mask is then causal over `x` itself.
        attention_mask: bool `[B, T, S]`, True where query `t` may attend to key `s` (`S` the
            cache length), instead of `padding_mask`.
        cache: optional `[B, 2, S, heads, head_dim]`.
        cache_index: int32 scalar, where the `T` new positions go in the cache.

    Returns `x` `[B, T, hidden]`, and the updated cache when one was given.

    Example:

    ```python
    block = GPT2DecoderBlock(num_heads=12, intermediate_dim=3072)
    y = block(x, padding_mask=padding_mask)
    ```

    Reference:
        Radford et al., "Language Models are Unsupervised Multitask Learners", 2019.
    """

    def __init__(self, num_heads, intermediate_dim, dropout=0.1, layer_norm_epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.intermediate_dim = check_positive_int("intermediate_dim", intermediate_dim)
        self.dropout = check_rate("dropout", dropout)
        self.layer_norm_epsilon = check_positive_float("layer_norm_epsilon", layer_norm_epsilon)

    def build(self, input_shape):
        hidden = input_shape[-1]
        if hidden % self.num_heads:
            raise ValueError(
                f"The input width must be divisible by `num_heads={self.num_heads}`. "
                f"Received: hidden_dim={hidden}"
            )
        self.head_dim = hidden // self.num_heads
        dense = {"kernel_initializer": gpt2_initializer(), "dtype": self.dtype_policy}
        norm = {"epsilon": self.layer_norm_epsilon, "dtype": self.dtype_policy}
        self.ln_1 = keras.layers.LayerNormalization(name="ln_1", **norm)
        self.c_attn = keras.layers.Dense(3 * hidden, name="c_attn", **dense)
        self.attn_proj = keras.layers.Dense(hidden, name="attn_c_proj", **dense)
        self.ln_2 = keras.layers.LayerNormalization(name="ln_2", **norm)
        self.c_fc = keras.layers.Dense(
            self.intermediate_dim, activation=gelu_approximate, name="c_fc", **dense
        )
        self.mlp_proj = keras.layers.Dense(hidden, name="mlp_c_proj", **dense)
        self.attention_dropout = keras.layers.Dropout(self.dropout)
        self.residual_dropout = keras.layers.Dropout(self.dropout)
        for layer, width in [
            (self.ln_1, hidden),
            (self.c_attn, hidden),
            (self.attn_proj, hidden),
            (self.ln_2, hidden),
            (self.c_fc, hidden),
            (self.mlp_proj, self.intermediate_dim),
        ]:
            layer.build((None, None, width))

    def _heads(self, x):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        return ops.reshape(x, (batch, length, self.num_heads, self.head_dim))

    def call(
        self, x, padding_mask=None, attention_mask=None, cache=None, cache_index=None, training=None
    ):
        if attention_mask is None:
            attention_mask = causal_padding_mask(padding_mask)
        query, key, value = ops.split(self.c_attn(self.ln_1(x)), 3, axis=-1)
        query, key, value = self._heads(query), self._heads(key), self._heads(value)
        if cache is not None:
            start = [0, 0, cache_index, 0, 0]
            cache = ops.slice_update(cache, start, ops.stack([key, value], axis=1))
            key, value = cache[:, 0], cache[:, 1]
        scores = ops.einsum("bthd,bshd->bhts", query, key) / ops.sqrt(
            ops.cast(self.head_dim, query.dtype)
        )
        mask = ops.expand_dims(ops.cast(attention_mask, "bool"), 1)
        scores = ops.where(mask, ops.cast(scores, "float32"), -1e9)  # float32: fits -1e9
        probabilities = ops.softmax(scores, axis=-1)
        probabilities = self.attention_dropout(ops.cast(probabilities, x.dtype), training=training)
        attended = ops.einsum("bhts,bshd->bthd", probabilities, value)
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        attended = ops.reshape(attended, (batch, length, self.num_heads * self.head_dim))
        x = x + self.residual_dropout(self.attn_proj(attended), training=training)
        x = x + self.residual_dropout(self.mlp_proj(self.c_fc(self.ln_2(x))), training=training)
        return x if cache is None else (x, cache)

    def compute_output_shape(self, input_shape, *args, **kwargs):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }
