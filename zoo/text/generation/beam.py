"""Beam search inside one `tf.while_loop`, step for step what Hugging Face's `generate` does.

The search follows `transformers`' vectorised beam search (early_stopping=False): at each
position the `2 * num_beams` best continuations of all running beams are scored; those that end
(end token, or the last position) enter the finished set with score `sum(log p) /
generated_length ** length_penalty`, the best `num_beams` others keep running, and the model's
state (its key/value cache) is reordered to follow them. A row stops when its best running
beam can no longer beat its worst finished one.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

NEG = -1.0e9


def keep_shapes(new: Any, old: Any) -> Any:
    """`new` with the static shapes of `old` (gathers lose a static batch size in a loop)."""
    return tf.nest.map_structure(lambda n, o: tf.ensure_shape(n, o.shape), new, old)


def _gather_beams(values: tf.Tensor, indices: tf.Tensor) -> tf.Tensor:
    """`values[b, indices[b, j]]` for `values [B, K, ...]` and `indices [B, J]`."""
    return tf.gather(values, indices, batch_dims=1)


def beam_search(
    step_fn,
    state: Any,
    token_ids: tf.Tensor,
    start_index: tf.Tensor,
    sampler,
    end_token_id: int | None,
    pad_token_id: int,
) -> tf.Tensor:
    """Beam search over `step_fn` (see `generate_ids` for the arguments); returns the best
    finished hypothesis per row, int32 `[B, max_length]`, padded with `pad_token_id`.

    `state` is given for `B` rows; each row is repeated `num_beams` times (axis 0 of every
    state tensor) and reordered with `tf.gather` as beams are chosen.

    Example:

    ```python
    ids = beam_search(model.step, cache, ids, 8, BeamSampler(num_beams=3), 50256, 50256)
    ```
    """
    num_beams, length_penalty = sampler.num_beams, sampler.length_penalty
    keep = 2 * num_beams
    batch_size, max_length = tf.shape(token_ids)[0], tf.shape(token_ids)[1]
    positions = tf.range(max_length)
    token_ids = tf.where(positions[None, :] >= start_index, pad_token_id, token_ids)
    running = tf.repeat(token_ids[:, None, :], num_beams, axis=1)  # [B, K, L]
    state = tf.nest.map_structure(lambda t: tf.repeat(t, num_beams, axis=0), state)
    running_scores = tf.tile(
        tf.constant([[0.0] + [NEG] * (num_beams - 1)], tf.float32), [batch_size, 1]
    )
    finished_ids = running
    finished_scores = tf.fill([batch_size, num_beams], NEG)
    is_finished = tf.zeros([batch_size, num_beams], tf.bool)
    improvable = tf.ones([batch_size, 1], tf.bool)
    hits = tf.zeros([batch_size, keep], tf.bool)
    top_mask = tf.range(keep) < num_beams
    start = tf.cast(start_index, tf.float32)

    def condition(index, *loop):
        hits, improvable = loop[-2], loop[-1]
        return (index < max_length) & tf.reduce_any(improvable) & ~tf.reduce_all(hits)

    def body(index, running, running_scores, finished_ids, finished_scores, is_finished, state,
             hits, improvable):  # fmt: skip
        previous = tf.reshape(tf.gather(running, index - 1, axis=2), [-1])
        logits, state = step_fn(previous, state, index)
        vocabulary = tf.shape(logits)[-1]
        log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
        log_probs = tf.reshape(log_probs, [batch_size, num_beams, vocabulary])
        log_probs = tf.reshape(log_probs + running_scores[:, :, None], [batch_size, -1])
        top = tf.math.top_k(log_probs, k=keep)
        origin = top.indices // vocabulary  # [B, 2K]: the beam each candidate extends
        tokens = top.indices % vocabulary
        candidates = _gather_beams(running, origin)
        candidates = tf.where(positions[None, None, :] == index, tokens[:, :, None], candidates)
        hits = tf.fill(tf.shape(tokens), index + 1 >= max_length)
        if end_token_id is not None:
            hits = hits | tf.equal(tokens, end_token_id)

        # The best `num_beams` candidates that did not end keep running; the cache follows them.
        running_candidates = top.values + tf.cast(hits, tf.float32) * NEG
        chosen = tf.math.top_k(running_candidates, k=num_beams).indices
        running = _gather_beams(candidates, chosen)
        running_scores = _gather_beams(running_candidates, chosen)
        beam_rows = _gather_beams(origin, chosen) + tf.range(batch_size)[:, None] * num_beams
        state = tf.nest.map_structure(
            lambda t: tf.gather(t, tf.reshape(beam_rows, [-1]), axis=0), state
        )

        # Candidates among the top `num_beams` that ended join the finished hypotheses.
        just_finished = hits & top_mask[None, :]
        length = tf.cast(index, tf.float32) + 1.0 - start
        scores = top.values / length**length_penalty
        scores += tf.cast(~improvable, tf.float32) * NEG
        scores += tf.cast(~just_finished, tf.float32) * NEG
        merged_scores = tf.concat([finished_scores, scores], axis=1)
        best = tf.math.top_k(merged_scores, k=num_beams).indices
        finished_ids = _gather_beams(tf.concat([finished_ids, candidates], axis=1), best)
        finished_scores = _gather_beams(merged_scores, best)
        is_finished = _gather_beams(tf.concat([is_finished, just_finished], axis=1), best)

        index += 1
        best_possible = (
            running_scores[:, :1] / (tf.cast(index, tf.float32) - start) ** length_penalty
        )
        worst = tf.where(is_finished, tf.reduce_min(finished_scores, axis=1, keepdims=True), NEG)
        improvable = improvable & tf.reduce_any(best_possible > worst, axis=-1, keepdims=True)
        new = (index, running, running_scores, finished_ids, finished_scores, is_finished,
               state, hits, improvable)  # fmt: skip
        return keep_shapes(new, initial)

    initial = (start_index, running, running_scores, finished_ids, finished_scores, is_finished,
               state, hits, improvable)  # fmt: skip
    loop = tf.while_loop(condition, body, initial)
    return loop[3][:, 0, :]
