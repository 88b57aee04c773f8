"""The CRF functions: TensorFlow Addons' numbers, brute force on tiny cases, graphs, XLA,
SavedModel, gradients and bad input."""

import itertools
import os
import tempfile

import numpy as np
import pytest
import tensorflow as tf

from layers.crf import (
    crf_binary_score,
    crf_constrained_decode,
    crf_decode,
    crf_decode_backward,
    crf_decode_forward,
    crf_filtered_inputs,
    crf_forward,
    crf_log_likelihood,
    crf_log_norm,
    crf_multitag_sequence_score,
    crf_sequence_score,
    crf_unary_score,
    viterbi_decode,
)

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "crf.npz")
CASES = ["main", "single"]  # 5 steps with lengths 5, 3, 1, 0, 2; 1 step with lengths 1, 0
ATOL = RTOL = 1e-5


def load(case: str) -> dict:
    with np.load(FIXTURE) as data:
        prefix = f"{case}_"
        return {k[len(prefix) :]: data[k] for k in data.files if k.startswith(prefix)}


def close(actual, expected, atol=ATOL, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(actual), expected, atol=atol, rtol=rtol)


def all_functions(d, with_forward=True):
    """Every function on one case: a dict of outputs named as in the fixture."""
    x, tags, lengths, t, bitmap = (
        d["inputs"],
        d["tag_indices"],
        d["lengths"],
        d["transitions"],
        d["bitmap"],
    )
    out = {
        "sequence_score": crf_sequence_score(x, tags, lengths, t),
        "unary_score": crf_unary_score(tags, lengths, x),
        "binary_score": crf_binary_score(tags, lengths, t),
        "log_norm": crf_log_norm(x, lengths, t),
        "log_likelihood": crf_log_likelihood(x, tags, lengths, t)[0],
        "multitag_score": crf_multitag_sequence_score(x, bitmap, lengths, t),
        "filtered_inputs": crf_filtered_inputs(x, bitmap),
        "decode_backward": crf_decode_backward(d["backpointers"], d["start"]),
    }
    out["decode_tags"], out["decode_score"] = crf_decode(x, t, lengths)
    out["constrained_tags"], out["constrained_score"] = crf_constrained_decode(
        x, bitmap, t, lengths
    )
    if with_forward and x.shape[1] > 1:
        out["forward"] = crf_forward(x[:, 1:], x[:, 0], t, lengths)
        less_one = np.maximum(lengths - 1, 0)
        out["decode_forward_bp"], out["decode_forward_state"] = crf_decode_forward(
            x[:, 1:], x[:, 0], t, less_one
        )
    return out


def assert_matches_fixture(out, d):
    for name, value in out.items():
        value = np.asarray(value)
        if np.issubdtype(value.dtype, np.integer):
            np.testing.assert_array_equal(value, d[name], err_msg=name)
        else:
            np.testing.assert_allclose(value, d[name], atol=ATOL, rtol=RTOL, err_msg=name)


# --------------------------------------------------------------------------------------------
# TensorFlow Addons' numbers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_every_function_matches_tensorflow_addons(case):
    """Lengths 0, 1 and full (and 1 step), eagerly."""
    d = load(case)
    out = all_functions(d)
    assert out["decode_tags"].dtype == tf.int32
    assert_matches_fixture(out, d)


@pytest.mark.parametrize("case", CASES)
def test_every_function_matches_in_a_graph_with_unknown_shapes(case):
    """Inside `tf.function` with every dimension unknown (TFA's `tf.cond` paths)."""
    d = load(case)
    names = ["inputs", "tag_indices", "lengths", "transitions", "bitmap", "backpointers", "start"]
    specs = [tf.TensorSpec([None] * d[n].ndim, tf.as_dtype(d[n].dtype)) for n in names]

    @tf.function(input_signature=specs)
    def run(*args):
        return all_functions({**d, **dict(zip(names, args, strict=True))}, with_forward=False)

    assert_matches_fixture(run(*[d[n] for n in names]), d)


