"""The generation loop: one `tf.while_loop` over positions, around a model's cached step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from layers.validation import check_optional_seed
from zoo.text.generation.beam import beam_search, keep_shapes
from zoo.text.generation.samplers import BeamSampler, Sampler, get_sampler

StepFn = Callable[[tf.Tensor, Any, tf.Tensor], tuple[tf.Tensor, Any]]


def seed_tensor(seed: int | None) -> tf.Tensor:
    """The int32 base seed of a generation: `seed`, or one drawn at random per call."""
    check_optional_seed("seed", seed)
    if seed is None:
        return tf.random.uniform([], maxval=2**31 - 1, dtype=tf.int32)
    return tf.constant(seed, tf.int32)


def generate_ids(
    step_fn: StepFn,
    state: Any,
    token_ids: tf.Tensor,
    start_index: int | tf.Tensor,
    sampler: str | Sampler = "greedy",
    end_token_id: int | None = None,
    pad_token_id: int = 0,
    seed: int | None = None,
    num_beams: int = 1,
    length_penalty: float = 1.0,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> tf.Tensor:
    """Fills `token_ids` from `start_index` to its end, one token per step of `step_fn`.

    The loop is one `tf.while_loop`: call it inside a `tf.function` (XLA compiles it) together
    with the model's prefill. Each step gets the token at `index - 1` and the model's state (its
    key/value cache), returns the logits for `index` and the new state; the sampler picks the
    token. A row that produced `end_token_id` is finished: its later positions get
    `pad_token_id`, and the loop stops once every row is finished.

    Args:
        step_fn: `step_fn(token_ids, state, index) -> (logits, state)`: `token_ids` int32 `[B]`
            (the token at `index - 1`), `state` a nest of batch-major tensors, `index` an int32
            scalar; `logits` float `[B, vocab]` for position `index`.
        state: the initial state, after the model's prefill of the prompt.
        token_ids: int32 `[B, max_length]`: the prompt in `[0, start_index)`, anything after.
        start_index: first position to generate (the padded prompt length).
        sampler: a name (`"greedy"`, `"random"`, `"top_k"`, `"top_p"`, `"beam"`) or a `Sampler`.
        end_token_id: id that finishes a row. Defaults to `None` (rows run to the end).
        pad_token_id: id written after a row finished. Defaults to `0`.
        seed: makes the random samplers reproducible. Defaults to `None` (a new draw per call).
        num_beams: beam width of beam search; above 1 with `"greedy"` means beam search.
        length_penalty: beam search's length normalisation exponent. Defaults to `1.0`.
        temperature, top_k, top_p: settings of the named samplers (see `get_sampler`).

    Returns:
        int32 `[B, max_length]`: the prompt followed by the generated tokens.

    Example:

    ```python
    @tf.function(jit_compile=True)
    def generate(prompt_ids):
        ids = tf.pad(prompt_ids, [[0, 0], [0, 24]])
        logits, cache = model.prefill(prompt_ids[:, :-1])
        return generate_ids(model.step, cache, ids, start_index=8, end_token_id=50256)
    ```
    """
    sampler = get_sampler(
        sampler,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        num_beams=num_beams,
        length_penalty=length_penalty,
    )
    token_ids = tf.convert_to_tensor(token_ids, tf.int32)
    start_index = tf.convert_to_tensor(start_index, tf.int32)
    if isinstance(sampler, BeamSampler):
        return beam_search(
            step_fn, state, token_ids, start_index, sampler, end_token_id, pad_token_id
        )
    base_seed = seed_tensor(seed) if sampler.stochastic else None
    batch_size, max_length = tf.shape(token_ids)[0], tf.shape(token_ids)[1]
    positions = tf.range(max_length)[None, :]

    def condition(index, ids, state, finished):
        return (index < max_length) & ~tf.reduce_all(finished)

    def body(index, ids, state, finished):
        previous = tf.gather(ids, index - 1, axis=1)
        logits, state = step_fn(previous, state, index)
        step_seed = None if base_seed is None else tf.stack([base_seed, index])
        next_ids = sampler(logits, step_seed)
        next_ids = tf.where(finished, pad_token_id, next_ids)
        if end_token_id is not None:
            finished = finished | tf.equal(next_ids, end_token_id)
        ids = tf.where(tf.equal(positions, index), next_ids[:, None], ids)
        return keep_shapes((index + 1, ids, state, finished), initial)

    initial = (start_index, token_ids, state, tf.zeros([batch_size], tf.bool))
    end, ids, _, _ = tf.while_loop(condition, body, initial)
    # Once every row finished, the positions the loop did not reach are padding.
    return tf.where(positions >= end, pad_token_id, ids)
