"""Attention mechanisms over an encoder's memory: Luong and Bahdanau attention (TFA's
`tfa.seq2seq.AttentionMechanism`, `LuongAttention`, `BahdanauAttention`, `hardmax`).

A mechanism holds a memory (usually the encoder outputs, `[batch_size, max_time, depth]`),
set up once per batch with `setup_memory` (or passed to the constructor): the memory is masked
past each sequence's length and projected by `memory_layer` into the keys. Every decoder step
then calls `mechanism([query, state])` and gets `(alignments, next_state)`, the attention
distribution over the memory (`[batch_size, max_time]`) and the mechanism's next state.
`AttentionWrapper` (`layers.seq2seq.attention_wrapper`) does that for an RNN cell.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from layers.validation import check_bool, check_choice, check_positive_int

PROBABILITY_FNS = ("softmax", "hardmax")


def hardmax(logits, name: str | None = None):
    """One-hot vectors of the largest logit along the last axis (ties: the first one).

    Args:
        logits: a tensor of logits, `[..., depth]`.
        name: a name scope for the ops. Defaults to `"Hardmax"`.

    Returns:
        A tensor of the logits' shape and dtype, 1 at the arg max and 0 elsewhere.

    Example:

    ```python
    hardmax([[0.1, 2.0, 0.3]])  # [[0.0, 1.0, 0.0]]
    ```
    """
    with keras.name_scope(name or "Hardmax"):
        logits = ops.convert_to_tensor(logits)
        depth = logits.shape[-1] or ops.shape(logits)[-1]
        return ops.one_hot(ops.argmax(logits, axis=-1), depth, dtype=logits.dtype)


def _softmax(logits):
    return ops.softmax(logits, axis=-1)


_PROBABILITY_FNS = {"softmax": _softmax, "hardmax": hardmax}


def _static_value(value):
    """`value` as a NumPy array when it is known without running a graph, else `None`."""
    if value is None or keras.backend.is_keras_tensor(value):
        return None
    if tf.is_tensor(value):
        return tf.get_static_value(value)
    return np.asarray(value)


def _sequence_mask(lengths, max_time):
    """`[batch_size, max_time]` booleans, True before each length."""
    return ops.arange(max_time)[None, :] < ops.cast(lengths, "int32")[:, None]


def _score_mask_value(dtype):
    """The most negative finite value of `dtype` (what masked scores become, as in TFA)."""
    return float(tf.as_dtype(keras.backend.standardize_dtype(dtype)).min)


class AttentionMechanism(keras.layers.Layer):
    """Base class of attention mechanisms that attend over a memory.

    It keeps the memory (`values`: the memory with every step past a sequence's length set to
    zero), its projection by `memory_layer` (`keys`), the probability function that turns
    scores into alignments (with the steps past a sequence's length masked: their scores become
    the dtype's most negative value before it), and an optional `query_layer` for the queries.
    Subclasses implement `_calculate_attention(query, state)`.

    The memory is set up by `setup_memory(memory, memory_sequence_length=None,
    memory_mask=None)`, or by passing `memory` to the constructor, or in TFA's style by
    `mechanism(memory, setup_memory=True)` (`mechanism([memory, lengths], setup_memory=True)`).
    Then `mechanism([query, state])` returns `(alignments, next_state)`. A Keras 3 functional
    model can also pass the memory as an input, `mechanism([query, state, memory])` or
    `mechanism([query, state, memory, memory_sequence_length])`: it is set up for that call
    only (TensorFlow Addons took a third input too, the processed memory, which it ignored;
    passing `mechanism.values` there still means that). `setup_memory` takes symbolic Keras
    tensors, which builds the weights without data.

    Weights are created when the memory is set up (`memory_layer`) and at the first query
    (`query_layer` and the mechanism's own weights), in TensorFlow Addons' order:
    `set_weights(tfa_mechanism.get_weights())` works once both have run.

    Args:
        memory: the memory to query, `[batch_size, max_time, depth]`, or `None` to set it up
            later.
        probability_fn: `probabilities = probability_fn(score, state)`.
        query_layer: an optional layer applied to the queries; its depth must match
            `memory_layer`'s.
        memory_layer: an optional layer applied to the memory to give the keys.
        memory_sequence_length: optional `[batch_size]` lengths of the memory's sequences.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example (a subclass in use):

    ```python
    mechanism = LuongAttention(units=8)
    mechanism.setup_memory(encoder_outputs, memory_sequence_length=lengths)
    alignments, next_state = mechanism([decoder_output, previous_alignments])
    ```
    """

    def __init__(
        self,
        memory,
        probability_fn,
        query_layer: keras.layers.Layer | None = None,
        memory_layer: keras.layers.Layer | None = None,
        memory_sequence_length=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not callable(probability_fn):
            raise TypeError(
                f"`probability_fn` must be callable. Received: probability_fn={probability_fn!r}"
            )
        for name, layer in (("query_layer", query_layer), ("memory_layer", memory_layer)):
            if layer is not None and not isinstance(layer, keras.layers.Layer):
                raise TypeError(
                    f"`{name}` must be a keras Layer or None. Received: {name}={layer!r}"
                )
        # Tracked in this order: TFA's weight list has the query layer's kernel first.
        self.query_layer = query_layer
        self.memory_layer = memory_layer
        self.default_probability_fn = probability_fn
        self.probability_fn = probability_fn
        self.keys = None
        self.values = None
        self.batch_size = None
        self._alignments_size = None
        self._memory_depth = None
        self._memory_mask = None
        self._memory_initialized = False
        self._query_shape = None
        self.supports_masking = True
        if memory is not None:
            self.setup_memory(memory, memory_sequence_length)

    @property
    def memory_initialized(self) -> bool:
        """Whether a memory has been set up."""
        return self._memory_initialized

    # ----------------------------------------------------------------------------------------
    # Memory
    # ----------------------------------------------------------------------------------------

    def setup_memory(self, memory, memory_sequence_length=None, memory_mask=None):
        """Masks and projects the memory that the following queries attend over.

        Args:
            memory: `[batch_size, max_time, depth]`, usually the encoder outputs (a tensor, an
                array or a symbolic Keras tensor).
            memory_sequence_length: optional `[batch_size]` integers in `[1, max_time]`; the
                memory steps at or past a sequence's length are zeroed and never attended to.
            memory_mask: optional `[batch_size, max_time]` booleans, False where the memory
                must be ignored (instead of `memory_sequence_length`).
        """
        if memory_sequence_length is not None and memory_mask is not None:
            raise ValueError(
                "Pass `memory_sequence_length` or `memory_mask`, not both. Received: "
                f"memory_sequence_length={memory_sequence_length!r}, memory_mask={memory_mask!r}"
            )
        memory = self._memory_tensor(memory)
        max_time = memory.shape[1] or ops.shape(memory)[1]
        mask = None
        if memory_sequence_length is not None:
            _check_sequence_lengths(memory_sequence_length, memory.shape[1])
            mask = _sequence_mask(memory_sequence_length, max_time)
        elif memory_mask is not None:
            mask = ops.cast(memory_mask, "bool")
        values = memory if mask is None else memory * ops.cast(mask, memory.dtype)[:, :, None]
        self.values = values
        self.keys = self.memory_layer(values) if self.memory_layer is not None else values
        self.batch_size = self.keys.shape[0] or ops.shape(self.keys)[0]
        self._alignments_size = self.keys.shape[1] or ops.shape(self.keys)[1]
        self._memory_depth = int(values.shape[-1])
        self._memory_mask = mask
        self.probability_fn = (
            self.default_probability_fn
            if mask is None
            else _masked_probability_fn(self.default_probability_fn, mask)
        )
        self._memory_initialized = True

    def _memory_tensor(self, memory):
        if not keras.backend.is_keras_tensor(memory):
            memory = ops.convert_to_tensor(memory)
        if len(memory.shape) != 3:
            raise ValueError(
                "`memory` must have rank 3, [batch_size, max_time, depth]. "
                f"Received: memory with shape {tuple(memory.shape)}"
            )
        if memory.shape[-1] is None:
            raise ValueError(
                "`memory` must have a known depth (last axis). "
                f"Received: memory with shape {tuple(memory.shape)}"
            )
        if keras.backend.is_float_dtype(memory.dtype):
            memory = ops.cast(memory, self.compute_dtype)
        return memory

    def _memory_snapshot(self) -> tuple:
        names = ("values", "keys", "batch_size", "_alignments_size", "_memory_depth")
        extra = ("_memory_mask", "probability_fn", "_memory_initialized")
        return tuple(getattr(self, name) for name in names + extra)

    def _restore_memory(self, snapshot: tuple) -> None:
        (
            self.values,
            self.keys,
            self.batch_size,
            self._alignments_size,
            depth,
            self._memory_mask,
            self.probability_fn,
            self._memory_initialized,
        ) = snapshot
        self._memory_depth = depth if depth is not None else self._memory_depth

    # ----------------------------------------------------------------------------------------
    # Keras layer
    # ----------------------------------------------------------------------------------------

    def __call__(self, inputs, *args, **kwargs):
        if kwargs.pop("setup_memory", False):
            # TFA's way of setting the memory up through the layer call.
            memory, lengths = inputs, None
            if isinstance(inputs, list | tuple):
                if len(inputs) not in (1, 2):
                    raise ValueError(
                        "With setup_memory=True the inputs are [memory] or [memory, "
                        f"memory_sequence_length]. Received: {len(inputs)} inputs"
                    )
                memory, lengths = inputs[0], (inputs[1] if len(inputs) == 2 else None)
            self.setup_memory(memory, lengths, kwargs.get("mask"))
            return self.values
        if isinstance(inputs, list | tuple) and len(inputs) == 3 and inputs[2] is self.values:
            inputs = list(inputs[:2])  # TFA's [query, state, processed memory]
        return super().__call__(inputs, *args, **kwargs)

    def build(self, input_shape):
        shapes = list(input_shape)
        self._query_shape = tuple(shapes[0])
        if len(shapes) >= 3:
            self._memory_depth = shapes[2][-1]
        memory_layer = self.memory_layer
        if memory_layer is not None and not memory_layer.built and self._memory_depth is not None:
            memory_layer.build((None, None, self._memory_depth))
        if self.query_layer is not None and not self.query_layer.built:
            self.query_layer.build(tuple(shapes[0]))

    def get_build_config(self):
        if self._query_shape is None:
            return None
        memory_shape = (None, None, self._memory_depth)
        return {"input_shape": [list(self._query_shape), [None, None], list(memory_shape)]}

    def build_from_config(self, config):
        if config and "input_shape" in config:
            self.build(config["input_shape"])

    def call(self, inputs):
        if not isinstance(inputs, list | tuple) or len(inputs) not in (2, 3, 4):
            raise ValueError(
                "An attention mechanism takes [query, state] (its memory set up before), "
                "[query, state, memory] or [query, state, memory, memory_sequence_length]. "
                f"Received: inputs={inputs!r}"
            )
        query, state = inputs[0], inputs[1]
        if len(inputs) == 2:
            if not self._memory_initialized:
                raise ValueError(
                    f"{type(self).__name__} has no memory: call setup_memory(memory) or pass "
                    "the memory to the constructor before querying it."
                )
            return self._calculate_attention(query, state)
        snapshot = self._memory_snapshot()
        try:
            self.setup_memory(inputs[2], inputs[3] if len(inputs) == 4 else None)
            return self._calculate_attention(query, state)
        finally:
            self._restore_memory(snapshot)

    def compute_mask(self, inputs, mask=None):
        return None, None

    def _calculate_attention(self, query, state):
        """Returns `(alignments, next_state)` for the `query` and the previous `state`."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement _calculate_attention(query, state)"
        )

    def _base_config(self) -> dict:
        config = super().get_config()
        for name in ("query_layer", "memory_layer"):
            layer = getattr(self, name)
            if layer is not None:
                config[name] = keras.saving.serialize_keras_object(layer)
        config["memory"] = None  # a tensor: set it up again after loading
        config["memory_sequence_length"] = None
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in ("query_layer", "memory_layer"):
            if config.get(name) is not None:
                config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)

    # ----------------------------------------------------------------------------------------
    # State
    # ----------------------------------------------------------------------------------------

    @property
    def alignments_size(self):
        """`max_time` of the memory (a `TensorShape([None])` when it is not static; `None`
        before a memory is set up)."""
        if self._alignments_size is None or isinstance(self._alignments_size, int):
            return self._alignments_size
        return tf.TensorShape([None])

    @property
    def state_size(self):
        return self.alignments_size

    def initial_alignments(self, batch_size, dtype):
        """The alignments before the first step: zeros, `[batch_size, max_time]`.

        Args:
            batch_size: an integer (or scalar integer tensor).
            dtype: the dtype of the alignments.
        """
        return ops.zeros((batch_size, self._alignments_size), dtype=dtype)

    def initial_state(self, batch_size, dtype):
        """The mechanism's state before the first step: `initial_alignments`."""
        return self.initial_alignments(batch_size, dtype)