@pytest.mark.parametrize("case", CASES)
def test_likelihood_and_decode_match_under_xla(case):
    d = load(case)
    x, tags, lengths, t = d["inputs"], d["tag_indices"], d["lengths"], d["transitions"]

    @tf.function(jit_compile=True)
    def run(x, tags, lengths, t):
        with tf.GradientTape() as tape:
            tape.watch([x, t])
            log_likelihood, _ = crf_log_likelihood(x, tags, lengths, t)
            total = tf.reduce_sum(log_likelihood)
        decoded, best = crf_decode(x, t, lengths)
        return log_likelihood, decoded, best, *tape.gradient(total, [x, t])

    log_likelihood, decoded, best, grad_x, grad_t = run(
        tf.constant(x), tf.constant(tags), tf.constant(lengths), tf.constant(t)
    )
    close(log_likelihood, d["log_likelihood"])
    np.testing.assert_array_equal(decoded, d["decode_tags"])
    close(best, d["decode_score"])
    close(grad_x, d["grad_inputs"])
    close(grad_t, d["grad_transitions"])


@pytest.mark.parametrize("case", CASES)
def test_log_likelihood_gradients_match_tensorflow_addons(case):
    d = load(case)
    x, t = tf.constant(d["inputs"]), tf.Variable(d["transitions"])
    with tf.GradientTape() as tape:
        tape.watch(x)
        log_likelihood, returned = crf_log_likelihood(x, d["tag_indices"], d["lengths"], t)
        total = tf.reduce_sum(log_likelihood)
    grad_x, grad_t = tape.gradient(total, [x, t])
    assert returned is t  # the variable given comes back
    close(grad_x, d["grad_inputs"])
    close(grad_t, d["grad_transitions"])


def test_viterbi_decode_matches_tensorflow_addons():
    d = load("main")
    for row, length in enumerate(d["lengths"]):
        if length == 0:
            continue
        tags, score = viterbi_decode(d["inputs"][row, :length], d["transitions"])
        assert tags == d["viterbi"][row, :length].tolist()
        assert all(isinstance(tag, int) for tag in tags)
        close(score, d["viterbi_score"][row])


# --------------------------------------------------------------------------------------------
# TensorFlow Addons' own test cases (tensorflow_addons/text/tests/crf_test.py)
# --------------------------------------------------------------------------------------------

TFA_INPUTS = np.array([[4, 5, -3], [3, -1, 3], [-1, 2, 1], [0, 0, 0]], "float32")
TFA_TRANSITIONS = np.array([[-3, 5, -2], [3, 4, 1], [1, 2, 1]], "float32")


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_tfa_sequence_scores(dtype):
    x, t = TFA_INPUTS.astype(dtype)[None], TFA_TRANSITIONS.astype(dtype)
    # unary 5 + 3 + 2, binary t[1, 2] + t[2, 1] = 1 + 2
    close(crf_sequence_score(x, [[1, 2, 1, 0]], [3], t), [13.0])
    close(crf_sequence_score(x[:, :1], [[1]], [1], t), [5.0])
    close(crf_unary_score(np.array([[1, 2, 1, 0]], "int64"), [3], x), [10.0])
    close(crf_binary_score([[1, 2, 1, 0]], [3], t), [3.0])
    neg_inf = -np.inf
    bitmap = [[[True, False, False], [False, True, True], [False, True, True], [False, True, True]]]
    expected = [[[4, neg_inf, neg_inf], [neg_inf, -1, 3], [neg_inf, 2, 1], [neg_inf, 0, 0]]]
    close(crf_filtered_inputs(x, bitmap), expected)


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_tfa_zero_lengths(dtype):
    ones = np.ones([2, 10, 5], dtype)
    close(crf_log_norm(ones, [0, 0], np.ones([5, 5], dtype)), [0.0, 0.0])
    tags, scores = crf_decode(ones, np.ones([5, 5], dtype), [0, 0])
    assert tags.shape == (2, 10) and scores.shape == (2,)


