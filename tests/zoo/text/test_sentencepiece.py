"""`SentencePieceTokenizer` and ALBERT's preprocessor match Hugging Face's `AlbertTokenizer`.

The fixture tests/fixtures/huggingface_text/albert/ (spiece.model, tokenizer_config.json and
expected_tokens.json) is written by make_albert_vocab_fixture.py with transformers 5.24's
`AlbertTokenizer` over a SentencePiece unigram model trained on zoo/text/data/tiny_corpus.txt.
"""

import json
import os
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
import zoo.text
from tests import harness

DIRECTORY = os.path.join(
    os.path.dirname(__file__), "..", "..", "fixtures", "huggingface_text", "albert"
)
MODEL = os.path.join(DIRECTORY, "spiece.model")


@pytest.fixture(scope="module")
def expected():
    with open(os.path.join(DIRECTORY, "expected_tokens.json"), encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def preprocessor(expected):
    return zoo.text.preprocessor_from_huggingface(DIRECTORY, expected["sequence_length"])


def _columns(entries, key):
    return np.array([entry[key] for entry in entries])


def test_texts_match_hugging_face(preprocessor, expected):
    assert isinstance(preprocessor, zoo.text.BertPreprocessor)
    assert isinstance(preprocessor.tokenizer, zoo.text.SentencePieceTokenizer)
    # Hugging Face matches special tokens written in the text ("[MASK]" -> 4); we tokenize them
    # as text (documented in SentencePieceTokenizer).
    entries = [entry for entry in expected["texts"] if "[MASK]" not in entry["text"]]
    assert len(entries) == len(expected["texts"]) - 1
    out = preprocessor(tf.constant([entry["text"] for entry in entries]))
    np.testing.assert_array_equal(out["token_ids"], _columns(entries, "input_ids"))
    np.testing.assert_array_equal(out["padding_mask"], _columns(entries, "attention_mask"))
    np.testing.assert_array_equal(out["segment_ids"], _columns(entries, "token_type_ids"))


def test_pairs_layout_truncation_and_padding_match_hugging_face(preprocessor, expected):
    entries = expected["pairs"]
    first = tf.constant([entry["first"] for entry in entries])
    second = tf.constant([entry["second"] for entry in entries])
    out = preprocessor((first, second))
    np.testing.assert_array_equal(out["token_ids"], _columns(entries, "input_ids"))
    np.testing.assert_array_equal(out["padding_mask"], _columns(entries, "attention_mask"))
    np.testing.assert_array_equal(out["segment_ids"], _columns(entries, "token_type_ids"))
    # "first only" + "": [CLS] first-only [SEP] [SEP] then <pad> (id 0); the last [SEP] is
    # segment 1.
    row = [entry["first"] for entry in entries].index("first only")
    ids, segments = out["token_ids"][row].numpy(), out["segment_ids"][row].numpy()
    length = int(out["padding_mask"][row].numpy().sum())
    assert ids[0] == 2 and ids[length - 2] == ids[length - 1] == 3
    assert (ids[length:] == 0).all() and segments[length - 1] == 1 and segments[length - 2] == 0


def test_tokenizer_vocabulary_and_special_tokens():
    tokenizer = zoo.text.SentencePieceTokenizer(MODEL)
    assert tokenizer.vocabulary_size == 77  # the tiny corpus's SentencePiece limit (< 100)
    assert [tokenizer.token_to_id(t) for t in ("<pad>", "<unk>", "[CLS]", "[SEP]")] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match=r"token='\[PAD\]'"):
        tokenizer.token_to_id("[PAD]")


def test_lowercase_and_accents_options():
    cased = zoo.text.SentencePieceTokenizer(MODEL, lowercase=False, keep_accents=True)
    uncased = zoo.text.SentencePieceTokenizer(MODEL)
    text = tf.constant(["The Café ``x''"])
    assert cased(text).to_list() != uncased(text).to_list()
    np.testing.assert_array_equal(
        uncased(text).to_list(), uncased(tf.constant(['the cafe "x"'])).to_list()
    )
    # Uppercase and accented letters are not in the lower-cased model: unknown when kept.
    assert 1 in cased(tf.constant(["É"])).to_list()[0]


