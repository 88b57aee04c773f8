"""`BeamSearchDecoder`: beam search over an RNN cell, with length and coverage penalties
(TFA's `tfa.seq2seq.BeamSearchDecoder`).

Each step runs the cell on all `batch * beam_width` hypotheses at once, scores every
continuation, keeps the best `beam_width` per batch entry with one `top_k`, and moves the
cell states to their parent beams with one batched gather per state tensor. TensorFlow-only
(`tf.while_loop` through `dynamic_decode`, `tf.nest` states).
"""

from __future__ import annotations

import collections

import keras
import numpy as np
import tensorflow as tf

from layers.seq2seq.beam_search_ops import gather_tree, gather_tree_from_array, tile_batch
from layers.seq2seq.decoder import (
    BaseDecoder,
    build_step_layers,
    check_output_layer,
    check_rnn_cell,
    initial_cell_state,
    rnn_output_size,
)
from layers.seq2seq.samplers import check_end_token, check_start_tokens
from layers.validation import check_bool, check_positive_int

__all__ = [
    "BeamSearchDecoder",
    "BeamSearchDecoderOutput",
    "BeamSearchDecoderState",
    "FinalBeamSearchDecoderOutput",
    "gather_tree",
    "gather_tree_from_array",
    "tile_batch",
]


class BeamSearchDecoderState(
    collections.namedtuple(
        "BeamSearchDecoderState",
        ("cell_state", "log_probs", "finished", "lengths", "accumulated_attention_probs"),
    )
):
    """The loop state of a `BeamSearchDecoder`.

    Attributes:
        cell_state: the cell state, each tensor `[batch_size, beam_width, ...]`.
        log_probs: `[batch_size, beam_width]` accumulated log probabilities of the beams.
        finished: `[batch_size, beam_width]` booleans.
        lengths: int64 `[batch_size, beam_width]` lengths of the beams.
        accumulated_attention_probs: `[batch_size, beam_width, memory_time]` sums of the
            attention probabilities (with a coverage penalty), else `()`.
    """


class BeamSearchDecoderOutput(
    collections.namedtuple("BeamSearchDecoderOutput", ("scores", "predicted_ids", "parent_ids"))
):
    """One step's (or, stacked, every step's) outputs of a `BeamSearchDecoder`.

    Attributes:
        scores: the scores of the chosen beams, `[batch_size, beam_width]` (with
            `output_all_scores=True`, of every continuation: `[batch_size, beam_width,
            vocab_size]`), penalised by length and coverage.
        predicted_ids: int32 `[batch_size, beam_width]` ids chosen this step.
        parent_ids: int32 `[batch_size, beam_width]` beams they continue.
    """


class FinalBeamSearchDecoderOutput(
    collections.namedtuple(
        "FinalBeamSearchDecoderOutput", ("predicted_ids", "beam_search_decoder_output")
    )
):
    """What a `BeamSearchDecoder` returns once decoding ends.

    Attributes:
        predicted_ids: int32 `[batch_size, time, beam_width]` (`[time, batch_size,
            beam_width]` when `output_time_major`): the full beams, best first.
        beam_search_decoder_output: the stacked per-step `BeamSearchDecoderOutput`.
    """


def _static_zero(value) -> bool:
    static = tf.get_static_value(value) if tf.is_tensor(value) else value
    return static is not None and np.all(np.asarray(static) == 0)


def _check_weight(name: str, value):
    if isinstance(value, bool) or not (
        isinstance(value, int | float) or (tf.is_tensor(value) and value.shape.rank == 0)
    ):
        raise ValueError(f"`{name}` must be a number (a float scalar). Received: {name}={value!r}")
    return float(value) if isinstance(value, int | float) else value


def _weight_config(value):
    if isinstance(value, float):
        return value
    static = tf.get_static_value(value)
    return None if static is None else float(static)


def _is_attention_state(state) -> bool:
    """An `AttentionWrapperState` (recognised by its fields, so that any attention wrapper
    with TFA's state works)."""
    fields = getattr(state, "_fields", ())
    return isinstance(state, tuple) and "alignments" in fields and "alignment_history" in fields