def _check_sequence_lengths(lengths, max_time) -> None:
    """Rejects lengths known now that are not in `[1, max_time]`."""
    shape = getattr(lengths, "shape", np.shape(lengths))
    if len(shape) != 1:
        raise ValueError(
            "`memory_sequence_length` must be a vector, [batch_size]. "
            f"Received: memory_sequence_length with shape {tuple(shape)}"
        )
    value = _static_value(lengths)
    if value is None:
        return
    if np.any(value <= 0):
        raise ValueError(
            "`memory_sequence_length` must hold positive lengths. "
            f"Received: memory_sequence_length={value.tolist()}"
        )
    if max_time is not None and np.any(value > max_time):
        raise ValueError(
            f"`memory_sequence_length` cannot exceed the memory's max_time={max_time} (its "
            f"second axis). Received: memory_sequence_length={value.tolist()}"
        )


def _masked_probability_fn(probability_fn, mask):
    def masked(score, state):
        floor = ops.full_like(score, _score_mask_value(score.dtype))
        return probability_fn(ops.where(mask, score, floor), state)

    return masked


def _luong_score(query, keys, scale=None):
    """`query . keys` over the depth, `[batch_size, max_time]`, times `scale` when given."""
    if query.shape[-1] != keys.shape[-1]:
        raise ValueError(
            f"The query depth ({query.shape[-1]}) must equal the keys' depth ({keys.shape[-1]}): "
            f"set `units` to the query depth. Received: units={keys.shape[-1]}"
        )
    score = ops.squeeze(ops.matmul(query[:, None, :], ops.swapaxes(keys, 1, 2)), axis=1)
    return score if scale is None else scale * score


