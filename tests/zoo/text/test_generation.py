"""The generation loop and samplers, on a bigram "model" whose logits depend on the last token."""

import numpy as np
import pytest
import tensorflow as tf

from zoo.text.generation import (
    TopKSampler,
    TopPSampler,
    generate_ids,
    get_sampler,
)

VOCAB = 11


def bigram_table(seed=0):
    return np.random.default_rng(seed).normal(size=(VOCAB, VOCAB)).astype("float32") * 3


def bigram_step(table):
    table = tf.constant(table)

    def step(token_ids, state, index):
        # The state counts the steps per row, to check it is carried (and reordered for beams).
        return tf.gather(table, token_ids), {"steps": state["steps"] + 1}

    return step


def run(table, prompts, max_length, **kwargs):
    prompts = np.asarray(prompts, "int32")
    ids = np.zeros((len(prompts), max_length), "int32")
    ids[:, : prompts.shape[1]] = prompts
    state = {"steps": tf.zeros([len(prompts)], tf.int32)}

    @tf.function(jit_compile=True)
    def generate(ids):
        return generate_ids(bigram_step(table), state, ids, prompts.shape[1], **kwargs)

    return generate(tf.constant(ids)).numpy()


def numpy_greedy(table, prompts, max_length, end=None, pad=0):
    out = []
    for row in prompts:
        row, done = list(row), False
        while len(row) < max_length:
            token = pad if done else int(np.argmax(table[row[-1]]))
            done = done or token == end
            row.append(token)
        out.append(row)
    return np.array(out)


def numpy_beam(table, prompt, max_length, num_beams, end):
    """Exhaustive search: the finished hypothesis with the best length-normalised score."""
    log_probs = table - np.log(np.exp(table).sum(-1, keepdims=True))
    best, best_score = None, -np.inf
    stack = [(list(prompt), 0.0)]
    while stack:
        row, score = stack.pop()
        for token in range(VOCAB):
            new, new_score = row + [token], score + log_probs[row[-1], token]
            if token == end or len(new) == max_length:
                normalised = new_score / (len(new) - len(prompt))
                if normalised > best_score:
                    best, best_score = new + [0] * (max_length - len(new)), normalised
            else:
                stack.append((new, new_score))
    return best


def test_greedy_equals_a_python_loop_and_stops_per_row():
    table = bigram_table()
    prompts = [[1, 2], [3, 4], [5, 6]]
    end = int(np.argmax(table[np.argmax(table[4])]))  # row 1 ends two tokens in
    expected = numpy_greedy(table, prompts, 9, end=end, pad=7)
    np.testing.assert_array_equal(
        run(table, prompts, 9, end_token_id=end, pad_token_id=7), expected
    )
    np.testing.assert_array_equal(run(table, prompts, 9), numpy_greedy(table, prompts, 9))


def test_beam_search_finds_the_best_hypothesis():
    # A width as wide as the vocabulary's continuations makes beam search exhaustive here.
    table = bigram_table(1)
    end = 3
    ids = run(table, [[1, 2]], 5, sampler="beam", num_beams=VOCAB, end_token_id=end)
    np.testing.assert_array_equal(ids[0], numpy_beam(table, [1, 2], 5, VOCAB, end))
    # One beam is greedy search.
    np.testing.assert_array_equal(
        run(table, [[1, 2], [4, 5]], 7, sampler="beam", num_beams=1),
        numpy_greedy(table, [[1, 2], [4, 5]], 7),
    )


def test_sampling_is_seed_reproducible_and_respects_top_k_and_top_p():
    table = bigram_table(2)
    prompts = [[1], [2], [3], [4]]
    first = run(table, prompts, 12, sampler="top_k", top_k=3, seed=5)
    np.testing.assert_array_equal(first, run(table, prompts, 12, sampler="top_k", top_k=3, seed=5))
    assert not np.array_equal(first, run(table, prompts, 12, sampler="top_k", top_k=3, seed=6))
    allowed = np.argsort(-table, axis=-1)[:, :3]
    for row in first:
        for previous, token in zip(row[:-1], row[1:], strict=True):
            assert token in allowed[previous]
    logits = tf.constant([[4.0, 3.0, 1.0, 0.0]])
    probabilities = tf.nn.softmax(logits).numpy()[0]  # ~[.71, .26, .03, .01]
    kept = np.isfinite(TopPSampler(p=0.9).filter_logits(logits).numpy()[0])
    np.testing.assert_array_equal(kept, [True, True, False, False])
    assert probabilities[0] < 0.9
    kept = np.isfinite(TopKSampler(k=1).filter_logits(logits).numpy()[0])
    np.testing.assert_array_equal(kept, [True, False, False, False])
    draws = run(table, prompts, 12, sampler="random", temperature=1e-3, seed=1)
    np.testing.assert_array_equal(draws, numpy_greedy(table, prompts, 12))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sampler": "nucleus"}, "sampler='nucleus'"),
        ({"sampler": "beam", "num_beams": 0}, "num_beams=0"),
        ({"sampler": "top_p", "top_p": 1.5}, "top_p=1.5"),
        ({"sampler": "top_p", "top_p": 0.0}, "top_p=0.0"),
        ({"sampler": "random", "temperature": 0}, "temperature=0"),
    ],
)
def test_bad_sampler_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        get_sampler(**kwargs)