def _alignments_mean(attention_state):
    alignments = attention_state.alignments
    if isinstance(alignments, tuple | list):
        return tf.reduce_mean(tf.stack(list(alignments), axis=-1), axis=-1)
    return alignments


def get_attention_probs(cell_state, coverage_penalty_weight):
    """The attention probabilities of an attentional cell state, `[batch, beam, memory_time]`
    (averaged over several mechanisms or wrappers), or `None` without a coverage penalty."""
    if _static_zero(coverage_penalty_weight):
        return None
    if _is_attention_state(cell_state):
        probs = [_alignments_mean(cell_state)]
    elif isinstance(cell_state, tuple | list):
        probs = [_alignments_mean(s) for s in cell_state if _is_attention_state(s)]
    else:
        probs = []
    if not probs:
        raise ValueError(
            "A coverage penalty needs an attentional cell (an AttentionWrapper). "
            f"Received: coverage_penalty_weight={coverage_penalty_weight!r}"
        )
    if len(probs) == 1:
        return probs[0]
    return tf.reduce_mean(tf.stack(probs, axis=-1), axis=-1)


def _length_penalty(sequence_lengths, penalty_factor):
    """Wu et al.'s length penalty `((5 + length) / 6) ** penalty_factor`; 1 when the factor is
    zero."""
    penalty_factor = tf.convert_to_tensor(penalty_factor, name="penalty_factor")
    if _static_zero(penalty_factor):
        return 1.0
    penalty_factor = tf.cast(penalty_factor, tf.float32)
    return tf.math.divide(
        (5.0 + tf.cast(sequence_lengths, tf.float32)) ** penalty_factor,
        (5.0 + 1.0) ** penalty_factor,
    )


def _get_scores(
    log_probs,
    sequence_lengths,
    length_penalty_weight,
    coverage_penalty_weight,
    finished,
    accumulated_attention_probs,
):
    """The beam scores: log probabilities over the length penalty, plus the weighted coverage
    penalty of finished beams."""
    scores = log_probs
    if not _static_zero(length_penalty_weight):
        penalty = _length_penalty(sequence_lengths, length_penalty_weight)
        scores = log_probs / tf.cast(penalty, log_probs.dtype)
    if _static_zero(coverage_penalty_weight):
        return scores
    if accumulated_attention_probs is None:
        raise ValueError("A coverage penalty needs the accumulated attention probabilities.")
    probs = accumulated_attention_probs
    probs = tf.where(tf.equal(probs, 0.0), tf.ones_like(probs), probs)
    coverage = tf.reduce_sum(tf.math.log(tf.minimum(probs, 1.0)), axis=2)
    coverage = coverage * tf.cast(finished, coverage.dtype)
    weight = tf.cast(coverage_penalty_weight, coverage.dtype)
    return scores + tf.cast(tf.expand_dims(coverage * weight, 2), scores.dtype)


def _mask_probs(probs, eos_token, finished):
    """Finished beams put all their probability on `eos_token` (log 0 there, the dtype's
    minimum elsewhere); the others keep `probs`."""
    vocab_size = tf.shape(probs)[2]
    finished_row = tf.one_hot(
        eos_token,
        vocab_size,
        dtype=probs.dtype,
        on_value=tf.constant(0.0, probs.dtype),
        off_value=probs.dtype.min,
    )
    return tf.where(tf.expand_dims(finished, 2), finished_row, probs)


def _gather_beams(tensor, parent_ids):
    """`tensor[b, parent_ids[b, k], ...]` for tensors `[batch, beam, ...]`; `TensorArray`s and
    tensors of rank < 2 pass through."""
    if isinstance(tensor, tf.TensorArray) or tensor.shape.rank < 2:
        return tensor
    return tf.gather(tensor, parent_ids, batch_dims=1)


