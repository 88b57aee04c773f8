"""Skip-gram sampling: TFA's pairs where they are not random (fixtures), the random draws by
their properties, graphs and `tf.data`, bad input."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from layers.text import skip_gram_sample, skip_gram_sample_with_text_vocab

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "text_ops.npz")
WORDS = tf.constant(["the", "quick", "brown", "fox", "jumps"])


def _fixture(prefix: str) -> dict:
    with np.load(FIXTURE) as fixture:
        return {k[len(prefix) :]: fixture[k] for k in fixture.files if k.startswith(prefix)}


def _cases(group: str) -> list[dict]:
    entries = _fixture(group + "/")
    count = len({key.split("/")[0] for key in entries})
    return [
        {k.split("/", 1)[1]: v for k, v in entries.items() if k.startswith(f"{i}/")}
        for i in range(count)
    ]


def _table(keys, values) -> tf.lookup.StaticHashTable:
    return tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, values), -1)


def _assert_pairs(output, tokens, labels):
    np.testing.assert_array_equal(output[0].numpy(), tokens)
    np.testing.assert_array_equal(output[1].numpy(), labels)


@pytest.mark.parametrize("case", _cases("skip_gram"), ids=lambda case: str(case["kwargs"]))
def test_matches_tensorflow_addons(case):
    kwargs = json.loads(str(case["kwargs"]))
    if "vocab_keys" in case:
        kwargs["vocab_freq_table"] = _table(case["vocab_keys"], case["vocab_values"])
    output = skip_gram_sample(tf.constant(case["input"]), **kwargs)
    assert output[0].dtype == tf.as_dtype(case["input"].dtype)
    _assert_pairs(output, case["tokens"], case["labels"])


@pytest.mark.parametrize("case", _cases("skip_gram_vocab"), ids=lambda case: str(case["kwargs"]))
def test_with_text_vocab_matches_tensorflow_addons(case, tmp_path):
    path = tmp_path / "vocab.csv"
    path.write_text(str(_fixture("vocab_file")[""]))
    kwargs = json.loads(str(case["kwargs"]))
    output = skip_gram_sample_with_text_vocab(tf.constant(case["input"]), str(path), **kwargs)
    _assert_pairs(output, case["tokens"], case["labels"])


def test_tfa_docstring_example():
    tokens, labels = skip_gram_sample(WORDS, min_skips=2, max_skips=2, emit_self_as_target=True)
    quick = tokens.numpy() == b"quick"
    np.testing.assert_array_equal(labels.numpy()[quick], [b"the", b"quick", b"brown", b"fox"])


def test_random_windows_cover_each_drawn_window():
    """Every token is paired with exactly the neighbours within one window size in
    [min_skips, max_skips] (clipped at the ends); the sizes are uniform, as TFA's are."""
    n = 2000
    tokens, labels = skip_gram_sample(tf.range(n), min_skips=1, max_skips=4, seed=7)
    tokens, labels = tokens.numpy(), labels.numpy()
    assert np.all(np.abs(tokens - labels) >= 1) and np.all(np.abs(tokens - labels) <= 4)
    sizes = []
    for i in range(n):
        neighbours = labels[tokens == i]
        size = np.abs(neighbours - i).max()
        expected = [j for j in range(i - size, i + size + 1) if j != i and 0 <= j < n]
        np.testing.assert_array_equal(neighbours, expected)
        if size < i < n - size - 1:
            sizes.append(size)
    histogram = np.bincount(sizes, minlength=5)[1:] / len(sizes)
    tfa = _fixture("window/skips_histogram")[""][1:]
    np.testing.assert_allclose(histogram, 0.25, atol=0.04)
    np.testing.assert_allclose(histogram, tfa / tfa.sum(), atol=0.05)


def test_subsampling_keeps_tokens_at_tfa_rates():
    """Each token survives with probability min(1, (sqrt(f/(t N)) + 1) t N / f), as in TFA
    (its empirical rates over the same number of draws are the fixture)."""
    want = _fixture("subsample/")
    tokens, freq = want["tokens"], want["freq"]
    t, corpus = float(want["vocab_subsampling"]), float(want["corpus_size"])
    table = _table(tokens, freq)
    sentence = tf.constant(np.tile(tokens, int(want["repeats"])))
    kept, _ = skip_gram_sample(
        sentence,
        min_skips=0,
        max_skips=0,
        emit_self_as_target=True,
        vocab_freq_table=table,
        vocab_subsampling=t,
        corpus_size=corpus,
        seed=11,
    )
    kept = kept.numpy()
    rates = np.array([np.sum(kept == token) for token in tokens]) / int(want["repeats"])
    formula = np.minimum(1.0, (np.sqrt(freq / (t * corpus)) + 1) * t * corpus / freq)
    np.testing.assert_allclose(rates, formula, atol=0.025)  # 4000 draws: sd <= 0.008
    np.testing.assert_allclose(rates, want["kept"], atol=0.035)


