"""Beam bookkeeping: `gather_tree`, `gather_tree_from_array` and `tile_batch` (TFA's
`tfa.seq2seq` functions of the same names).

TFA's `gather_tree` is a custom C++ kernel; here it is TensorFlow ops: one `tf.scan` backwards
over time, each step a batched gather over the beams, so that it also runs under XLA and in a
SavedModel without a custom-op library.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from layers.validation import check_positive_int


def gather_tree(step_ids, parent_ids, max_sequence_lengths, end_token):
    """Follows the parent pointers back from each final beam to spell out its ids.

    The ids of beam `k` at the last valid step of batch entry `b` are followed back through
    `parent_ids` to step 0. Steps at or after `max_sequence_lengths[b]`, and every step after
    the first `end_token` of a beam, hold `end_token`.

    Args:
        step_ids: int32 `[max_time, batch_size, beam_width]`, the ids each step chose.
        parent_ids: int32 `[max_time, batch_size, beam_width]`, the beam each came from.
        max_sequence_lengths: int32 `[batch_size]`, the valid steps of each batch entry.
        end_token: int32 scalar.

    Returns:
        int32 `[max_time, batch_size, beam_width]`: the ids of each full beam.

    Raises:
        tf.errors.InvalidArgumentError: when a parent id inside the valid steps is outside
            `[0, beam_width)` (eagerly or in a graph; XLA skips the check).

    Example:

    ```python
    step_ids = tf.constant([[[1, 2, 3]], [[4, 5, 6]], [[7, 8, 9]]])  # [time 3, batch 1, beam 3]
    parent_ids = tf.constant([[[0, 0, 0]], [[0, 1, 1]], [[2, 1, 2]]])
    gather_tree(step_ids, parent_ids, max_sequence_lengths=[3], end_token=10)
    # [[[2, 2, 2]], [[6, 5, 6]], [[7, 8, 9]]]
    ```
    """
    step_ids = tf.convert_to_tensor(step_ids, dtype=tf.int32, name="step_ids")
    parent_ids = tf.convert_to_tensor(parent_ids, dtype=tf.int32, name="parent_ids")
    max_sequence_lengths = tf.convert_to_tensor(
        max_sequence_lengths, dtype=tf.int32, name="max_sequence_lengths"
    )
    end_token = tf.convert_to_tensor(end_token, dtype=tf.int32, name="end_token")
    for name, tensor, rank in (
        ("step_ids", step_ids, 3),
        ("parent_ids", parent_ids, 3),
        ("max_sequence_lengths", max_sequence_lengths, 1),
        ("end_token", end_token, 0),
    ):
        if tensor.shape.rank is not None and tensor.shape.rank != rank:
            raise ValueError(
                f"`{name}` must have rank {rank}. Received: {name} with shape {tensor.shape}"
            )

    shape = tf.shape(step_ids)
    max_time, beam_width = shape[0], shape[2]
    lengths = tf.minimum(max_sequence_lengths, max_time)
    times = tf.range(max_time)
    valid = times[:, None] < lengths[None, :]  # [time, batch]
    bad_parent = tf.logical_and(
        valid[:, :, None], tf.logical_or(parent_ids < 0, parent_ids >= beam_width)
    )
    check = tf.debugging.Assert(
        tf.logical_not(tf.reduce_any(bad_parent)),
        ["gather_tree: every parent id of a valid step must be in [0, beam_width)."],
    )

    def back_one_step(beams, elements):
        ids, parents, is_valid = elements
        is_valid = is_valid[:, None]
        gathered_ids = tf.where(is_valid, tf.gather(ids, beams, batch_dims=1), end_token)
        # Past the valid steps the beam stays its own; inside them it moves to its parent.
        beams = tf.where(is_valid, tf.gather(parents, beams, batch_dims=1), beams)
        return beams, gathered_ids

    own_beams = tf.broadcast_to(tf.range(beam_width)[None, :], shape[1:])
    with tf.control_dependencies([check]):
        safe_parents = tf.where(valid[:, :, None], parent_ids, 0)
    _, ids = tf.scan(
        lambda carry, elements: back_one_step(carry[0], elements),
        (step_ids, safe_parents, valid),
        initializer=(own_beams, own_beams),
        reverse=True,
    )
    seen_end = tf.cumsum(tf.cast(tf.equal(ids, end_token), tf.int32), axis=0) > 0
    return tf.where(seen_end, end_token, ids)


def gather_tree_from_array(t, parent_ids, sequence_length):
    """Reorders a stacked per-step array of beam values along the beams' ancestry.

    Args:
        t: `[max_time, batch_size, beam_width, ...]` or `[max_time, batch_size * beam_width,
            ...]` values, e.g. a stacked alignment history.
        parent_ids: int32 `[max_time, batch_size, beam_width]`.
        sequence_length: `[batch_size, beam_width]` lengths of the beams.

    Returns:
        `t`'s values, shape and dtype, each beam's steps taken from its ancestors' beams; steps
        past a beam's length keep that beam's own values.

    Example:

    ```python
    history = tf.stack(alignments_per_step)  # [time, batch * beam, memory_time]
    ordered = gather_tree_from_array(history, outputs.parent_ids, final_state.lengths)
    ```
    """
    t = tf.convert_to_tensor(t)
    parent_ids = tf.convert_to_tensor(parent_ids, dtype=tf.int32)
    sequence_length = tf.convert_to_tensor(sequence_length)
    shape = tf.shape(parent_ids)
    max_time, batch_size, beam_width = shape[0], shape[1], shape[2]
    beam_ids = tf.broadcast_to(tf.range(beam_width)[None, None, :], shape)
    max_sequence_lengths = tf.cast(tf.reduce_max(sequence_length, axis=1), tf.int32)
    # `beam_width + 1` is no beam id, so no step is overwritten as an end token.
    sorted_beam_ids = gather_tree(beam_ids, parent_ids, max_sequence_lengths, beam_width + 1)
    in_bounds = tf.transpose(tf.sequence_mask(sequence_length, maxlen=max_time), [2, 0, 1])
    sorted_beam_ids = tf.where(in_bounds, sorted_beam_ids, beam_ids)
    flat = tf.reshape(t, tf.stack([max_time, batch_size, beam_width, -1]))
    ordered = tf.gather(flat, sorted_beam_ids, axis=2, batch_dims=2)
    return tf.reshape(ordered, tf.shape(t))


def tile_batch(t, multiplier: int, name: str | None = None):
    """Repeats every batch entry `multiplier` times in a row, in a tensor or a structure of them.

    `[batch, ...]` becomes `[batch * multiplier, ...]` holding `t[0], t[0], ..., t[1], t[1],
    ...`: the layout `BeamSearchDecoder` expects for encoder outputs, memory lengths and
    states (`tf.tile` would interleave the entries instead).

    Args:
        t: a tensor of rank >= 1 (known rank), or a nested structure of them.
        multiplier: a positive int, usually the beam width.
        name: a name scope. Defaults to `"tile_batch"`.

    Returns:
        The tiled tensor(s), with the same structure.

    Example:

    ```python
    tile_batch(tf.constant([[1, 2], [3, 4]]), 2)  # [[1, 2], [1, 2], [3, 4], [3, 4]]
    ```
    """
    check_positive_int("multiplier", multiplier)
    with tf.name_scope(name or "tile_batch"):
        return keras.tree.map_structure(lambda x: _tile_one(x, multiplier), t)


def _tile_one(t, multiplier: int):
    t = tf.convert_to_tensor(t, name="t")
    if t.shape.rank is None or t.shape.rank < 1:
        raise ValueError(
            f"tile_batch needs tensors of known rank >= 1. Received: t with shape {t.shape}"
        )
    return keras.ops.repeat(t, multiplier, axis=0)
