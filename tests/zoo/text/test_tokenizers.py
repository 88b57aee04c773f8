"""WordPiece tokenizer, vocabulary training, the preprocessor and a served raw-string classifier."""

import os

import numpy as np
import pytest
import tensorflow as tf

import serving
import zoo.text
from tests import harness

CORPUS = os.path.join(os.path.dirname(zoo.text.__file__), "data", "tiny_corpus.txt")
VOCABULARY = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    "the", "cat", "sat", "on", "mat", "play", "##ing", "##s", "dog", ".", "!",
]  # fmt: skip


@pytest.fixture(scope="module")
def tokenizer():
    return zoo.text.WordPieceTokenizer(VOCABULARY)


def test_wordpiece_splits_words_into_known_pieces(tokenizer):
    ids = tokenizer(tf.constant(["The cat sat on the mat.", "Dogs playing!", "zebra"]))
    expected = [[5, 6, 7, 8, 5, 9, 14], [13, 12, 10, 11, 15], [1]]
    assert ids.to_list() == expected


def test_round_trip_through_detokenize(tokenizer):
    text = tf.constant(["the cat sat on the mat .", "dogs playing !"])
    assert tokenizer.detokenize(tokenizer(text)).numpy().tolist() == [
        b"the cat sat on the mat .",
        b"dogs playing !",
    ]


def test_vocabulary_file_and_missing_special_tokens(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(VOCABULARY) + "\n")
    assert zoo.text.WordPieceTokenizer(str(path)).vocabulary == VOCABULARY
    with pytest.raises(ValueError, match=r"lacks the special token\(s\) \['\[MASK\]'\]"):
        zoo.text.WordPieceTokenizer([t for t in VOCABULARY if t != "[MASK]"])


def test_trained_vocabulary_covers_the_corpus():
    with open(CORPUS) as f:
        lines = f.read().splitlines()
    vocabulary = zoo.text.train_wordpiece_vocabulary(lines, vocabulary_size=120)
    assert vocabulary[:5] == list(zoo.text.SPECIAL_TOKENS)
    assert len(vocabulary) <= 120 and "the" in vocabulary
    tokenizer = zoo.text.WordPieceTokenizer(vocabulary)
    ids = tokenizer(tf.constant(lines[:20])).flat_values.numpy()
    assert not np.any(ids == tokenizer.token_to_id("[UNK]"))
    with pytest.raises(ValueError, match="Received: vocabulary_size=3"):
        zoo.text.train_wordpiece_vocabulary(lines, vocabulary_size=3)


def test_preprocessor_adds_special_tokens_and_pads(tokenizer):
    preprocessor = zoo.text.BertPreprocessor(tokenizer, sequence_length=8)
    out = preprocessor(tf.constant(["the cat sat", "the cat sat on the mat on the mat"]))
    np.testing.assert_array_equal(
        out["token_ids"], [[2, 5, 6, 7, 3, 0, 0, 0], [2, 5, 6, 7, 8, 5, 9, 3]]
    )
    np.testing.assert_array_equal(out["padding_mask"], [[1] * 5 + [0] * 3, [1] * 8])
    np.testing.assert_array_equal(out["segment_ids"], np.zeros((2, 8)))


def test_preprocessor_pairs_truncate_round_robin(tokenizer):
    preprocessor = zoo.text.BertPreprocessor(tokenizer, sequence_length=8)
    out = preprocessor((tf.constant(["the cat sat on the mat"]), tf.constant(["dog"])))
    # [CLS] a a a a [SEP] b [SEP]: the long first segment is cut, the short one kept.
    np.testing.assert_array_equal(out["token_ids"], [[2, 5, 6, 7, 8, 3, 13, 3]])
    np.testing.assert_array_equal(out["segment_ids"], [[0, 0, 0, 0, 0, 0, 1, 1]])
    with pytest.raises(ValueError, match="Received: sequence_length=2"):
        zoo.text.BertPreprocessor(tokenizer, sequence_length=2)


def test_tokenizer_and_preprocessor_configs_round_trip(tokenizer):
    preprocessor = zoo.text.BertPreprocessor(tokenizer, sequence_length=8)
    config = harness.assert_config_round_trip(preprocessor, {"sequence_length": 8})
    clone = zoo.text.BertPreprocessor.from_config(config)
    text = tf.constant(["the dog sat"])
    np.testing.assert_array_equal(clone(text)["token_ids"], preprocessor(text)["token_ids"])


@pytest.fixture(scope="module")
def raw_string_export(tokenizer, tmp_path_factory):
    """A BERT classifier exported with its tokenizer: (base directory, SavedModel path, texts,
    the Keras model's outputs for them)."""
    base_dir = tmp_path_factory.mktemp("served")
    backbone = zoo.text.BertBackbone(len(VOCABULARY), 1, 2, 16, 32, max_sequence_length=16)
    classifier = zoo.text.BertClassifier(backbone, num_classes=3)
    preprocessor = zoo.text.BertPreprocessor(tokenizer, sequence_length=16)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def preprocess(text):
        return preprocessor(text)

    classifier.preprocessor = preprocessor  # tracked, so the vocabulary table is exported
    path = serving.export(classifier, str(base_dir), "sentiment", preprocess=preprocess)
    texts = np.array([b"the cat sat on the mat", b"dogs playing!"])
    expected = classifier.predict(preprocessor(tf.constant(texts)), verbose=0)
    return str(base_dir), path, texts, expected


def test_exported_classifier_takes_raw_strings(raw_string_export):
    _, path, texts, expected = raw_string_export
    signature = tf.saved_model.load(path).signatures["serving_default"]
    (answer,) = signature(text=tf.constant(texts)).values()
    np.testing.assert_allclose(answer, expected, atol=1e-5)


def test_served_classifier_takes_raw_strings(raw_string_export):
    base_dir, _, texts, expected = raw_string_export
    with serving.local_server(base_dir, startup_timeout=60) as server:
        answer = serving.Client(server.url, "sentiment").predict({"text": texts})
    np.testing.assert_allclose(answer, expected, atol=1e-5)
