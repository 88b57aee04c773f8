"""Viterbi decoding of a linear-chain CRF: the highest scoring tag sequence.

`viterbi_decode` is NumPy (one sequence, on the host). The others are TensorFlow-only
(`tf.scan`) and run eagerly, inside `tf.function`, in a SavedModel and under XLA: they are
TensorFlow Addons' `tfa.text` decoding functions, with TFA's names, arguments and outputs
(positions past a sequence's length decode to tag 0).

Reference:
    Viterbi, "Error bounds for convolutional codes and an asymptotically optimum decoding
    algorithm", IEEE Transactions on Information Theory, 1967.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from layers.crf.checks import as_potentials, as_sequence_lengths, as_transition_params
from layers.crf.scores import crf_filtered_inputs


def viterbi_decode(score, transition_params):
    """Decodes one sequence with NumPy, outside TensorFlow (for tests and inspection).

    Args:
        score: a `[seq_len, num_tags]` array of unary potentials.
        transition_params: a `[num_tags, num_tags]` transition matrix.

    Returns:
        `(viterbi, viterbi_score)`: a list of `seq_len` tag indices (Python ints) and the score
        of that sequence (a NumPy scalar of the dtype of `score`).

    Example:

    ```python
    tags, best = viterbi_decode(np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros([2, 2]))
    # tags == [0, 1], best == 2.0
    ```
    """
    score = np.asarray(score)
    transitions = np.asarray(transition_params, dtype=score.dtype)
    if score.ndim != 2 or transitions.shape != (score.shape[1], score.shape[1]):
        raise ValueError(
            "`score` must have shape [seq_len, num_tags] and `transition_params` "
            f"[num_tags, num_tags]. Received: score.shape={score.shape}, "
            f"transition_params.shape={transitions.shape}"
        )
    best_so_far = score[0].copy()
    came_from = []
    for unary in score[1:]:
        candidates = best_so_far[:, np.newaxis] + transitions  # [previous tag, next tag]
        came_from.append(np.argmax(candidates, axis=0))
        best_so_far = unary + np.max(candidates, axis=0)
    tags = [int(np.argmax(best_so_far))]
    for pointers in reversed(came_from):
        tags.append(int(pointers[tags[-1]]))
    return tags[::-1], np.max(best_so_far)


def crf_decode_forward(inputs, state, transition_params, sequence_lengths):
    """The forward pass of Viterbi decoding: backpointers and the best scores at the end.

    Args:
        inputs: a `[batch_size, num_steps, num_tags]` tensor: the unary potentials of the steps
            after the first.
        state: a `[batch_size, num_tags]` matrix: the best scores of the first step.
        transition_params: a `[num_tags, num_tags]` transition matrix.
        sequence_lengths: a `[batch_size]` integer vector: how many of the `num_steps` steps
            each sequence has.

    Returns:
        `(backpointers, new_state)`: a `[batch_size, num_steps, num_tags]` int32 tensor (at each
        step, for each tag, the best previous tag; 0 past the length) and the
        `[batch_size, num_tags]` best scores after each sequence's last step.

    Example:

    ```python
    potentials = tf.random.normal([2, 4, 3])
    backpointers, last = crf_decode_forward(
        potentials[:, 1:], potentials[:, 0], tf.zeros([3, 3]), [3, 1]
    )
    ```
    """
    inputs = as_potentials("inputs", inputs)
    state = tf.cast(state, inputs.dtype)
    transition_params = as_transition_params(transition_params, inputs.shape[-1], inputs.dtype)
    sequence_lengths = tf.cast(sequence_lengths, tf.int32)
    all_scores = tf.concat([state[tf.newaxis], _best_scores(inputs, state, transition_params)], 0)
    new_state = _at_step(all_scores, sequence_lengths)
    # All the steps' backpointers at once, outside the loop: [step, batch, next tag, previous].
    candidates = all_scores[:-1, :, tf.newaxis, :] + tf.transpose(transition_params)
    backpointers = tf.argmax(candidates, axis=-1, output_type=tf.int32)
    valid = _step_mask_time_major(sequence_lengths, tf.shape(backpointers)[0])
    backpointers = tf.where(valid[:, :, tf.newaxis], backpointers, 0)
    return tf.transpose(backpointers, [1, 0, 2]), new_state


def crf_decode_backward(inputs, state):
    """The backward pass of Viterbi decoding: follows backpointers from a tag.

    Args:
        inputs: a `[batch_size, num_steps, num_tags]` integer tensor of backpointers, in the
            order they are followed (time reversed).
        state: a `[batch_size, 1]` integer tensor: the tag to start from.

    Returns:
        A `[batch_size, num_steps, 1]` int32 tensor: the tag reached after each step.

    Example:

    ```python
    backpointers = tf.constant([[[1, 0], [0, 0]]])
    crf_decode_backward(backpointers, tf.constant([[0]]))  # [[[1], [0]]]
    ```
    """
    inputs = tf.cast(inputs, tf.int32)
    state = tf.cast(state, tf.int32)

    def step(tag, pointers):
        return tf.gather(pointers, tag, batch_dims=1)

    return tf.transpose(tf.scan(step, tf.transpose(inputs, [1, 0, 2]), state), [1, 0, 2])


def crf_decode(potentials, transition_params, sequence_length):
    """Decodes the highest scoring tag sequence of each sequence in a batch (Viterbi).

    One `tf.scan` forward (best scores and backpointers) and one backward (following them);
    runs in `tf.function`, in a SavedModel and under XLA. Positions past a sequence's length
    get tag 0; a sequence of length 0 decodes like one of length 1 (as in TFA).

    Args:
        potentials: a `[batch_size, max_seq_len, num_tags]` tensor of unary potentials.
        transition_params: a `[num_tags, num_tags]` transition matrix.
        sequence_length: a `[batch_size]` integer vector of true lengths.

    Returns:
        `(decode_tags, best_score)`: a `[batch_size, max_seq_len]` int32 tensor of tags and the
        `[batch_size]` scores of those sequences.

    Example:

    ```python
    potentials = tf.random.normal([2, 5, 3])
    transitions = tf.random.normal([3, 3])
    tags, best_score = crf_decode(potentials, transitions, tf.constant([5, 3]))
    ```
    """
    potentials = as_potentials("potentials", potentials)
    transition_params = as_transition_params(
        transition_params, potentials.shape[-1], potentials.dtype
    )
    sequence_length = as_sequence_lengths("sequence_length", sequence_length, potentials)

    def single_step():
        tags = tf.argmax(potentials, axis=2, output_type=tf.int32)
        return tags, tf.reshape(tf.reduce_max(potentials, axis=2), [-1])

    def several_steps():
        return _viterbi(potentials, transition_params, sequence_length)

    if potentials.shape[1] is not None:
        return single_step() if potentials.shape[1] == 1 else several_steps()
    return tf.cond(tf.equal(tf.shape(potentials)[1], 1), single_step, several_steps)


def crf_constrained_decode(potentials, tag_bitmap, transition_params, sequence_length):
    """`crf_decode` restricted to the tags `tag_bitmap` allows at each step.

    Args:
        potentials: a `[batch_size, max_seq_len, num_tags]` tensor of unary potentials.
        tag_bitmap: a boolean tensor of the same shape: the tags allowed at each step.
        transition_params: a `[num_tags, num_tags]` transition matrix.
        sequence_length: a `[batch_size]` integer vector of true lengths.

    Returns:
        `(decode_tags, best_score)`, as `crf_decode`.

    Example:

    ```python
    potentials = tf.random.normal([1, 3, 2])
    only_tag_1 = tf.constant([[[False, True]] * 3])
    tags, _ = crf_constrained_decode(potentials, only_tag_1, tf.zeros([2, 2]), [3])  # [[1, 1, 1]]
    ```
    """
    filtered = crf_filtered_inputs(potentials, tag_bitmap)
    return crf_decode(filtered, transition_params, sequence_length)


# --------------------------------------------------------------------------------------------
# Implementation (arguments already checked)
# --------------------------------------------------------------------------------------------


def _best_scores(inputs, state, transition_params):
    """Time-major best scores of each step after the first: one `tf.scan` of max-plus steps.

    The backpointers are not kept: the backward pass recomputes the one it follows at each
    step from these scores (the same sums, so the same argmax), which costs a `[batch, tags]`
    argmax per step instead of a `[batch, tags, tags]` one.
    """
    transitions = transition_params[tf.newaxis]

    def step(best, unary):
        return unary + tf.reduce_max(best[:, :, tf.newaxis] + transitions, axis=1)

    return tf.scan(step, tf.transpose(inputs, [1, 0, 2]), state)


def _at_step(time_major, steps):
    """`time_major[steps[b], b]` for each batch entry `b`."""
    batch = tf.range(tf.shape(steps)[0])
    return tf.gather_nd(time_major, tf.stack([steps, batch], axis=1))


def _step_mask_time_major(lengths, num_steps):
    return tf.range(num_steps)[:, tf.newaxis] < lengths[tf.newaxis, :]


def _viterbi(potentials, transition_params, sequence_length):
    first = potentials[:, 0]
    scores = _best_scores(potentials[:, 1:], first, transition_params)
    all_scores = tf.concat([first[tf.newaxis], scores], axis=0)  # [max_seq_len, batch, tags]
    # The last position decoded; a sequence of length 0 decodes like one of length 1.
    last = tf.maximum(sequence_length - 1, 0)
    last_scores = _at_step(all_scores, last)
    last_tag = tf.argmax(last_scores, axis=1, output_type=tf.int32)
    # Position t (t < max_seq_len - 1) follows the backpointer of its successor when t < last,
    # takes `last_tag` at t == last and 0 past it (TFA's padding).
    num_steps = tf.shape(scores)[0]
    positions = tf.range(num_steps)[:, tf.newaxis]
    follows = positions < last[tf.newaxis, :]
    fixed = tf.where(positions == last[tf.newaxis, :], last_tag[tf.newaxis, :], 0)
    final_tag = tf.where(last == num_steps, last_tag, 0)
    into_tag = tf.transpose(transition_params)  # row j: the scores of moving into tag j

    def step(next_tag, elems):
        scores_here, follow, fixed_tag = elems
        candidates = scores_here + tf.gather(into_tag, next_tag)
        best_previous = tf.argmax(candidates, axis=-1, output_type=tf.int32)
        return tf.where(follow, best_previous, fixed_tag)

    tags = tf.scan(step, (all_scores[:-1], follows, fixed), final_tag, reverse=True)
    tags = tf.concat([tags, final_tag[tf.newaxis]], axis=0)
    return tf.transpose(tags), tf.reduce_max(last_scores, axis=1)
