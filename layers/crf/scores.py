"""Scores of a linear-chain CRF: sequence scores, the partition function, the log-likelihood.

TensorFlow-only (`tf.scan`, `tf.gather`): these are TensorFlow Addons' `tfa.text` CRF
functions, with TFA's names, arguments and numbers, that run eagerly, inside `tf.function` and
under XLA (`jit_compile=True`).

A CRF over `num_tags` tags scores a tag sequence `y` of length `n` as
`sum_t inputs[t, y_t] + sum_{t>0} transition_params[y_{t-1}, y_t]`; the log-likelihood of `y`
is its score minus the log of the sum of `exp(score)` over every tag sequence of length `n`.

Reference:
    Lafferty, McCallum and Pereira, "Conditional Random Fields: Probabilistic Models for
    Segmenting and Labeling Sequence Data", ICML 2001.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from layers.crf.checks import (
    as_potentials,
    as_sequence_lengths,
    as_tag_bitmap,
    as_tag_indices,
    as_transition_params,
)


def crf_filtered_inputs(inputs, tag_bitmap) -> tf.Tensor:
    """Sets the potentials of the tags that `tag_bitmap` rules out to `-inf`.

    Args:
        inputs: a `[batch_size, max_seq_len, num_tags]` tensor of unary potentials.
        tag_bitmap: a boolean tensor of the same shape, `True` for the tags allowed at each
            step.

    Returns:
        `inputs` where `tag_bitmap` is `True`, `-inf` elsewhere.

    Example:

    ```python
    inputs = tf.constant([[[1.0, 2.0], [3.0, 4.0]]])
    crf_filtered_inputs(inputs, [[[True, False], [False, True]]])  # [[[1, -inf], [-inf, 4]]]
    ```
    """
    inputs = as_potentials("inputs", inputs)
    tag_bitmap = as_tag_bitmap(tag_bitmap, inputs)
    return tf.where(tag_bitmap, inputs, tf.constant(float("-inf"), inputs.dtype))


def crf_unary_score(tag_indices, sequence_lengths, inputs) -> tf.Tensor:
    """The sum of the unary potentials of each tag sequence, over its first `length` steps.

    Args:
        tag_indices: a `[batch_size, max_seq_len]` integer tensor of tag indices.
        sequence_lengths: a `[batch_size]` integer vector of true lengths.
        inputs: a `[batch_size, max_seq_len, num_tags]` tensor of unary potentials.

    Returns:
        A `[batch_size]` vector.

    Example:

    ```python
    inputs = tf.constant([[[1.0, 2.0], [3.0, 4.0]]])
    crf_unary_score([[1, 0]], [2], inputs)  # [5.0]
    ```
    """
    inputs = as_potentials("inputs", inputs)
    tag_indices = as_tag_indices("tag_indices", tag_indices, inputs)
    sequence_lengths = as_sequence_lengths("sequence_lengths", sequence_lengths, inputs)
    return _unary_score(tag_indices, sequence_lengths, inputs)


def crf_binary_score(tag_indices, sequence_lengths, transition_params) -> tf.Tensor:
    """The sum of the transition scores along each tag sequence, over its first `length` steps.

    Args:
        tag_indices: a `[batch_size, max_seq_len]` integer tensor of tag indices.
        sequence_lengths: a `[batch_size]` integer vector of true lengths.
        transition_params: a `[num_tags, num_tags]` matrix; entry `[i, j]` scores tag `i`
            followed by tag `j`.

    Returns:
        A `[batch_size]` vector.

    Example:

    ```python
    crf_binary_score([[1, 0, 0]], [3], [[0.5, 1.0], [2.0, 0.0]])  # [2.5]
    ```
    """
    transition_params = tf.convert_to_tensor(transition_params)
    if not transition_params.dtype.is_floating:
        transition_params = tf.cast(transition_params, keras.config.floatx())
    num_tags = transition_params.shape[0] if transition_params.shape.rank == 2 else None
    transition_params = as_transition_params(transition_params, num_tags, transition_params.dtype)
    tag_indices = tf.convert_to_tensor(tag_indices)
    # Only the shapes of this stand-in for the potentials are read, to check the arguments.
    reference = tf.zeros(
        tf.concat([tf.shape(tag_indices), tf.shape(transition_params)[:1]], 0),
        transition_params.dtype,
    )
    reference.set_shape([*tag_indices.shape, num_tags])
    tag_indices = as_tag_indices("tag_indices", tag_indices, reference)
    sequence_lengths = as_sequence_lengths("sequence_lengths", sequence_lengths, reference)
    return _binary_score(tag_indices, sequence_lengths, transition_params)


def crf_sequence_score(inputs, tag_indices, sequence_lengths, transition_params) -> tf.Tensor:
    """The unnormalized score of each tag sequence: unary plus binary scores.

    Sequences of length 0 score 0.

    Args:
        inputs: a `[batch_size, max_seq_len, num_tags]` tensor of unary potentials.
        tag_indices: a `[batch_size, max_seq_len]` integer tensor of tag indices.
        sequence_lengths: a `[batch_size]` integer vector of true lengths.
        transition_params: a `[num_tags, num_tags]` transition matrix.

    Returns:
        A `[batch_size]` vector of scores.

    Example:

    ```python
    inputs = tf.constant([[[1.0, 2.0], [3.0, 4.0]]])
    crf_sequence_score(inputs, [[1, 0]], [2], [[0.5, 1.0], [2.0, 0.0]])  # [7.0]
    ```
    """
    inputs, tag_indices, sequence_lengths, transition_params = _checked(
        inputs, tag_indices, sequence_lengths, transition_params
    )
    return _sequence_score(inputs, tag_indices, sequence_lengths, transition_params)


def crf_multitag_sequence_score(
    inputs, tag_bitmap, sequence_lengths, transition_params
) -> tf.Tensor:
    """The log of the summed `exp(score)` of every tag sequence that `tag_bitmap` allows.

    With one-hot bitmaps this is `crf_sequence_score`. As in TFA, sequences of length 0 score
    0 when `max_seq_len > 1`; when `max_seq_len == 1` their score is the log-sum-exp of the
    allowed potentials at the first step whatever their length.

    Args:
        inputs: a `[batch_size, max_seq_len, num_tags]` tensor of unary potentials.
        tag_bitmap: a boolean tensor of the same shape: the tags allowed at each step.
        sequence_lengths: a `[batch_size]` integer vector of true lengths.
        transition_params: a `[num_tags, num_tags]` transition matrix.

    Returns:
        A `[batch_size]` vector of scores.

    Example:

    ```python
    inputs = tf.constant([[[1.0, 2.0], [3.0, 4.0]]])
    bitmap = [[[True, True], [True, False]]]
    crf_multitag_sequence_score(inputs, bitmap, [2], tf.zeros([2, 2]))  # [log(e^4 + e^5)]
    ```
    """
    inputs = as_potentials("inputs", inputs)
    filtered = crf_filtered_inputs(inputs, tag_bitmap)
    sequence_lengths = as_sequence_lengths("sequence_lengths", sequence_lengths, inputs)
    transition_params = as_transition_params(transition_params, inputs.shape[-1], inputs.dtype)

    def single_step():
        return tf.reduce_logsumexp(filtered, axis=[1, 2])

    def several_steps():
        return _log_norm(filtered, sequence_lengths, transition_params)

    return _by_max_seq_len(inputs, single_step, several_steps)


def crf_log_norm(inputs, sequence_lengths, transition_params) -> tf.Tensor:
    """The log partition function: log of the summed `exp(score)` of every tag sequence.

    Computed with the forward algorithm (one `tf.scan` over the steps). Sequences of length 0
    get 0.

    Args:
        inputs: a `[batch_size, max_seq_len, num_tags]` tensor of unary potentials.
        sequence_lengths: a `[batch_size]` integer vector of true lengths.
        transition_params: a `[num_tags, num_tags]` transition matrix.

    Returns:
        A `[batch_size]` vector.

    Example:

    ```python
    inputs = tf.zeros([1, 3, 2])
    crf_log_norm(inputs, [3], tf.zeros([2, 2]))  # [3 * log(2)]: 8 sequences of score 0
    ```
    """
    inputs = as_potentials("inputs", inputs)
    sequence_lengths = as_sequence_lengths("sequence_lengths", sequence_lengths, inputs)
    transition_params = as_transition_params(transition_params, inputs.shape[-1], inputs.dtype)
    return _log_norm(inputs, sequence_lengths, transition_params)


def crf_log_likelihood(inputs, tag_indices, sequence_lengths, transition_params=None):
    """The log-likelihood of tag sequences under a linear-chain CRF.

    `-crf_log_likelihood(...)[0]` is the CRF's training loss. Runs in `tf.function` and under
    XLA; gradients flow to `inputs` and `transition_params`.

    Args:
        inputs: a `[batch_size, max_seq_len, num_tags]` tensor of unary potentials.
        tag_indices: a `[batch_size, max_seq_len]` integer tensor of the true tags.
        sequence_lengths: a `[batch_size]` integer vector of true lengths.
        transition_params: a `[num_tags, num_tags]` transition matrix. When `None`, as in TFA,
            a new trainable `tf.Variable` named `"transitions"` is created with Glorot uniform
            values (a new one at each call: pass your own weight to train it, or use the
            `CRF` layer, which owns one).

    Returns:
        `(log_likelihood, transition_params)`: a `[batch_size]` vector, and the transition
        matrix used (the one given, cast to the dtype of `inputs`, or the new variable).

    Example:

    ```python
    potentials = tf.random.normal([2, 5, 3])
    tags = tf.constant([[0, 1, 2, 1, 0], [2, 2, 0, 0, 0]])
    transitions = tf.Variable(tf.zeros([3, 3]))
    log_likelihood, _ = crf_log_likelihood(potentials, tags, [5, 2], transitions)
    loss = -tf.reduce_mean(log_likelihood)
    ```
    """
    inputs = as_potentials("inputs", inputs)
    if transition_params is None:
        num_tags = inputs.shape[-1]
        if num_tags is None:
            raise ValueError(
                "`transition_params=None` needs the number of tags, the last dimension of "
                f"`inputs`, to be known. Received: inputs.shape={tuple(inputs.shape)}"
            )
        initial = keras.initializers.GlorotUniform()([num_tags, num_tags])
        transition_params = tf.Variable(tf.cast(initial, inputs.dtype), name="transitions")
    returned = transition_params
    inputs, tag_indices, sequence_lengths, transition_params = _checked(
        inputs, tag_indices, sequence_lengths, transition_params
    )
    if not isinstance(returned, tf.Variable) or returned.dtype != inputs.dtype:
        returned = transition_params
    scores = _sequence_score(inputs, tag_indices, sequence_lengths, transition_params)
    return scores - _log_norm(inputs, sequence_lengths, transition_params), returned


def crf_forward(inputs, state, transition_params, sequence_lengths) -> tf.Tensor:
    """The forward algorithm's alpha values of each sequence at its last step.

    Args:
        inputs: a `[batch_size, max_seq_len - 1, num_tags]` tensor: the unary potentials of
            every step but the first.
        state: a `[batch_size, num_tags]` matrix: the alpha values of the first step (its
            unary potentials).
        transition_params: a `[num_tags, num_tags]` transition matrix.
        sequence_lengths: a `[batch_size]` integer vector of true lengths (those of the whole
            sequences, first step included); lengths 0 and 1 give `state`.

    Returns:
        A `[batch_size, num_tags]` matrix: the log of the summed `exp(score)` of the sequences
        ending in each tag at step `length - 1`.

    Example:

    ```python
    potentials = tf.random.normal([2, 4, 3])
    alphas = crf_forward(potentials[:, 1:], potentials[:, 0], tf.zeros([3, 3]), [4, 2])
    log_norm = tf.reduce_logsumexp(alphas, axis=1)
    ```
    """
    inputs = as_potentials("inputs", inputs)
    state = tf.cast(state, inputs.dtype)
    transition_params = as_transition_params(transition_params, inputs.shape[-1], inputs.dtype)
    sequence_lengths = tf.cast(sequence_lengths, tf.int32)
    return _forward(inputs, state, transition_params, sequence_lengths)


# --------------------------------------------------------------------------------------------
# Implementation (arguments already checked)
# --------------------------------------------------------------------------------------------


def _checked(inputs, tag_indices, sequence_lengths, transition_params):
    inputs = as_potentials("inputs", inputs)
    tag_indices = as_tag_indices("tag_indices", tag_indices, inputs)
    sequence_lengths = as_sequence_lengths("sequence_lengths", sequence_lengths, inputs)
    transition_params = as_transition_params(transition_params, inputs.shape[-1], inputs.dtype)
    return inputs, tag_indices, sequence_lengths, transition_params


def _by_max_seq_len(inputs, single_step, several_steps):
    """`single_step()` when `max_seq_len == 1`, else `several_steps()` (static when known)."""
    max_seq_len = inputs.shape[1]
    if max_seq_len is not None:
        return single_step() if max_seq_len == 1 else several_steps()
    return tf.cond(tf.equal(tf.shape(inputs)[1], 1), single_step, several_steps)


def _step_mask(sequence_lengths, max_seq_len, dtype):
    return tf.sequence_mask(sequence_lengths, max_seq_len, dtype=dtype)


def _unary_score(tag_indices, sequence_lengths, inputs):
    picked = tf.gather(inputs, tag_indices, batch_dims=2)
    mask = _step_mask(sequence_lengths, tf.shape(inputs)[1], inputs.dtype)
    return tf.reduce_sum(picked * mask, axis=1)


def _binary_score(tag_indices, sequence_lengths, transition_params):
    num_tags = tf.shape(transition_params)[0]
    flat_pairs = tag_indices[:, :-1] * num_tags + tag_indices[:, 1:]
    scores = tf.gather(tf.reshape(transition_params, [-1]), flat_pairs)
    mask = _step_mask(sequence_lengths, tf.shape(tag_indices)[1], transition_params.dtype)
    return tf.reduce_sum(scores * mask[:, 1:], axis=1)


def _sequence_score(inputs, tag_indices, sequence_lengths, transition_params):
    # Length 0 scores 0 and length 1 has no transition: one formula covers every length.
    unary = _unary_score(tag_indices, sequence_lengths, inputs)
    return unary + _binary_score(tag_indices, sequence_lengths, transition_params)


def _log_norm(inputs, sequence_lengths, transition_params):
    first = inputs[:, 0]
    alphas = _by_max_seq_len(
        inputs,
        lambda: first,
        lambda: _forward(inputs[:, 1:], first, transition_params, sequence_lengths),
    )
    log_norm = tf.reduce_logsumexp(alphas, axis=1)
    return tf.where(sequence_lengths <= 0, tf.zeros_like(log_norm), log_norm)


def _forward(inputs, state, transition_params, sequence_lengths):
    """One `tf.scan` over the time-major steps; the alphas at `length - 1` are gathered after.

    Each step's log-sum-exp over the previous tags is a matrix product in probability space,
    `log(exp(alphas - max) @ exp(transitions - max_t)) + max + max_t`: the same value as the
    `[batch, tags, tags]` log-sum-exp (to float rounding), many times faster forward and
    backward. A tag that no previous tag can reach (every transition into it `exp`-underflows)
    gets `log(tiny)` relative to the others, not `-inf`: the same log-norm in floating point,
    and finite gradients.
    """
    transitions_max = tf.reduce_max(transition_params)
    exp_transitions = tf.exp(transition_params - transitions_max)
    tiny = np.finfo(inputs.dtype.as_numpy_dtype).tiny

    def step(alphas, unary):
        # All-`-inf` rows (every tag filtered out) keep their `-inf`s without NaNs.
        peak = tf.reduce_max(alphas, axis=1, keepdims=True)
        peak = tf.where(tf.math.is_finite(peak), peak, tf.zeros_like(peak))
        summed = tf.matmul(tf.exp(alphas - peak), exp_transitions)
        return unary + peak + transitions_max + tf.math.log(tf.maximum(summed, tiny))

    all_alphas = tf.scan(step, tf.transpose(inputs, [1, 0, 2]), state)
    all_alphas = tf.concat([state[tf.newaxis], all_alphas], axis=0)
    last = tf.maximum(sequence_lengths - 1, 0)
    batch = tf.range(tf.shape(last)[0])
    return tf.gather_nd(all_alphas, tf.stack([last, batch], axis=1))