def _beam_search_step(
    time,
    logits,
    next_cell_state,
    beam_state,
    batch_size,
    beam_width,
    end_token,
    length_penalty_weight,
    coverage_penalty_weight,
    output_all_scores,
):
    """One beam search step.

    Args:
        time: the step (unused: every beam is scored alike; at step 0 only beam 0 is alive).
        logits: `[batch_size, beam_width, vocab_size]`.
        next_cell_state: the cell state after this step, `[batch_size, beam_width, ...]`.
        beam_state: the `BeamSearchDecoderState` before this step.
        batch_size: the batch size.
        beam_width: the number of beams.
        end_token: int32 scalar.
        length_penalty_weight, coverage_penalty_weight: the penalty weights.
        output_all_scores: return the scores of every continuation.

    Returns:
        `(BeamSearchDecoderOutput, BeamSearchDecoderState)`.
    """
    del time, batch_size
    finished = beam_state.finished
    not_finished = tf.logical_not(finished)
    step_log_probs = tf.nn.log_softmax(logits)
    step_log_probs = _mask_probs(step_log_probs, end_token, finished)
    total_probs = tf.expand_dims(beam_state.log_probs, 2) + step_log_probs

    vocab_size = logits.shape[-1] if logits.shape[-1] is not None else tf.shape(logits)[-1]
    new_lengths = None
    if not _static_zero(length_penalty_weight):
        grows = tf.logical_and(
            tf.expand_dims(not_finished, 2), tf.not_equal(tf.range(vocab_size), end_token)
        )
        new_lengths = tf.expand_dims(beam_state.lengths, 2) + tf.cast(grows, tf.int64)

    accumulated = None
    attention_probs = get_attention_probs(next_cell_state, coverage_penalty_weight)
    if attention_probs is not None:
        attention_probs = attention_probs * tf.expand_dims(
            tf.cast(not_finished, attention_probs.dtype), 2
        )
        accumulated = beam_state.accumulated_attention_probs + attention_probs

    scores = _get_scores(
        log_probs=total_probs,
        sequence_lengths=new_lengths,
        length_penalty_weight=length_penalty_weight,
        coverage_penalty_weight=coverage_penalty_weight,
        finished=finished,
        accumulated_attention_probs=accumulated,
    )
    flat_size = beam_width * vocab_size
    next_scores, word_indices = tf.math.top_k(tf.reshape(scores, [-1, flat_size]), k=beam_width)
    next_log_probs = tf.gather(tf.reshape(total_probs, [-1, flat_size]), word_indices, batch_dims=1)
    next_word_ids = tf.math.floormod(word_indices, vocab_size)
    next_parent_ids = tf.math.floordiv(word_indices, vocab_size)

    previously_finished = tf.gather(finished, next_parent_ids, batch_dims=1)
    next_finished = tf.logical_or(previously_finished, tf.equal(next_word_ids, end_token))
    next_lengths = tf.gather(beam_state.lengths, next_parent_ids, batch_dims=1) + tf.cast(
        tf.logical_not(previously_finished), tf.int64
    )
    next_accumulated = ()
    if accumulated is not None:
        next_accumulated = tf.gather(accumulated, next_parent_ids, batch_dims=1)
    next_cell_state = tf.nest.map_structure(
        lambda t: _gather_beams(t, next_parent_ids), next_cell_state
    )
    state = BeamSearchDecoderState(
        cell_state=next_cell_state,
        log_probs=next_log_probs,
        finished=next_finished,
        lengths=next_lengths,
        accumulated_attention_probs=next_accumulated,
    )
    output = BeamSearchDecoderOutput(
        scores=scores if output_all_scores else next_scores,
        predicted_ids=next_word_ids,
        parent_ids=next_parent_ids,
    )
    return output, state


