"""Byte-level BPE tokenizer and RoBERTa preprocessor: parity with Hugging Face, and export.

The fixture (tests/fixtures/huggingface_text/bpe/) is a 400-token byte-level BPE trained on
zoo/text/data/tiny_corpus.txt with `tokenizers` 0.23.3 and the ids `transformers` 5.24's
`RobertaTokenizer` gives for edge-case strings; make_bpe_fixtures.py wrote it.
"""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import serving
import zoo.text
from tests import harness
from zoo.text.byte_pair import bytes_to_unicode, split_like_gpt2

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "huggingface_text", "bpe")
VOCAB_PATH = os.path.join(FIXTURE, "vocab.json")
MERGES_PATH = os.path.join(FIXTURE, "merges.txt")
with open(os.path.join(FIXTURE, "expected.json"), encoding="utf-8") as _f:
    EXPECTED = json.load(_f)
TEXTS = [entry["text"] for entry in EXPECTED["texts"]]
BYTE_SYMBOLS = {symbol: i for i, symbol in enumerate(bytes_to_unicode().values())}


@pytest.fixture(scope="module")
def tokenizer():
    return zoo.text.BytePairTokenizer(VOCAB_PATH, MERGES_PATH)


@pytest.fixture(scope="module")
def preprocessor(tokenizer):
    return zoo.text.RobertaPreprocessor(tokenizer, sequence_length=EXPECTED["sequence_length"])


@pytest.mark.parametrize("add_prefix_space", [False, True])
def test_ids_match_hugging_face(add_prefix_space):
    tokenizer = zoo.text.BytePairTokenizer(
        VOCAB_PATH, MERGES_PATH, add_prefix_space=add_prefix_space
    )
    key = "ids_with_prefix_space" if add_prefix_space else "ids"
    got = tokenizer(tf.constant(TEXTS)).to_list()
    for text, ids, entry in zip(TEXTS, got, EXPECTED["texts"], strict=True):
        assert ids == entry[key], f"text {text!r}"


def test_pre_tokenization_reproduces_the_lookahead():
    # GPT-2's `\s+(?!\S)`: a whitespace run before a word leaves its last character to the word.
    text = tf.constant(["a  \n b", "It's  x\n", "x \u3000y", "", "  "])
    expected = [
        ["a", "  \n", " b"],
        ["It", "'s", " ", " x", "\n"],
        ["x", " ", "\u3000", "y"],
        [],
        ["  "],
    ]
    got = [[piece.decode() for piece in row] for row in split_like_gpt2(text).to_list()]
    assert got == expected


def test_merges_apply_lowest_rank_first_then_leftmost():
    vocabulary = {**BYTE_SYMBOLS, "ab": 256, "bc": 257, "abc": 258, "aa": 259}
    a = BYTE_SYMBOLS["a"]
    text = tf.constant(["abc", "aaa"])
    tokenizer = zoo.text.BytePairTokenizer(vocabulary, ["a b", "b c", "ab c", "a a"])
    assert tokenizer(text).to_list() == [[258], [259, a]]
    tokenizer = zoo.text.BytePairTokenizer(vocabulary, [("b", "c"), ("a", "b")])
    assert tokenizer(text).to_list() == [[a, 257], [a, a, a]]


def test_detokenize_inverts_tokenize(tokenizer):
    text = tokenizer.detokenize(tokenizer(tf.constant(TEXTS)))
    assert [t.decode("utf-8") for t in text.numpy()] == TEXTS
    ids = tf.constant([0, tokenizer.token_to_id("he"), 2])
    assert tokenizer.detokenize(ids).numpy() == b"<s>he</s>"


def test_graph_modes_and_scalars_agree(tokenizer):
    eager = tokenizer(tf.constant(TEXTS)).to_list()
    graph = tf.function(lambda text: tokenizer(text).to_tensor(-1))(tf.constant(TEXTS))
    assert [[i for i in row if i != -1] for row in graph.numpy().tolist()] == eager
    dataset = tf.data.Dataset.from_tensor_slices(TEXTS).map(tokenizer)
    assert [ids.numpy().tolist() for ids in dataset] == eager
    assert tokenizer(tf.constant(TEXTS[1])).numpy().tolist() == eager[1]


def test_in_memory_vocabulary_matches_files(tokenizer):
    with open(VOCAB_PATH, encoding="utf-8") as f:
        vocabulary = json.load(f)
    with open(MERGES_PATH, encoding="utf-8") as f:
        merges = [line for line in f.read().split("\n")[1:] if line]
    clone = zoo.text.BytePairTokenizer(vocabulary, merges)
    assert clone.merges == tokenizer.merges and clone.vocabulary == tokenizer.vocabulary
    assert clone.vocabulary_size == 400 and clone.token_to_id("<pad>") == 1