def test_tfa_int64_tags_and_created_transitions():
    tags = tf.ones([16, 20], tf.int64)
    log_likelihood, transitions = crf_log_likelihood(
        np.ones([16, 20, 5], "float32"), tags, np.full([16], 20, "int64")
    )
    # As TFA: a new trainable Glorot-uniform [num_tags, num_tags] variable, and the
    # likelihood it gives.
    assert isinstance(transitions, tf.Variable) and transitions.trainable
    assert transitions.shape == (5, 5)
    limit = np.sqrt(6 / 10)
    assert np.all(np.abs(transitions.numpy()) <= limit)
    again, _ = crf_log_likelihood(np.ones([16, 20, 5], "float32"), tags, [20] * 16, transitions)
    close(log_likelihood, again)


def test_tfa_decode_with_an_input_signature_and_one_step():
    specs = (
        tf.TensorSpec([None, None, 10]),
        tf.TensorSpec([10, 10]),
        tf.TensorSpec([None], tf.int32),
    )
    decode = tf.function(crf_decode, input_signature=specs)
    potentials = tf.random.uniform([4, 1, 10])
    tags, best = decode(potentials, tf.random.uniform([10, 10]), tf.ones([4], tf.int32))
    np.testing.assert_array_equal(tags[:, 0], tf.argmax(potentials[:, 0], axis=1))
    close(best, tf.reduce_max(potentials[:, 0], axis=1))


# --------------------------------------------------------------------------------------------
# Brute force over every tag sequence (num_tags 3, length <= 4)
# --------------------------------------------------------------------------------------------


def brute_force(x, t, length, allowed=None):
    """Scores of every tag sequence of `length` (restricted to `allowed` tags per step)."""
    choices = [
        np.flatnonzero(allowed[i]) if allowed is not None else range(3) for i in range(length)
    ]
    sequences, scores = [], []
    for tags in itertools.product(*choices):
        score = sum(x[i, tag] for i, tag in enumerate(tags))
        score += sum(t[a, b] for a, b in zip(tags[:-1], tags[1:], strict=True))
        sequences.append(list(tags))
        scores.append(score)
    return sequences, np.array(scores, "float64")


@pytest.mark.parametrize("length", [1, 2, 3, 4])
def test_brute_force_log_norm_decode_and_multitag(length):
    rng = np.random.default_rng(length)
    x = rng.normal(size=(2, 4, 3)).astype("float32") * 2
    t = rng.normal(size=(3, 3)).astype("float32")
    allowed = rng.random(size=(2, 4, 3)) < 0.6
    allowed[:, :, 0] = True
    lengths = [length, length]
    log_norm = crf_log_norm(x, lengths, t).numpy()
    tags, best = crf_decode(x, t, lengths)
    multitag = crf_multitag_sequence_score(x, allowed, lengths, t).numpy()
    for row in range(2):
        sequences, scores = brute_force(x[row], t, length)
        close(log_norm[row], np.logaddexp.reduce(scores))
        top = int(np.argmax(scores))
        assert tags[row, :length].numpy().tolist() == sequences[top]
        assert np.all(tags[row, length:].numpy() == 0)
        close(best[row], scores[top])
        _, allowed_scores = brute_force(x[row], t, length, allowed[row])
        close(multitag[row], np.logaddexp.reduce(allowed_scores))
        probabilities = np.exp(
            [
                crf_log_likelihood(x[row : row + 1], [s + [0] * (4 - length)], [length], t)[0][0]
                for s in sequences
            ]
        )
        close(probabilities.sum(), 1.0)


# --------------------------------------------------------------------------------------------
# Graphs: SavedModel, gradients
# --------------------------------------------------------------------------------------------


class Decoder(tf.Module):
    def __init__(self, transitions):
        super().__init__()
        self.transitions = tf.Variable(transitions)

    @tf.function(input_signature=[tf.TensorSpec([None, None, 3]), tf.TensorSpec([None], tf.int32)])
    def decode(self, potentials, lengths):
        return crf_decode(potentials, self.transitions, lengths)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None, 3]),
            tf.TensorSpec([None, None], tf.int32),
            tf.TensorSpec([None], tf.int32),
        ]
    )
    def log_likelihood(self, potentials, tags, lengths):
        return crf_log_likelihood(potentials, tags, lengths, self.transitions)[0]