@keras.saving.register_keras_serializable(package="keras_zoo")
class BeamSearchDecoder(BaseDecoder):
    """Beam search decoding (TFA's `tfa.seq2seq.BeamSearchDecoder`).

    `decoder(embedding, start_tokens=..., end_token=..., initial_state=...)` keeps the
    `beam_width` best hypotheses of each batch entry and returns
    `(FinalBeamSearchDecoderOutput(predicted_ids, beam_search_decoder_output),
    BeamSearchDecoderState, lengths)`, `predicted_ids` `[batch, time, beam_width]` best first.
    `embedding` is an embedding matrix (or `None` with `embedding_fn`); `initial_state` is the
    cell state for `batch * beam_width` entries, tiled with `tile_batch` (it defaults to the
    zero state; TFA requires it). With an `AttentionWrapper`, tile its memory and memory
    lengths with `tile_batch` too. The loop is one `tf.while_loop` (`dynamic_decode`);
    TensorFlow-only.

    Scores are log probabilities, divided by the length penalty `((5 + length) / 6) **
    length_penalty_weight` and, for finished beams, plus `coverage_penalty_weight` times the
    sum over the memory of `log(min(accumulated attention, 1))` (Wu et al., 2016).

    Args:
        cell: a Keras RNN cell (e.g. an `AttentionWrapper` around an `LSTMCell`).
        beam_width: the number of beams, a positive int.
        embedding_fn: maps ids to inputs; used when the call's `embedding` is `None`.
            Defaults to `None`.
        output_layer: a layer applied to the cell's output to give the logits. Defaults to
            `None`.
        length_penalty_weight: the length penalty's exponent; 0 disables it. Defaults to 0.
        coverage_penalty_weight: the coverage penalty's weight; 0 disables it, other values
            need an attentional cell. Defaults to 0.
        reorder_tensor_arrays: reorder the `TensorArray`s of the final cell state (e.g. an
            alignment history) along the beams' ancestry and return them stacked. Defaults to
            `True`.
        output_all_scores: return the scores of every continuation, `[batch, time, beam,
            vocab]`, instead of the chosen ones. Defaults to `False`.
        **kwargs: `BaseDecoder` arguments (`maximum_iterations`, `output_time_major`, ...)
            and layer arguments.

    Example:

    ```python
    beam_width = 5
    cell = keras.layers.LSTMCell(64)
    decoder = BeamSearchDecoder(cell, beam_width, output_layer=keras.layers.Dense(vocab),
                                length_penalty_weight=0.6, maximum_iterations=50)
    state = tile_batch(encoder_final_state, beam_width)
    outputs, state, lengths = decoder(embedding_matrix, start_tokens=tf.fill([batch], 1),
                                      end_token=2, initial_state=state)
    best = outputs.predicted_ids[:, :, 0]
    ```

    Reference:
        Wu et al., "Google's Neural Machine Translation System: Bridging the Gap between Human
        and Machine Translation", 2016 (length and coverage penalties).
    """

    def __init__(
        self,
        cell,
        beam_width: int,
        embedding_fn=None,
        output_layer=None,
        length_penalty_weight: float = 0.0,
        coverage_penalty_weight: float = 0.0,
        reorder_tensor_arrays: bool = True,
        output_all_scores: bool = False,
        **kwargs,
    ):
        check_rnn_cell(cell)
        check_positive_int("beam_width", beam_width)
        if embedding_fn is not None and not callable(embedding_fn):
            raise TypeError(
                "`embedding_fn` must be a callable or None. "
                f"Received: embedding_fn={embedding_fn!r}"
            )
        check_output_layer(output_layer)
        super().__init__(**kwargs)
        self._cell = cell
        self._beam_width = beam_width
        self._embedding_fn = embedding_fn
        self._output_layer = output_layer
        self._length_penalty_weight = _check_weight("length_penalty_weight", length_penalty_weight)
        self._coverage_penalty_weight = _check_weight(
            "coverage_penalty_weight", coverage_penalty_weight
        )
        self._reorder_tensor_arrays = check_bool("reorder_tensor_arrays", reorder_tensor_arrays)
        self._output_all_scores = check_bool("output_all_scores", output_all_scores)
        self._batch_size = None
        self._end_token = None

    @property
    def batch_size(self):
        return self._batch_size

    @property
    def tracks_own_finished(self) -> bool:
        """True: beams move between steps, so the decoder tracks which are finished."""
        return True

    @property
    def output_size(self):
        beams = tf.TensorShape([self._beam_width])
        scores = beams
        if self._output_all_scores:
            scores = beams.concatenate(rnn_output_size(self._cell, self._output_layer)[-1:])
        return BeamSearchDecoderOutput(scores=scores, predicted_ids=beams, parent_ids=beams)

    @property
    def output_dtype(self):
        return BeamSearchDecoderOutput(
            scores=self._score_dtype, predicted_ids=tf.int32, parent_ids=tf.int32
        )

    def call(
        self,
        embedding,
        start_tokens=None,
        end_token=None,
        initial_state=None,
        training=None,
        **kwargs,
    ):
        return super().call(
            embedding,
            initial_state=initial_state,
            training=training,
            start_tokens=start_tokens,
            end_token=end_token,
            **kwargs,
        )

    def initialize(self, embedding, start_tokens=None, end_token=None, initial_state=None):
        """Tiles the start tokens over the beams; returns `(finished, start_inputs,
        BeamSearchDecoderState)`. Only beam 0 is alive at the start."""
        if embedding is not None:
            self._lookup = lambda ids: tf.nn.embedding_lookup(embedding, ids)
        elif self._embedding_fn is not None:
            self._lookup = self._embedding_fn
        else:
            raise ValueError(
                "BeamSearchDecoder needs an `embedding` in the call or an `embedding_fn` at "
                "construction. Received: embedding=None, embedding_fn=None"
            )
        start_tokens = check_start_tokens(start_tokens)
        self._end_token = check_end_token(end_token)
        self._batch_size = tf.size(start_tokens)
        beam_width = self._beam_width
        if initial_state is None:
            initial_state = initial_cell_state(self._cell, self._batch_size * beam_width)
        self._check_state_batch(initial_state, start_tokens)
        cell_state = tf.nest.map_structure(self._maybe_split, initial_state)
        self._start_tokens = tf.tile(tf.expand_dims(start_tokens, 1), [1, beam_width])
        self._start_inputs = self._lookup(self._start_tokens)
        build_step_layers(
            self._cell,
            self._output_layer,
            tf.nest.map_structure(self._merge, self._start_inputs),
        )

        state_dtype = tf.nest.flatten(cell_state)[0].dtype
        self._score_dtype = state_dtype if state_dtype in (tf.float32, tf.float64) else tf.float32
        batch_beams = tf.stack([self._batch_size, beam_width])
        finished = tf.broadcast_to(tf.range(beam_width) > 0, batch_beams)
        log_probs = tf.where(
            finished,
            tf.constant(-np.inf, self._score_dtype),
            tf.constant(0.0, self._score_dtype),
        )
        attention_probs = get_attention_probs(cell_state, self._coverage_penalty_weight)
        state = BeamSearchDecoderState(
            cell_state=cell_state,
            log_probs=log_probs,
            finished=finished,
            lengths=tf.zeros(batch_beams, tf.int64),
            accumulated_attention_probs=() if attention_probs is None else attention_probs,
        )
        return finished, self._start_inputs, state

    def _check_state_batch(self, initial_state, start_tokens) -> None:
        batch = start_tokens.shape[0]
        for tensor in tf.nest.flatten(initial_state):
            if isinstance(tensor, tf.TensorArray) or tensor.shape.rank in (None, 0):
                continue
            rows = tensor.shape[0]
            if batch is not None and rows is not None and rows != batch * self._beam_width:
                raise ValueError(
                    "`initial_state` must hold batch_size * beam_width = "
                    f"{batch} * {self._beam_width} rows (tile it with tile_batch). "
                    f"Received: initial_state with shape {tensor.shape} for start_tokens of "
                    f"shape {start_tokens.shape}"
                )

    def _merge(self, tensor):
        """`[batch, beam, ...]` -> `[batch * beam, ...]`."""
        rest = tensor.shape[2:]
        if rest.is_fully_defined():
            return tf.reshape(tensor, [-1, *rest.as_list()])
        return tf.reshape(tensor, tf.concat([[-1], tf.shape(tensor)[2:]], 0))

    def _split(self, tensor):
        """`[batch * beam, ...]` -> `[batch, beam, ...]`."""
        rest = tensor.shape[1:]
        if rest.is_fully_defined():
            return tf.reshape(tensor, [-1, self._beam_width, *rest.as_list()])
        return tf.reshape(tensor, tf.concat([[-1, self._beam_width], tf.shape(tensor)[1:]], 0))

    def _maybe_merge(self, tensor):
        if isinstance(tensor, tf.TensorArray) or tensor.shape.rank < 2:
            return tensor
        return self._merge(tensor)

    def _maybe_split(self, tensor):
        if isinstance(tensor, tf.TensorArray):
            return tensor
        if tensor.shape.rank is None:
            raise ValueError(f"Cell state tensors need a known rank. Received: {tensor}")
        return self._split(tensor) if tensor.shape.rank >= 1 else tensor

    def step(self, time, inputs, state, training=None, name=None):
        """One beam search step; returns `(outputs, next_state, next_inputs, finished)`."""
        with tf.name_scope(name or "BeamSearchDecoderStep"):
            cell_state = tf.nest.map_structure(self._maybe_merge, state.cell_state)
            inputs = tf.nest.map_structure(self._merge, inputs)
            cell_outputs, next_cell_state = self._cell(inputs, cell_state, training=training)
            next_cell_state = tf.nest.pack_sequence_as(cell_state, tf.nest.flatten(next_cell_state))
            if self._output_layer is not None:
                cell_outputs = self._output_layer(cell_outputs)
            logits = tf.nest.map_structure(self._split, cell_outputs)
            if logits.dtype != self._score_dtype:
                logits = tf.cast(logits, self._score_dtype)
            next_cell_state = tf.nest.map_structure(self._maybe_split, next_cell_state)
            output, beam_state = _beam_search_step(
                time=time,
                logits=logits,
                next_cell_state=next_cell_state,
                beam_state=state,
                batch_size=self._batch_size,
                beam_width=self._beam_width,
                end_token=self._end_token,
                length_penalty_weight=self._length_penalty_weight,
                coverage_penalty_weight=self._coverage_penalty_weight,
                output_all_scores=self._output_all_scores,
            )
            finished = beam_state.finished
            all_finished = tf.reduce_all(finished)
            next_inputs = tf.nest.map_structure(
                lambda start, embedded: tf.where(all_finished, start, embedded),
                self._start_inputs,
                self._lookup(output.predicted_ids),
            )
        return output, beam_state, next_inputs, finished

    def finalize(self, outputs, final_state, sequence_lengths):
        """Spells out the beams with `gather_tree`; reorders `TensorArray`s in the cell state
        (stacked) when `reorder_tensor_arrays`."""
        del sequence_lengths  # the beams' own lengths are in the state
        max_sequence_lengths = tf.cast(tf.reduce_max(final_state.lengths, axis=1), tf.int32)
        predicted_ids = gather_tree(
            outputs.predicted_ids,
            outputs.parent_ids,
            max_sequence_lengths=max_sequence_lengths,
            end_token=self._end_token,
        )
        if self._reorder_tensor_arrays:
            final_state = final_state._replace(
                cell_state=tf.nest.map_structure(
                    lambda t: self._maybe_sort_array_beams(
                        t, outputs.parent_ids, final_state.lengths
                    ),
                    final_state.cell_state,
                )
            )
        return FinalBeamSearchDecoderOutput(predicted_ids, outputs), final_state

    def _maybe_sort_array_beams(self, t, parent_ids, sequence_length):
        """A `TensorArray` of `[batch, beam, ...]` or `[batch * beam, ...]` elements, stacked
        and reordered along the beams; anything else is returned as it is."""
        if not isinstance(t, tf.TensorArray):
            return t
        shape = t.element_shape
        if shape.rank is None or shape.rank < 1:
            return t
        batch = tf.get_static_value(self._batch_size)
        beam_width = self._beam_width
        if batch is not None and shape[0] is not None:
            merged = shape[0] == batch * beam_width
            split = shape.rank >= 2 and shape[0] == batch and shape[1] == beam_width
            if not (merged or split):
                return t
        return gather_tree_from_array(t.stack(), parent_ids, sequence_length)

    def get_config(self) -> dict:
        serialize = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "cell": serialize(self._cell),
            "beam_width": self._beam_width,
            "embedding_fn": None if self._embedding_fn is None else serialize(self._embedding_fn),
            "output_layer": serialize(self._output_layer),
            "length_penalty_weight": _weight_config(self._length_penalty_weight),
            "coverage_penalty_weight": _weight_config(self._coverage_penalty_weight),
            "reorder_tensor_arrays": self._reorder_tensor_arrays,
            "output_all_scores": self._output_all_scores,
        }

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        for name in ("cell", "embedding_fn", "output_layer"):
            if config.get(name) is not None:
                config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)
