"""`AttentionWrapper`: an RNN cell that attends over a memory at every step (TFA's
`tfa.seq2seq.AttentionWrapper` and `AttentionWrapperState`).

TensorFlow-only: the state is a `tf.nest` structure, and the alignment history is a
`tf.TensorArray`, as in TensorFlow Addons.
"""

from __future__ import annotations

import collections
import inspect

import keras
import tensorflow as tf
from keras import ops
from tensorflow.python.ops import control_flow_util

from layers.seq2seq.attention_mechanisms import AttentionMechanism
from layers.validation import check_bool, check_positive_int

_NO_MEMORY = (
    "The attention mechanisms of an AttentionWrapper need a memory first: pass it to their "
    "constructor or call mechanism.setup_memory(memory)."
)
_BEAM_SEARCH_HINT = (
    "Using BeamSearchDecoder? Tile the memory with tile_batch(memory, multiplier=beam_width) "
    "(not tf.tile), and ask get_initial_state for batch_size=batch_size * beam_width."
)


class AttentionWrapperState(
    collections.namedtuple(
        "AttentionWrapperState",
        ("cell_state", "attention", "alignments", "alignment_history", "attention_state"),
    )
):
    """The state of an `AttentionWrapper` (a namedtuple, so `tf.nest` maps over it).

    Attributes:
        cell_state: the wrapped cell's state after the previous step.
        attention: the attention emitted at the previous step, `[batch_size, attention_size]`.
        alignments: the previous step's alignments, `[batch_size, max_time]`, one per mechanism
            (a tuple when the wrapper was given a list of mechanisms).
        alignment_history: with `alignment_history=True`, a `tf.TensorArray` of every step's
            alignments per mechanism (`stack()` gives `[steps, batch_size, max_time]`); `()`
            otherwise.
        attention_state: each mechanism's state (for the built-in ones, the alignments).

    Example:

    ```python
    state = cell.get_initial_state(batch_size=2, dtype="float32")
    for step_inputs in steps:
        output, state = cell(step_inputs, state)
    history = state.alignment_history.stack()  # [steps, 2, max_time], alignment_history=True
    ```
    """

    def clone(self, **kwargs) -> AttentionWrapperState:
        """A copy with the fields in `kwargs` replaced; their shapes must match the old ones.

        Example (beam search, the encoder state tiled to `batch_size * beam_width`):

        ```python
        state = cell.get_initial_state(batch_size=batch_size * beam_width, dtype="float32")
        state = state.clone(cell_state=tiled_encoder_state)
        ```

        Raises:
            ValueError: a new tensor's static shape is incompatible with the one it replaces.
        """

        def same_shape(old, new):
            arrays = tf.is_tensor(old) and hasattr(new, "shape")
            if arrays and not old.shape.is_compatible_with(tf.TensorShape(new.shape)):
                raise ValueError(
                    "AttentionWrapperState.clone: a new value must have the shape of the "
                    f"one it replaces. Received: shape {new.shape} for {old.shape}"
                )
            return new

        return tf.nest.map_structure(same_shape, self, self._replace(**kwargs))


def _concat_inputs(inputs, attention):
    return ops.concatenate([inputs, attention], axis=-1)


def _compute_attention(attention_mechanism, cell_output, attention_state, attention_layer):
    """TFA's attention step: `(attention, alignments, next_attention_state)`.

    The context is the alignments' weighted sum of the mechanism's `values`; the attention is
    `attention_layer([cell_output, context])` when there is a layer, else the context.
    """
    alignments, next_attention_state = attention_mechanism([cell_output, attention_state])
    context = ops.squeeze(ops.matmul(alignments[:, None, :], attention_mechanism.values), axis=1)
    if attention_layer is not None:
        return (
            attention_layer(ops.concatenate([cell_output, context], axis=1)),
            alignments,
            next_attention_state,
        )
    return context, alignments, next_attention_state


def _check_rnn_cell(cell) -> None:
    missing = [name for name in ("output_size", "state_size", "get_initial_state")]
    missing = [name for name in missing if not hasattr(cell, name)]
    if not callable(cell):
        missing.append("__call__")
    if missing:
        raise TypeError(
            "`cell` must be an RNN cell (output_size, state_size, get_initial_state, callable); "
            f"it has no {', '.join(missing)}. Received: cell={cell!r}"
        )


def _in_xla_context() -> bool:
    graph = tf.compat.v1.get_default_graph()
    return not tf.executing_eagerly() and control_flow_util.GraphOrParentsInXlaContext(graph)