def _bahdanau_score(processed_query, keys, attention_v, attention_g=None, attention_b=None):
    """`v . tanh(keys + query)`, or its weight-normalised form when `g` and `b` are given."""
    processed_query = processed_query[:, None, :]
    if attention_g is None or attention_b is None:
        return ops.sum(attention_v * ops.tanh(keys + processed_query), axis=2)
    normed_v = attention_g * attention_v * ops.rsqrt(ops.sum(ops.square(attention_v)))
    return ops.sum(normed_v * ops.tanh(keys + processed_query + attention_b), axis=2)


def _dense(units, name, dtype):
    return keras.layers.Dense(units, use_bias=False, name=name, dtype=dtype)


@keras.saving.register_keras_serializable(package="keras_zoo")
class LuongAttention(AttentionMechanism):
    """Luong's multiplicative attention: `score = query . (W_m memory)`, optionally scaled.

    The memory is projected to `units` by `memory_layer` (no bias); the query is used as is,
    so its depth must be `units`. With `scale=True` the score is multiplied by a learned scalar
    `attention_g` (initialised to 1). This is TensorFlow Addons' `tfa.seq2seq.LuongAttention`,
    with its weights in its order: `[attention_g (scale only), memory_layer kernel]`.

    Args:
        units: depth of the keys (and of the queries). A positive integer.
        memory: the memory, `[batch_size, max_time, depth]`, or `None` (then `setup_memory`).
        memory_sequence_length: optional `[batch_size]` lengths of the memory's sequences.
        scale: learn a scalar factor of the score. Defaults to `False`.
        probability_fn: `"softmax"` or `"hardmax"`. Defaults to `"softmax"`.
        dtype: the layer's dtype policy. Defaults to `None` (the global policy).
        name: the layer's name. Defaults to `"LuongAttention"`.
        **kwargs: `memory_layer` (a layer to use instead of the `Dense`) and base layer
            arguments.

    Example:

    ```python
    mechanism = LuongAttention(16, memory=encoder_outputs, memory_sequence_length=lengths)
    alignments, _ = mechanism([decoder_output, mechanism.initial_state(batch, "float32")])
    ```

    Reference:
        Luong, Pham, Manning, "Effective Approaches to Attention-based Neural Machine
        Translation", EMNLP 2015, https://arxiv.org/abs/1508.04025
    """

    def __init__(
        self,
        units,
        memory=None,
        memory_sequence_length=None,
        scale: bool = False,
        probability_fn: str = "softmax",
        dtype=None,
        name: str = "LuongAttention",
        **kwargs,
    ):
        check_positive_int("units", units)
        check_bool("scale", scale)
        check_choice("probability_fn", probability_fn, PROBABILITY_FNS)
        memory_layer = kwargs.pop("memory_layer", None) or _dense(units, "memory_layer", dtype)
        self.units = units
        self.scale = scale
        self.probability_fn_name = probability_fn
        self.scale_weight = None
        normalize = _PROBABILITY_FNS[probability_fn]
        super().__init__(
            memory=memory,
            memory_sequence_length=memory_sequence_length,
            query_layer=None,
            memory_layer=memory_layer,
            probability_fn=lambda score, _state: normalize(score),
            name=name,
            dtype=dtype,
            **kwargs,
        )

    def build(self, input_shape):
        super().build(input_shape)
        if self.scale and self.scale_weight is None:
            self.scale_weight = self.add_weight(name="attention_g", shape=(), initializer="ones")

    def _calculate_attention(self, query, state):
        alignments = self.probability_fn(_luong_score(query, self.keys, self.scale_weight), state)
        return alignments, alignments

    def get_config(self):
        return {
            **self._base_config(),
            "units": self.units,
            "scale": self.scale,
            "probability_fn": self.probability_fn_name,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class BahdanauAttention(AttentionMechanism):
    """Bahdanau's additive attention: `score = v . tanh(W_m memory + W_q query)`.

    Memory and query are projected to `units` (no bias). With `normalize=True`, `v` is
    weight-normalised (`g * v / |v|`, `g` a learned scalar initialised to `sqrt(1 / units)`)
    and a learned bias `b` is added inside the `tanh`. This is TensorFlow Addons'
    `tfa.seq2seq.BahdanauAttention`, with its weights in its order: `[attention_v,
    attention_g, attention_b (normalize only), query_layer kernel, memory_layer kernel]`.

    Args:
        units: depth of the projections. A positive integer.
        memory: the memory, `[batch_size, max_time, depth]`, or `None` (then `setup_memory`).
        memory_sequence_length: optional `[batch_size]` lengths of the memory's sequences.
        normalize: use the weight-normalised form. Defaults to `False`.
        probability_fn: `"softmax"` or `"hardmax"`. Defaults to `"softmax"`.
        kernel_initializer: initializer of `attention_v`. Defaults to `"glorot_uniform"`.
        dtype: the layer's dtype policy. Defaults to `None` (the global policy).
        name: the layer's name. Defaults to `"BahdanauAttention"`.
        **kwargs: `query_layer` / `memory_layer` (layers to use instead of the `Dense`s) and
            base layer arguments.

    Example:

    ```python
    mechanism = BahdanauAttention(16, normalize=True)
    mechanism.setup_memory(encoder_outputs, memory_sequence_length=lengths)
    alignments, _ = mechanism([decoder_output, mechanism.initial_state(batch, "float32")])
    ```

    Reference:
        Bahdanau, Cho, Bengio, "Neural Machine Translation by Jointly Learning to Align and
        Translate", ICLR 2015, https://arxiv.org/abs/1409.0473; the normalised form after
        Salimans, Kingma, "Weight Normalization", https://arxiv.org/abs/1602.07868
    """

    def __init__(
        self,
        units,
        memory=None,
        memory_sequence_length=None,
        normalize: bool = False,
        probability_fn: str = "softmax",
        kernel_initializer="glorot_uniform",
        dtype=None,
        name: str = "BahdanauAttention",
        **kwargs,
    ):
        check_positive_int("units", units)
        check_bool("normalize", normalize)
        check_choice("probability_fn", probability_fn, PROBABILITY_FNS)
        query_layer = kwargs.pop("query_layer", None) or _dense(units, "query_layer", dtype)
        memory_layer = kwargs.pop("memory_layer", None) or _dense(units, "memory_layer", dtype)
        self.units = units
        self.normalize = normalize
        self.probability_fn_name = probability_fn
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.attention_v = None
        self.attention_g = None
        self.attention_b = None
        normalize_fn = _PROBABILITY_FNS[probability_fn]
        super().__init__(
            memory=memory,
            memory_sequence_length=memory_sequence_length,
            query_layer=query_layer,
            memory_layer=memory_layer,
            probability_fn=lambda score, _state: normalize_fn(score),
            name=name,
            dtype=dtype,
            **kwargs,
        )

    def build(self, input_shape):
        super().build(input_shape)
        if self.attention_v is None:
            self.attention_v = self.add_weight(
                name="attention_v", shape=(self.units,), initializer=self.kernel_initializer
            )
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
        alignments = self.probability_fn(score, state)
        return alignments, alignments

    def get_config(self):
        return {
            **self._base_config(),
            "units": self.units,
            "normalize": self.normalize,
            "probability_fn": self.probability_fn_name,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