def test_detokenize_inverts_tokenize():
    tokenizer = zoo.text.SentencePieceTokenizer(MODEL)
    text = tf.constant(["the farmer visits the river.", "a small bird"])
    assert tokenizer.detokenize(tokenizer(text)).numpy().tolist() == [
        b"the farmer visits the river.",
        b"a small bird",
    ]


def test_tf_function_and_scalar_agree(preprocessor, expected):
    texts = tf.constant([entry["text"] for entry in expected["texts"]])
    graph = tf.function(lambda t: preprocessor(t))(texts)
    np.testing.assert_array_equal(graph["token_ids"], preprocessor(texts)["token_ids"])
    tokenizer = preprocessor.tokenizer
    scalar = tf.function(tokenizer)(tf.constant("the river"))
    assert scalar.numpy().tolist() == tokenizer(tf.constant(["the river"])).to_list()[0]


def test_keras_file_round_trip_in_a_string_model(preprocessor, expected, tmp_path):
    text = keras.Input(shape=(), dtype="string")
    model = keras.Model(text, preprocessor(text))
    path = str(tmp_path / "albert_preprocessor.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    texts = tf.constant([entry["text"] for entry in expected["texts"]])
    for key, value in model(texts).items():
        np.testing.assert_array_equal(loaded(texts)[key], value)
    config = harness.assert_config_round_trip(
        zoo.text.SentencePieceTokenizer(MODEL, lowercase=False, keep_accents=True),
        {"lowercase": False, "keep_accents": True},
    )
    assert set(config["model"]) == {"base64"}
    clone = zoo.text.SentencePieceTokenizer.from_config(config)
    assert clone.model == preprocessor.tokenizer.model
    harness.assert_config_round_trip(preprocessor, {"sequence_length": 16})


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(TypeError, match=r"model=3"):
        zoo.text.SentencePieceTokenizer(3)
    with pytest.raises(TypeError, match=r"lowercase='yes'"):
        zoo.text.SentencePieceTokenizer(MODEL, lowercase="yes")
    with pytest.raises(ValueError, match=r"not a SentencePiece model"):
        zoo.text.SentencePieceTokenizer(b"not a model")
    with pytest.raises(TypeError, match=r"WordPieceTokenizer or a SentencePieceTokenizer"):
        zoo.text.BertPreprocessor(zoo.text.RobertaPreprocessor, 8)


def test_missing_spiece_model_is_named(tmp_path):
    directory = tmp_path / "albert"
    directory.mkdir()
    for name in ("config.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(DIRECTORY, name), directory)
    with pytest.raises(FileNotFoundError, match=r"No spiece.model in .*albert"):
        zoo.text.preprocessor_from_huggingface(str(directory))


def test_imported_albert_runs_on_raw_strings(preprocessor):
    backbone = zoo.from_huggingface(DIRECTORY)
    outputs = backbone(preprocessor(tf.constant(["It's a test.", "Café 🙂"])))
    assert outputs["sequence_output"].shape == (2, 16, 32)
    assert outputs["pooled_output"].shape == (2, 32)
    assert np.isfinite(outputs["sequence_output"].numpy()).all()


def test_survives_set_random_seed_and_exports_to_saved_model(preprocessor, tmp_path):
    # tensorflow-text's kernel-owned model resource vanished when the eager kernel cache was
    # cleared (tf.random.set_seed); the shared-name resource must not.
    text = tf.constant(["the river"])
    before = preprocessor(text)["token_ids"].numpy()
    keras.utils.set_random_seed(7)
    np.testing.assert_array_equal(preprocessor(text)["token_ids"], before)
    module = tf.Module()
    module.preprocessor = preprocessor
    module.ids = tf.function(
        lambda t: preprocessor(t)["token_ids"], input_signature=[tf.TensorSpec([None], tf.string)]
    )
    tf.saved_model.save(module, str(tmp_path / "saved"))
    loaded = tf.saved_model.load(str(tmp_path / "saved"))
    np.testing.assert_array_equal(loaded.ids(text), before)