def _as_wrapper_state(state) -> AttentionWrapperState:
    if isinstance(state, AttentionWrapperState):
        return state
    try:
        return AttentionWrapperState(*state)
    except TypeError:
        raise TypeError(
            "`state` must be an AttentionWrapperState or a sequence of its five fields. "
            f"Received: state of type {type(state).__name__}"
        ) from None


def _append(history, alignments):
    """The alignment history with this step's alignments written at its end (`()`, no
    history, stays `()`)."""
    if isinstance(history, tf.TensorArray):
        return history.write(history.size(), alignments)
    return history


def _as_list(value) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


@keras.saving.register_keras_serializable(package="keras_zoo")
class AttentionWrapper(keras.layers.Layer):
    """Wraps an RNN cell with attention over a memory (input feeding, several mechanisms).

    Each step: the cell reads `cell_input_fn(inputs, previous attention)` (by default their
    concatenation), its output queries every attention mechanism, each mechanism's alignments
    weight its memory into a context, and the attention is the context, or
    `attention_layer([cell output, context])` when there is an attention layer (a `Dense`
    without bias of `attention_layer_size` units). The attentions of all mechanisms are
    concatenated; the step returns the attention (`output_attention=True`, Luong's style) or
    the cell's output (Bahdanau's style), and an `AttentionWrapperState`.

    This is TensorFlow Addons' `tfa.seq2seq.AttentionWrapper`: the same arguments, state,
    outputs and weight list (`[attention layers, cell, mechanisms]`), stepped by hand, inside
    `keras.layers.RNN` or by the seq2seq decoders. Set the memory up on the mechanisms before
    running it (`mechanism.setup_memory(encoder_outputs, lengths)`, in the `call` of the model
    that holds it). Keras's `RNN` turns every state into a tensor, so use
    `alignment_history=False` there (the history is a `tf.TensorArray`, which `dynamic_decode`
    and step-by-step loops carry; XLA cannot grow one, so the history is refused under
    `jit_compile`). TensorFlow-only.

    Args:
        cell: an RNN cell (`output_size`, `state_size`, `get_initial_state`, callable), e.g.
            `keras.layers.LSTMCell`.
        attention_mechanism: an `AttentionMechanism` or a list of them.
        attention_layer_size: `None` (the context is the attention), or the depth of each
            mechanism's attention layer: an int, or a list with one int per mechanism when
            `attention_mechanism` is a list. Not with `attention_layer`.
        alignment_history: keep every step's alignments in the state (a `tf.TensorArray`).
            Defaults to `False`.
        cell_input_fn: `fn(inputs, attention) -> cell inputs`. Defaults to their concatenation
            on the last axis.
        output_attention: return the attention (`True`) or the cell's output (`False`) at each
            step. Defaults to `True`.
        initial_cell_state: the cell state that `get_initial_state` returns (instead of the
            cell's zeros). Not saved in the config.
        name: the layer's name.
        attention_layer: a layer, or a list with one layer per mechanism, that maps `[cell
            output, context]` to the attention. Not with `attention_layer_size`.
        attention_fn: `fn(mechanism, cell_output, attention_state, attention_layer) ->
            (attention, alignments, next_attention_state)`, replacing the attention step.
        **kwargs: base layer arguments (`dtype`, ...).

    Example:

    ```python
    mechanism = LuongAttention(32)
    mechanism.setup_memory(encoder_outputs, memory_sequence_length=lengths)
    cell = AttentionWrapper(keras.layers.LSTMCell(32), mechanism, attention_layer_size=32)
    state = cell.get_initial_state(batch_size=batch, dtype="float32")
    output, state = cell(step_inputs, state)  # output: [batch, 32]
    ```

    Reference:
        Luong, Pham, Manning, "Effective Approaches to Attention-based Neural Machine
        Translation", EMNLP 2015 (input feeding, the attention layer),
        https://arxiv.org/abs/1508.04025
    """

    def __init__(
        self,
        cell,
        attention_mechanism,
        attention_layer_size=None,
        alignment_history: bool = False,
        cell_input_fn=None,
        output_attention: bool = True,
        initial_cell_state=None,
        name: str | None = None,
        attention_layer=None,
        attention_fn=None,
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self._allow_non_tensor_positional_args = True  # the state may hold TensorArrays
        _check_rnn_cell(cell)
        self._is_multi = isinstance(attention_mechanism, list | tuple)
        mechanisms = _as_list(attention_mechanism)
        for mechanism in mechanisms:
            if not isinstance(mechanism, AttentionMechanism):
                raise TypeError(
                    "`attention_mechanism` must be an AttentionMechanism or a list of them. "
                    f"Received: attention_mechanism={attention_mechanism!r}"
                )
        check_bool("alignment_history", alignment_history)
        check_bool("output_attention", output_attention)
        for name_, fn in (("cell_input_fn", cell_input_fn), ("attention_fn", attention_fn)):
            if fn is not None and not callable(fn):
                raise TypeError(f"`{name_}` must be callable or None. Received: {name_}={fn!r}")
        if attention_layer_size is not None and attention_layer is not None:
            raise ValueError(
                "Set `attention_layer_size` or `attention_layer`, not both. Received: "
                f"attention_layer_size={attention_layer_size!r}, "
                f"attention_layer={attention_layer!r}"
            )
        # Tracked in this order: TFA's weight list starts with the attention layers, then the
        # cell, then the mechanisms.
        self._attention_layers = self._make_attention_layers(
            attention_layer_size, attention_layer, len(mechanisms)
        )
        self._cell = cell
        self._attention_mechanisms = mechanisms
        self.attention_layer_size = attention_layer_size
        self.attention_layer = attention_layer
        self.alignment_history = alignment_history
        self.output_attention = output_attention
        self.cell_input_fn = cell_input_fn
        self.attention_fn = attention_fn
        self._cell_input_fn = cell_input_fn or _concat_inputs
        self._attention_fn = attention_fn or _compute_attention
        self._attention_size = None
        call = getattr(cell, "call", cell)
        self._cell_takes_training = "training" in inspect.signature(call).parameters
        self._initial_cell_state = None
        if initial_cell_state is not None:
            state_batch = tf.nest.flatten(initial_cell_state)[-1].shape[0]
            self._check_batch_size(state_batch, "initial_cell_state")
            self._initial_cell_state = initial_cell_state

    def _make_attention_layers(self, sizes, layers, count):
        if sizes is not None:
            sizes = _as_list(sizes)
            if len(sizes) != count:
                raise ValueError(
                    "`attention_layer_size` must hold one size per attention mechanism "
                    f"({count}). Received: attention_layer_size={sizes!r}"
                )
            for size in sizes:
                check_positive_int("attention_layer_size", size)
            return [
                keras.layers.Dense(
                    size,
                    use_bias=False,
                    name="attention_layer" if i == 0 else f"attention_layer_{i}",
                    dtype=self.dtype_policy,
                )
                for i, size in enumerate(sizes)
            ]
        if layers is not None:
            layers = _as_list(layers)
            if len(layers) != count:
                raise ValueError(
                    "`attention_layer` must hold one layer per attention mechanism "
                    f"({count}). Received: {len(layers)} layers"
                )
            return layers
        return None

    # ----------------------------------------------------------------------------------------
    # Sizes
    # ----------------------------------------------------------------------------------------

    def _memory_depths(self, required: bool = True) -> list | None:
        depths = [mechanism._memory_depth for mechanism in self._attention_mechanisms]
        if None in depths:
            if required:
                raise ValueError(_NO_MEMORY)
            return None
        return depths

    def _cell_output_size(self) -> int:
        size = getattr(self._cell, "output_size", None)
        if isinstance(size, int):
            return size
        state_size = self._cell.state_size
        return tf.nest.flatten(state_size)[0]

    def _get_attention_layer_size(self, required: bool = True) -> int | None:
        if self._attention_size is not None:
            return self._attention_size
        if self._attention_layers is not None and all(
            isinstance(layer, keras.layers.Dense) for layer in self._attention_layers
        ):
            self._attention_size = sum(layer.units for layer in self._attention_layers)
            return self._attention_size
        depths = self._memory_depths(required)
        if depths is None:
            return None
        if self._attention_layers is None:
            self._attention_size = sum(depths)
        else:
            cell_size = self._cell_output_size()
            self._attention_size = sum(
                layer.compute_output_shape((None, cell_size + depth))[-1]
                for layer, depth in zip(self._attention_layers, depths, strict=True)
            )
        return self._attention_size

    def _item_or_tuple(self, items):
        items = tuple(items)
        return items if self._is_multi else items[0]

    @property
    def output_size(self) -> int:
        if self.output_attention:
            return self._get_attention_layer_size()
        return self._cell.output_size

    @property
    def state_size(self) -> AttentionWrapperState:
        """The sizes of the state's tensors (`None` where the memory is not set up yet)."""
        mechanisms = self._attention_mechanisms
        return AttentionWrapperState(
            cell_state=self._cell.state_size,
            attention=self._get_attention_layer_size(required=False),
            alignments=self._item_or_tuple(m.alignments_size for m in mechanisms),
            attention_state=self._item_or_tuple(m.state_size for m in mechanisms),
            alignment_history=self._item_or_tuple(
                m.alignments_size if self.alignment_history else () for m in mechanisms
            ),
        )

    def _check_batch_size(self, batch_size, what: str) -> None:
        """Static check that `batch_size` is the memory's batch size (TFA asserts it)."""
        for mechanism in self._attention_mechanisms:
            memory_batch = mechanism.batch_size
            both_known = isinstance(batch_size, int) and isinstance(memory_batch, int)
            if both_known and batch_size != memory_batch:
                raise ValueError(
                    f"The batch size of {what} ({batch_size}) differs from the memory's "
                    f"({memory_batch}). {_BEAM_SEARCH_HINT}"
                )

    # ----------------------------------------------------------------------------------------
    # Keras layer
    # ----------------------------------------------------------------------------------------

    def build(self, input_shape):
        attention_size = self._get_attention_layer_size(required=False)
        if not self._cell.built and attention_size is not None:
            self._cell.build(self._cell_input_shape(input_shape, attention_size))
        cell_size = self._cell_output_size()
        depths = [mechanism._memory_depth for mechanism in self._attention_mechanisms]
        for i, (mechanism, depth) in enumerate(
            zip(self._attention_mechanisms, depths, strict=True)
        ):
            if depth is None:
                continue
            if not mechanism.built:
                mechanism.build([(None, cell_size), (None, None), (None, None, depth)])
            if self._attention_layers is not None and not self._attention_layers[i].built:
                self._attention_layers[i].build((None, cell_size + depth))

    def _cell_input_shape(self, input_shape, attention_size):
        if self.cell_input_fn is None:
            return (*tuple(input_shape)[:-1], input_shape[-1] + attention_size)
        # A custom cell_input_fn: its output shape on zeros of the right shapes.
        zeros = keras.tree.map_shape_structure(
            lambda shape: ops.zeros((1, *tuple(shape)[1:])), input_shape
        )
        probe = self._cell_input_fn(zeros, ops.zeros((1, attention_size)))
        return (None, *tuple(probe.shape)[1:])

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """The state before the first step: zeros (the cell's initial state, or
        `initial_cell_state`), each mechanism's initial alignments and state, and empty
        alignment histories.

        Args:
            inputs: optional, a tensor whose batch size and dtype are used.
            batch_size: the batch size (with beam search: `batch_size * beam_width`).
            dtype: the state's dtype. Defaults to the layer's compute dtype.

        Returns:
            An `AttentionWrapperState`.
        """
        if inputs is not None:
            batch_size = inputs.shape[0] or ops.shape(inputs)[0]
            dtype = inputs.dtype
        dtype = keras.backend.standardize_dtype(dtype or self.compute_dtype)
        if self.alignment_history and _in_xla_context():
            # XLA sizes a TensorArray once: the history would stay empty.
            raise ValueError(
                "`alignment_history` keeps every step in a growing tf.TensorArray, which XLA "
                "cannot compile (TensorFlow Addons fails there too): run without jit_compile or "
                "with alignment_history=False. Received: alignment_history=True"
            )
        if not all(mechanism.memory_initialized for mechanism in self._attention_mechanisms):
            raise ValueError(_NO_MEMORY)
        self._check_batch_size(batch_size, "get_initial_state(batch_size=...)")
        if self._initial_cell_state is not None:
            cell_state = self._initial_cell_state
        else:
            cell_state = self._cell_zero_state(batch_size, dtype)
        alignments = [m.initial_alignments(batch_size, dtype) for m in self._attention_mechanisms]
        histories = [
            tf.TensorArray(dtype, size=0, dynamic_size=True, element_shape=a.shape)
            if self.alignment_history
            else ()
            for a in alignments
        ]
        return AttentionWrapperState(
            cell_state=cell_state,
            attention=ops.zeros((batch_size, self._get_attention_layer_size()), dtype=dtype),
            alignments=self._item_or_tuple(alignments),
            attention_state=self._item_or_tuple(
                m.initial_state(batch_size, dtype) for m in self._attention_mechanisms
            ),
            alignment_history=self._item_or_tuple(histories),
        )

    def _cell_zero_state(self, batch_size, dtype):
        if "dtype" in inspect.signature(self._cell.get_initial_state).parameters:
            return self._cell.get_initial_state(batch_size=batch_size, dtype=dtype)
        state = self._cell.get_initial_state(batch_size=batch_size)
        return tf.nest.map_structure(
            lambda s: ops.cast(s, dtype) if keras.backend.is_float_dtype(s.dtype) else s, state
        )

    def __call__(self, inputs, state, *args, **kwargs):
        # Keras checks that a call argument holds only tensors: the alignment histories
        # (TensorArrays) stay out of its call and take the step's alignments here.
        state = _as_wrapper_state(state)
        histories = (
            _as_list(state.alignment_history) if self._is_multi else [state.alignment_history]
        )
        if not any(isinstance(h, tf.TensorArray) for h in histories):
            return super().__call__(inputs, state, *args, **kwargs)
        empty = self._item_or_tuple(() for _ in histories)
        output, next_state = super().__call__(
            inputs, state._replace(alignment_history=empty), *args, **kwargs
        )
        alignments = _as_list(next_state.alignments) if self._is_multi else [next_state.alignments]
        written = [
            _append(history, alignment)
            for history, alignment in zip(histories, alignments, strict=True)
        ]
        return output, next_state._replace(alignment_history=self._item_or_tuple(written))

    def call(self, inputs, state, training=None):
        """One step: `(attention or cell output, next AttentionWrapperState)`.

        Args:
            inputs: this step's inputs, `[batch_size, depth]`.
            state: an `AttentionWrapperState` (or a sequence of its five fields, as
                `keras.layers.RNN` passes it).
            training: passed to the cell when its `call` takes it.
        """
        state = _as_wrapper_state(state)
        cell_inputs = self._cell_input_fn(inputs, state.attention)
        cell_kwargs = {"training": training} if self._cell_takes_training else {}
        cell_state = state.cell_state
        cell_output, next_cell_state = self._cell(cell_inputs, cell_state, **cell_kwargs)
        next_cell_state = tf.nest.pack_sequence_as(cell_state, tf.nest.flatten(next_cell_state))
        self._check_batch_size(cell_output.shape[0], "the cell output")

        if self._is_multi:
            attention_states, histories = state.attention_state, state.alignment_history
        else:
            attention_states, histories = [state.attention_state], [state.alignment_history]
        attentions, all_alignments, next_attention_states, next_histories = [], [], [], []
        for i, mechanism in enumerate(self._attention_mechanisms):
            attention, alignments, next_attention_state = self._attention_fn(
                mechanism,
                cell_output,
                attention_states[i],
                self._attention_layers[i] if self._attention_layers else None,
            )
            attentions.append(attention)
            all_alignments.append(alignments)
            next_attention_states.append(next_attention_state)
            next_histories.append(_append(histories[i], alignments))

        attention = ops.concatenate(attentions, axis=1)
        next_state = AttentionWrapperState(
            cell_state=next_cell_state,
            attention=attention,
            alignments=self._item_or_tuple(all_alignments),
            attention_state=self._item_or_tuple(next_attention_states),
            alignment_history=self._item_or_tuple(next_histories),
        )
        return (attention if self.output_attention else cell_output), next_state

    # ----------------------------------------------------------------------------------------
    # Config
    # ----------------------------------------------------------------------------------------

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        mechanisms = [serialize(m) for m in self._attention_mechanisms]
        attention_layer = None
        if self.attention_layer is not None:
            layers = [serialize(layer) for layer in self._attention_layers]
            attention_layer = (
                layers if isinstance(self.attention_layer, list | tuple) else layers[0]
            )
        size = self.attention_layer_size
        return {
            **super().get_config(),
            "cell": serialize(self._cell),
            "attention_mechanism": mechanisms if self._is_multi else mechanisms[0],
            "attention_layer_size": list(size) if isinstance(size, list | tuple) else size,
            "alignment_history": self.alignment_history,
            "cell_input_fn": None if self.cell_input_fn is None else serialize(self.cell_input_fn),
            "output_attention": self.output_attention,
            "initial_cell_state": None,  # tensors: not part of the config
            "attention_layer": attention_layer,
            "attention_fn": None if self.attention_fn is None else serialize(self.attention_fn),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        deserialize = keras.saving.deserialize_keras_object
        for key in ("cell", "attention_mechanism", "attention_layer", "cell_input_fn"):
            value = config.get(key)
            if isinstance(value, list):
                config[key] = [deserialize(v) for v in value]
            elif value is not None:
                config[key] = deserialize(value)
        if config.get("attention_fn") is not None:
            config["attention_fn"] = deserialize(config["attention_fn"])
        return cls(**config)