def test_decode_and_likelihood_in_a_saved_model():
    d = load("main")
    with tempfile.TemporaryDirectory() as directory:
        tf.saved_model.save(Decoder(d["transitions"]), directory)
        loaded = tf.saved_model.load(directory)
        tags, best = loaded.decode(d["inputs"], d["lengths"])
        log_likelihood = loaded.log_likelihood(d["inputs"], d["tag_indices"], d["lengths"])
    np.testing.assert_array_equal(tags, d["decode_tags"])
    close(best, d["decode_score"])
    close(log_likelihood, d["log_likelihood"])


def test_gradients_flow_and_stay_finite_with_filtered_inputs():
    d = load("main")
    x = tf.Variable(d["inputs"])
    t = tf.Variable(d["transitions"])
    bitmap = d["bitmap"]
    with tf.GradientTape() as tape:
        score = crf_multitag_sequence_score(x, bitmap, d["lengths"], t)
        log_likelihood = score - crf_log_norm(x, d["lengths"], t)
        loss = -tf.reduce_sum(log_likelihood)
    grad_x, grad_t = tape.gradient(loss, [x, t])
    assert np.all(np.isfinite(grad_x)) and np.all(np.isfinite(grad_t))
    assert np.any(grad_t.numpy() != 0)
    # Steps past a sequence's length get no gradient.
    np.testing.assert_array_equal(grad_x.numpy()[3], 0)  # length 0
    np.testing.assert_array_equal(grad_x.numpy()[1, 3:], 0)  # length 3


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def test_tag_indices_out_of_range():
    x, t = np.zeros([1, 3, 3], "float32"), np.zeros([3, 3], "float32")
    with pytest.raises(ValueError, match=r"tag_indices.*\[0, num_tags=3\).*value 3"):
        crf_log_likelihood(x, [[0, 3, 1]], [3], t)
    with pytest.raises(ValueError, match=r"tag_indices.*value -1"):
        crf_sequence_score(x, [[0, -1, 1]], [3], t)
    with pytest.raises(TypeError, match="tag_indices"):
        crf_sequence_score(x, [[0.0, 1.0, 1.0]], [3], t)
    graph = tf.function(lambda tags: crf_log_likelihood(x, tags, [3], t)[0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="tag_indices"):
        graph(tf.constant([[0, 5, 1]]))


def test_sequence_lengths_out_of_range():
    x, t = np.zeros([2, 3, 3], "float32"), np.zeros([3, 3], "float32")
    with pytest.raises(ValueError, match=r"sequence_lengths.*max_seq_len=3.*value 4"):
        crf_log_norm(x, [3, 4], t)
    with pytest.raises(ValueError, match=r"sequence_length\b.*value -1"):
        crf_decode(x, t, [-1, 2])
    graph = tf.function(lambda lengths: crf_decode(x, t, lengths)[0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="sequence_length"):
        graph(tf.constant([2, 7]))


def test_transition_matrix_and_inputs_of_the_wrong_shape():
    x = np.zeros([2, 3, 3], "float32")
    with pytest.raises(ValueError, match=r"transition_params.*\(3, 3\).*shape=\(2, 3\)"):
        crf_log_likelihood(x, [[0, 1, 2]] * 2, [3, 3], np.zeros([2, 3], "float32"))
    with pytest.raises(ValueError, match=r"transition_params.*shape=\(4, 4\)"):
        crf_decode(x, np.zeros([4, 4], "float32"), [3, 3])
    with pytest.raises(ValueError, match=r"potentials.*Received: potentials.shape=\(3, 3\)"):
        crf_decode(x[0], np.zeros([3, 3], "float32"), [3, 3])
    with pytest.raises(TypeError, match=r"inputs.*int32"):
        crf_log_norm(np.zeros([2, 3, 3], "int32"), [3, 3], np.zeros([3, 3], "float32"))
    with pytest.raises(ValueError, match="tag_bitmap"):
        crf_filtered_inputs(x, np.ones([2, 3, 2], bool))
