"""Monotonic attention (Raffel et al. 2017): `monotonic_attention`, `safe_cumprod` and the
Bahdanau- and Luong-style monotonic mechanisms of TFA's `tfa.seq2seq`.

Monotonic attention reads the memory left to right: at each output step it moves on from where
it attended last, stopping at memory step `i` with probability `p_choose_i = sigmoid(score_i)`.
The attention is the probability of stopping at each step. TensorFlow-only (`tf.scan`,
`tf.cumsum(exclusive=True)`, `tf.math.cumprod`).
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from layers.seq2seq.attention_mechanisms import (
    AttentionMechanism,
    _bahdanau_score,
    _dense,
    _luong_score,
)
from layers.validation import (
    check_bool,
    check_choice,
    check_non_negative_float,
    check_optional_seed,
    check_positive_int,
)

MODES = ("recursive", "parallel", "hard")


def safe_cumprod(x, axis=0, exclusive: bool = False, reverse: bool = False, name=None):
    """Cumulative product computed as `exp(cumsum(log(x)))`, stable for tiny factors.

    The factors are clipped to `[tiny, 1]` (`tiny` the dtype's smallest normal number), so the
    product and its gradient stay finite where `tf.math.cumprod` underflows. TensorFlow-only.

    Args:
        x: a tensor of factors in `[0, 1]`.
        axis: the axis of the product. Defaults to `0`.
        exclusive: leave out each position's own factor (the first product is 1). Defaults to
            `False`.
        reverse: multiply from the end. Defaults to `False`.
        name: a name scope for the ops. Defaults to `"SafeCumprod"`.

    Returns:
        The cumulative products, shaped like `x`.

    Example:

    ```python
    safe_cumprod([0.5, 0.5, 0.5], exclusive=True)  # [1.0, 0.5, 0.25]
    ```
    """
    with tf.name_scope(name or "SafeCumprod"):
        x = tf.convert_to_tensor(x)
        tiny = np.finfo(x.dtype.as_numpy_dtype).tiny
        logs = tf.math.log(tf.clip_by_value(x, tiny, 1))
        return tf.exp(tf.cumsum(logs, axis=axis, exclusive=exclusive, reverse=reverse))


def monotonic_attention(p_choose_i, previous_attention, mode: str):
    """The monotonic attention distribution from the probabilities of stopping at each step.

    With `q_i` the probability of reaching memory step `i`, `q_i = (1 - p_{i-1}) q_{i-1} +
    previous_attention_i` and `attention_i = p_i q_i`. TensorFlow-only.

    Args:
        p_choose_i: `[batch_size, max_time]` probabilities in `[0, 1]` of stopping at each step.
        previous_attention: `[batch_size, max_time]`, the previous step's attention (for the
            first output step, `[1, 0, ..., 0]` for every sequence).
        mode: how to solve the recurrence:
            - `"recursive"`: step by step (`tf.scan`); exact, the slowest.
            - `"parallel"`: closed form with cumulative sums and products; the products are
              clipped away from 0, so not exact when `p_choose_i` is close to 0 or 1 over long
              memories.
            - `"hard"`: for `p_choose_i` all 0 or 1; exact and fast.

    Returns:
        `[batch_size, max_time]` attention distributions.

    Example:

    ```python
    monotonic_attention([[0.5, 0.5, 1.0]], [[1.0, 0.0, 0.0]], "parallel")  # [[0.5, 0.25, 0.25]]
    ```

    Reference:
        Raffel, Luong, Liu, Weiss, Eck, "Online and Linear-Time Attention by Enforcing
        Monotonic Alignments", ICML 2017, https://arxiv.org/abs/1704.00784
    """
    check_choice("mode", mode, MODES)
    p_choose_i = tf.convert_to_tensor(p_choose_i)
    previous_attention = tf.convert_to_tensor(previous_attention, dtype=p_choose_i.dtype)
    if mode == "recursive":
        batch_size = p_choose_i.shape[0] or tf.shape(p_choose_i)[0]
        ones = tf.ones((batch_size, 1), dtype=p_choose_i.dtype)
        # (1 - p) of the previous step, 1 before the first: [1, 1 - p_0, ..., 1 - p_{T-2}].
        stay_before = tf.concat([ones, 1 - p_choose_i[:, :-1]], axis=1)

        def reach(reached_before, step):
            stay, previous = step
            return tf.reshape(stay * reached_before + previous, (batch_size,))

        reached = tf.scan(
            reach,
            (tf.transpose(stay_before), tf.transpose(previous_attention)),
            initializer=tf.zeros((batch_size,), dtype=p_choose_i.dtype),
        )
        return p_choose_i * tf.transpose(reached)
    if mode == "parallel":
        stay_before = safe_cumprod(1 - p_choose_i, axis=1, exclusive=True)
        reached = tf.cumsum(previous_attention / tf.clip_by_value(stay_before, 1e-10, 1.0), axis=1)
        return p_choose_i * stay_before * reached
    # "hard": drop the steps before the last attended one, then keep the first chosen step.
    p_choose_i = p_choose_i * tf.cumsum(previous_attention, axis=1)
    return p_choose_i * tf.math.cumprod(1 - p_choose_i, axis=1, exclusive=True)


class _BaseMonotonicAttentionMechanism(AttentionMechanism):
    """Shared by the monotonic mechanisms: pre-sigmoid noise, the score bias, and alignments
    that start on the first memory step."""

    def _init_monotonic(self, sigmoid_noise, sigmoid_noise_seed, score_bias_init, mode):
        self.sigmoid_noise = check_non_negative_float("sigmoid_noise", sigmoid_noise)
        self.sigmoid_noise_seed = check_optional_seed("sigmoid_noise_seed", sigmoid_noise_seed)
        if isinstance(score_bias_init, bool) or not isinstance(score_bias_init, int | float):
            raise ValueError(
                f"`score_bias_init` must be a number. Received: score_bias_init={score_bias_init!r}"
            )
        self.score_bias_init = score_bias_init
        self.mode = check_choice("mode", mode, MODES)
        self.attention_score_bias = None

    def _monotonic_probability_fn(self, score, previous_alignments):
        if self.sigmoid_noise > 0:
            noise = keras.random.normal(ops.shape(score), dtype=score.dtype, seed=self.noise_seed)
            score = score + self.sigmoid_noise * noise
        # The cumulative products and the division by them need float32's range: in float16
        # TFA's 1e-10 floor is 0 (mixed precision computes them in float32).
        dtype = keras.backend.standardize_dtype(score.dtype)
        compute_dtype = "float32" if dtype in ("float16", "bfloat16") else dtype
        score = ops.cast(score, compute_dtype)
        previous_alignments = ops.cast(previous_alignments, compute_dtype)
        hard = self.mode == "hard"
        p_choose_i = ops.cast(score > 0, score.dtype) if hard else ops.sigmoid(score)
        return ops.cast(monotonic_attention(p_choose_i, previous_alignments, self.mode), dtype)

    def _add_score_bias(self):
        self.attention_score_bias = self.add_weight(
            name="attention_score_bias",
            shape=(),
            initializer=keras.initializers.Constant(self.score_bias_init),
        )

    def initial_alignments(self, batch_size, dtype):
        """All the attention on the first memory step: `[batch_size, max_time]` one-hots."""
        first = ops.zeros((batch_size,), dtype="int32")
        return ops.one_hot(first, self._alignments_size, dtype=dtype)

    def _monotonic_config(self) -> dict:
        return {
            "sigmoid_noise": self.sigmoid_noise,
            "sigmoid_noise_seed": self.sigmoid_noise_seed,
            "score_bias_init": self.score_bias_init,
            "mode": self.mode,
        }


def _noise_seed(sigmoid_noise, seed):
    return keras.random.SeedGenerator(seed) if sigmoid_noise > 0 else None


@keras.saving.register_keras_serializable(package="keras_zoo")
class BahdanauMonotonicAttention(_BaseMonotonicAttentionMechanism):
    """Monotonic attention with Bahdanau's additive score (plus a learned scalar bias).

    The score is `BahdanauAttention`'s plus `attention_score_bias`; `sigmoid(score)` (a step
    function in `"hard"` mode), with optional Gaussian noise added before it, gives the
    probabilities of stopping at each memory step, and `monotonic_attention` the alignments.
    The alignments start on the first memory step. This is TensorFlow Addons'
    `tfa.seq2seq.BahdanauMonotonicAttention`, with its weights in its order: `[attention_v,
    attention_score_bias, attention_g, attention_b (normalize only), query_layer kernel,
    memory_layer kernel]`.

    Args:
        units: depth of the projections. A positive integer.
        memory: the memory, `[batch_size, max_time, depth]`, or `None` (then `setup_memory`).
        memory_sequence_length: optional `[batch_size]` lengths of the memory's sequences.
        normalize: use the weight-normalised score. Defaults to `False`.
        sigmoid_noise: standard deviation of the noise added to the scores before the sigmoid
            (pushes training towards hard decisions; use 0 at inference). Defaults to `0.0`.
        sigmoid_noise_seed: optional integer seed of that noise. Defaults to `None`.
        score_bias_init: initial score bias; negative values suit long memories. Defaults to
            `0.0`.
        mode: `"parallel"`, `"recursive"` or `"hard"` (see `monotonic_attention`). Defaults to
            `"parallel"`.
        kernel_initializer: initializer of `attention_v`. Defaults to `"glorot_uniform"`.
        dtype: the layer's dtype policy. Defaults to `None` (the global policy).
        name: the layer's name. Defaults to `"BahdanauMonotonicAttention"`.
        **kwargs: `query_layer` / `memory_layer` and base layer arguments.

    Example:

    ```python
    mechanism = BahdanauMonotonicAttention(16, memory=encoder_outputs, score_bias_init=-2.0)
    state = mechanism.initial_state(batch, "float32")  # one-hot on the first step
    alignments, state = mechanism([decoder_output, state])
    ```

    Reference:
        Raffel, Luong, Liu, Weiss, Eck, "Online and Linear-Time Attention by Enforcing
        Monotonic Alignments", ICML 2017, https://arxiv.org/abs/1704.00784
    """

    def __init__(
        self,
        units,
        memory=None,
        memory_sequence_length=None,
        normalize: bool = False,
        sigmoid_noise: float = 0.0,
        sigmoid_noise_seed: int | None = None,
        score_bias_init: float = 0.0,
        mode: str = "parallel",
        kernel_initializer="glorot_uniform",
        dtype=None,
        name: str = "BahdanauMonotonicAttention",
        **kwargs,
    ):
        check_positive_int("units", units)
        check_bool("normalize", normalize)
        self._init_monotonic(sigmoid_noise, sigmoid_noise_seed, score_bias_init, mode)
        query_layer = kwargs.pop("query_layer", None) or _dense(units, "query_layer", dtype)
        memory_layer = kwargs.pop("memory_layer", None) or _dense(units, "memory_layer", dtype)
        self.units = units
        self.normalize = normalize
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.attention_v = None
        self.attention_g = None
        self.attention_b = None
        super().__init__(
            memory=None,
            query_layer=query_layer,
            memory_layer=memory_layer,
            probability_fn=self._monotonic_probability_fn,
            name=name,
            dtype=dtype,
            **kwargs,
        )
        self.noise_seed = _noise_seed(self.sigmoid_noise, sigmoid_noise_seed)
        if memory is not None:
            self.setup_memory(memory, memory_sequence_length)

    def build(self, input_shape):
        super().build(input_shape)
        if self.attention_v is None:
            self.attention_v = self.add_weight(
                name="attention_v", shape=(self.units,), initializer=self.kernel_initializer
            )
        if self.attention_score_bias is None:
            self._add_score_bias()
        if self.normalize and self.attention_g is None:
            self.attention_g = self.add_weight(
                name="attention_g",
                shape=(),
                initializer=keras.initializers.Constant(math.sqrt(1.0 / self.units)),
            )
            self.attention_b = self.add_weight(
                name="attention_b", shape=(self.units,), initializer="zeros"
            )

    def _calculate_attention(self, query, state):
        processed_query = self.query_layer(query) if self.query_layer is not None else query
        score = _bahdanau_score(
            processed_query, self.keys, self.attention_v, self.attention_g, self.attention_b
        )
        alignments = self.probability_fn(score + self.attention_score_bias, state)
        return alignments, alignments

    def get_config(self):
        return {
            **self._base_config(),
            **self._monotonic_config(),
            "units": self.units,
            "normalize": self.normalize,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class LuongMonotonicAttention(_BaseMonotonicAttentionMechanism):
    """Monotonic attention with Luong's multiplicative score (plus a learned scalar bias).

    The score is `LuongAttention`'s plus `attention_score_bias`, turned into alignments as in
    `BahdanauMonotonicAttention`. This is TensorFlow Addons'
    `tfa.seq2seq.LuongMonotonicAttention`, with its weights in its order: `[attention_g (scale
    only), attention_score_bias, memory_layer kernel]`.

    Args:
        units: depth of the keys (and of the queries). A positive integer.
        memory: the memory, `[batch_size, max_time, depth]`, or `None` (then `setup_memory`).
        memory_sequence_length: optional `[batch_size]` lengths of the memory's sequences.
        scale: learn a scalar factor of the score. Defaults to `False`.
        sigmoid_noise: standard deviation of the pre-sigmoid noise. Defaults to `0.0`.
        sigmoid_noise_seed: optional integer seed of that noise. Defaults to `None`.
        score_bias_init: initial score bias. Defaults to `0.0`.
        mode: `"parallel"`, `"recursive"` or `"hard"`. Defaults to `"parallel"`.
        dtype: the layer's dtype policy. Defaults to `None` (the global policy).
        name: the layer's name. Defaults to `"LuongMonotonicAttention"`.
        **kwargs: `memory_layer` and base layer arguments.

    Example:

    ```python
    mechanism = LuongMonotonicAttention(16, memory=encoder_outputs, mode="hard")
    alignments, state = mechanism([decoder_output, mechanism.initial_state(batch, "float32")])
    ```

    Reference:
        Raffel, Luong, Liu, Weiss, Eck, "Online and Linear-Time Attention by Enforcing
        Monotonic Alignments", ICML 2017, https://arxiv.org/abs/1704.00784
    """

    def __init__(
        self,
        units,
        memory=None,
        memory_sequence_length=None,
        scale: bool = False,
        sigmoid_noise: float = 0.0,
        sigmoid_noise_seed: int | None = None,
        score_bias_init: float = 0.0,
        mode: str = "parallel",
        dtype=None,
        name: str = "LuongMonotonicAttention",
        **kwargs,
    ):
        check_positive_int("units", units)
        check_bool("scale", scale)
        self._init_monotonic(sigmoid_noise, sigmoid_noise_seed, score_bias_init, mode)
        memory_layer = kwargs.pop("memory_layer", None) or _dense(units, "memory_layer", dtype)
        self.units = units
        self.scale = scale
        self.attention_g = None
        super().__init__(
            memory=None,
            query_layer=None,
            memory_layer=memory_layer,
            probability_fn=self._monotonic_probability_fn,
            name=name,
            dtype=dtype,
            **kwargs,
        )
        self.noise_seed = _noise_seed(self.sigmoid_noise, sigmoid_noise_seed)
        if memory is not None:
            self.setup_memory(memory, memory_sequence_length)

    def build(self, input_shape):
        super().build(input_shape)
        if self.scale and self.attention_g is None:
            self.attention_g = self.add_weight(name="attention_g", shape=(), initializer="ones")
        if self.attention_score_bias is None:
            self._add_score_bias()

    def _calculate_attention(self, query, state):
        score = _luong_score(query, self.keys, self.attention_g) + self.attention_score_bias
        alignments = self.probability_fn(score, state)
        return alignments, alignments

    def get_config(self):
        return {
            **self._base_config(),
            **self._monotonic_config(),
            "units": self.units,
            "scale": self.scale,
        }