def test_same_seed_same_pairs():
    first = skip_gram_sample(tf.range(50), min_skips=1, max_skips=5, seed=3)
    again = skip_gram_sample(tf.range(50), min_skips=1, max_skips=5, seed=3)
    other = skip_gram_sample(tf.range(50), min_skips=1, max_skips=5, seed=4)
    _assert_pairs(again, first[0].numpy(), first[1].numpy())
    assert first[0].shape != other[0].shape or not np.array_equal(first[1], other[1])
    unseeded = [skip_gram_sample(tf.range(50), min_skips=1, max_skips=5)[1] for _ in range(2)]
    assert unseeded[0].shape != unseeded[1].shape or not np.array_equal(*unseeded)


def test_runs_in_tf_data_and_tf_function():
    table = _table(["a", "b", "c"], tf.constant([5, 1, 9], tf.int64))
    sentences = tf.constant([["a", "x", "b", "c"], ["c", "c", "a", "b"]])

    def pairs(sentence):
        return skip_gram_sample(
            sentence, min_skips=1, max_skips=2, vocab_freq_table=table, vocab_min_count=2, seed=5
        )

    mapped = list(tf.data.Dataset.from_tensor_slices(sentences).map(pairs))
    for sentence, (tokens, labels) in zip(sentences, mapped, strict=True):
        _assert_pairs(tf.function(pairs)(sentence), tokens.numpy(), labels.numpy())
        _assert_pairs(pairs(sentence), tokens.numpy(), labels.numpy())
    assert b"b" not in mapped[0][0].numpy() and b"x" not in mapped[0][0].numpy()


def test_tensor_skips_are_checked_in_the_graph():
    with pytest.raises(tf.errors.InvalidArgumentError, match="min_skips must be <= max_skips"):
        skip_gram_sample(WORDS, min_skips=tf.constant(3), max_skips=tf.constant(2))
    tokens, _ = skip_gram_sample(WORDS, min_skips=tf.constant(1), max_skips=tf.constant(1))
    assert len(tokens) == 8


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"min_skips": 2, "max_skips": 1}, ValueError, "min_skips=2, max_skips=1"),
        ({"min_skips": -1, "max_skips": 2}, ValueError, "min_skips=-1"),
        ({"min_skips": 1, "max_skips": -2}, ValueError, "max_skips=-2"),
        ({"start": -1}, ValueError, "start=-1"),
        ({"start": 1.5}, TypeError, "start=1.5"),
        ({"vocab_min_count": 1}, ValueError, "vocab_min_count=1"),
        ({"vocab_subsampling": 1e-5}, ValueError, "vocab_subsampling=1e-05"),
        ({"corpus_size": 100}, ValueError, "corpus_size=100"),
        ({"vocab_freq_table": {"the": 1}}, TypeError, "vocab_freq_table="),
        ({"seed": "x"}, TypeError, "seed='x'"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        skip_gram_sample(WORDS, **kwargs)


def test_bad_vocabulary_arguments(tmp_path):
    table = _table(["foo"], tf.constant([10], tf.int64))
    with pytest.raises(ValueError, match="corpus_size=None"):
        skip_gram_sample(WORDS, vocab_freq_table=table, vocab_subsampling=1e-5)
    with pytest.raises(ValueError, match="vocab_subsampling=1.5"):
        skip_gram_sample(WORDS, vocab_freq_table=table, vocab_subsampling=1.5, corpus_size=9)
    with pytest.raises(ValueError, match=r"input_tensor.shape=\(3, 1\)"):
        skip_gram_sample(tf.constant([["the"], ["quick"], ["brown"]]))
    path = tmp_path / "vocab.csv"
    path.write_text("and,40\nlife,8\n")
    for token_index, freq_index in ((-1, 0), (0, -1), (0, 0), (1, 1), (0, 2), (2, 0)):
        with pytest.raises(ValueError, match="vocab_"):
            skip_gram_sample_with_text_vocab(
                WORDS, str(path), vocab_token_index=token_index, vocab_freq_index=freq_index
            )
    with pytest.raises(ValueError, match="corpus_size=47"):
        skip_gram_sample_with_text_vocab(WORDS, str(path), vocab_subsampling=0.1, corpus_size=47)
    path.write_text("and,-4\n")
    with pytest.raises(ValueError, match="non-negative"):
        skip_gram_sample_with_text_vocab(WORDS, str(path))