def test_config_round_trip(tokenizer):
    init = {"vocabulary": tokenizer.vocabulary, "merges": tokenizer.merges}
    config = harness.assert_config_round_trip(
        zoo.text.BytePairTokenizer(**init, add_prefix_space=True), {"add_prefix_space": True}
    )
    assert config["vocabulary"] == tokenizer.vocabulary and config["unknown_token"] == "<unk>"


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"Received: merges\[1\]='a b c'"):
        zoo.text.BytePairTokenizer(BYTE_SYMBOLS, ["a b", "a b c"])
    with pytest.raises(ValueError, match=r"'ab', which is not in `vocabulary`.*merges\[0\]"):
        zoo.text.BytePairTokenizer(BYTE_SYMBOLS, ["a b"])
    with pytest.raises(ValueError, match=r"lacks 1 byte symbol.*unknown_token='<unk>'"):
        zoo.text.BytePairTokenizer({s: i for s, i in BYTE_SYMBOLS.items() if s != "a"}, [])
    with pytest.raises(TypeError, match="Received: add_prefix_space=1"):
        zoo.text.BytePairTokenizer(BYTE_SYMBOLS, [], add_prefix_space=1)
    with pytest.raises(TypeError, match="Received: vocabulary=\\['a'\\]"):
        zoo.text.BytePairTokenizer(["a"], [])
    with pytest.raises(ValueError, match=r"shape \(1, 1\)"):
        zoo.text.BytePairTokenizer(BYTE_SYMBOLS, [])(tf.constant([["a"]]))


def test_unknown_symbols_get_the_unknown_id():
    vocabulary = {s: i for s, i in BYTE_SYMBOLS.items() if s != "a"}
    vocabulary["<unk>"] = 256
    tokenizer = zoo.text.BytePairTokenizer(vocabulary, [])
    assert tokenizer(tf.constant(["ba"])).to_list() == [[BYTE_SYMBOLS["b"], 256]]


def test_preprocessor_matches_hugging_face(preprocessor):
    out = preprocessor(tf.constant(TEXTS))
    assert sorted(out) == ["padding_mask", "token_ids"]
    np.testing.assert_array_equal(out["token_ids"], [e["token_ids"] for e in EXPECTED["texts"]])
    np.testing.assert_array_equal(
        out["padding_mask"], [e["padding_mask"] for e in EXPECTED["texts"]]
    )


def test_preprocessor_pairs_match_hugging_face(preprocessor):
    # Pairs cover empty segments and truncation of the first, the second, and both (odd budget).
    pairs = EXPECTED["pairs"]
    out = preprocessor(
        (tf.constant([p["first"] for p in pairs]), tf.constant([p["second"] for p in pairs]))
    )
    np.testing.assert_array_equal(out["token_ids"], [p["token_ids"] for p in pairs])
    np.testing.assert_array_equal(out["padding_mask"], [p["padding_mask"] for p in pairs])


def test_preprocessor_layout_by_hand(tokenizer):
    preprocessor = zoo.text.RobertaPreprocessor(tokenizer, sequence_length=7)
    he = tokenizer.token_to_id("he")
    out = preprocessor((tf.constant(["he"]), tf.constant(["he"])))
    np.testing.assert_array_equal(out["token_ids"], [[0, he, 2, 2, he, 2, 1]])
    np.testing.assert_array_equal(out["padding_mask"], [[1, 1, 1, 1, 1, 1, 0]])
    with pytest.raises(ValueError, match="Received: sequence_length=1"):
        zoo.text.RobertaPreprocessor(tokenizer, sequence_length=1)
    with pytest.raises(ValueError, match="Received: sequence_length=3"):
        zoo.text.RobertaPreprocessor(tokenizer, sequence_length=3)(
            (tf.constant(["a"]), tf.constant(["b"]))
        )
    with pytest.raises(TypeError, match="must be a BytePairTokenizer"):
        zoo.text.RobertaPreprocessor(zoo.text.WordPieceTokenizer(list(zoo.text.SPECIAL_TOKENS)))


def test_preprocessor_config_and_keras_round_trip(preprocessor):
    config = harness.assert_config_round_trip(preprocessor, {"sequence_length": 16})
    clone = zoo.text.RobertaPreprocessor.from_config(config)
    text = tf.constant(TEXTS[:4])
    np.testing.assert_array_equal(clone(text)["token_ids"], preprocessor(text)["token_ids"])
    inputs = keras.Input(shape=(), dtype="string")
    model = keras.Model(inputs, preprocessor(inputs))
    with harness.temporary_path("preprocessor.keras") as path:
        model.save(path)
        loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(loaded(text)["token_ids"], preprocessor(text)["token_ids"])


def test_preprocessor_under_mirrored_strategy(preprocessor):
    def build_and_call(strategy):
        layer = zoo.text.RobertaPreprocessor.from_config(preprocessor.get_config())
        return layer(tf.constant(TEXTS))["token_ids"]

    np.testing.assert_array_equal(
        harness.run_in_mirrored_strategy(build_and_call),
        [e["token_ids"] for e in EXPECTED["texts"]],
    )


@pytest.mark.slow  # ~40 s; the BERT raw-string export is served in test_tokenizers.py
def test_exported_roberta_classifier_takes_raw_strings(tokenizer, tmp_path):
    keras.utils.set_random_seed(0)
    backbone = zoo.text.RobertaBackbone(tokenizer.vocabulary_size, 1, 2, 16, 32, 0.0, 16)
    classifier = zoo.text.BertClassifier(backbone, num_classes=3)
    preprocessor = zoo.text.RobertaPreprocessor(tokenizer, sequence_length=16)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def preprocess(text):
        return preprocessor(text)

    classifier.preprocessor = preprocessor  # tracked, so the lookup tables are exported
    path = serving.export(classifier, str(tmp_path), "roberta", preprocess=preprocess)
    texts = np.array([t.encode() for t in TEXTS[:6]])
    expected = classifier.predict(preprocessor(tf.constant(texts)), verbose=0)
    signature = tf.saved_model.load(path).signatures["serving_default"]
    (answer,) = signature(text=tf.constant(texts)).values()
    np.testing.assert_allclose(answer, expected, atol=1e-5)
