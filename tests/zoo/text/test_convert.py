"""`zoo.from_huggingface` for BERT, RoBERTa, ALBERT and DistilBERT matches Hugging Face.

The fixtures are random-weight checkpoints written by
tests/fixtures/huggingface_text/make_hf_text_fixtures.py (transformers 5.24, PyTorch 2.13), with
padding at the end of two of the three rows, and the checkpoints' tokenizer files with the Hugging
Face tokenizer's model inputs for edge-case strings (`expected_tokens.json`).
"""

import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

import zoo
import zoo.text

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "huggingface_text")
EXPECTED_TYPES = {
    "bert": zoo.text.BertBackbone,
    "roberta": zoo.text.RobertaBackbone,
    "albert": zoo.text.AlbertBackbone,
    "distilbert": zoo.text.DistilBertBackbone,
}


@pytest.mark.parametrize("model_type", sorted(EXPECTED_TYPES))
def test_outputs_match_hugging_face(model_type):
    directory = os.path.join(FIXTURES, model_type)
    expected = np.load(os.path.join(directory, "expected.npz"))
    model = zoo.from_huggingface(directory)
    assert isinstance(model, EXPECTED_TYPES[model_type])
    inputs = {name: expected[name] for name in ("token_ids", "segment_ids", "padding_mask")}
    inputs = {k: v for k, v in inputs.items() if k in {t.name for t in model.inputs}}
    outputs = model(inputs, training=False)
    mask = expected["padding_mask"].astype(bool)
    # Padding rows of the sequence output are compared too: the position ids of padding differ
    # between architectures, so this also checks the position numbering.
    np.testing.assert_allclose(
        np.asarray(outputs["sequence_output"])[mask], expected["sequence_output"][mask], atol=1e-4
    )
    np.testing.assert_allclose(
        np.asarray(outputs["sequence_output"]), expected["sequence_output"], atol=1e-4
    )
    if "pooled_output" in expected:
        np.testing.assert_allclose(
            np.asarray(outputs["pooled_output"]), expected["pooled_output"], atol=1e-4
        )
    else:
        assert "pooled_output" not in outputs


def _copy_with_config(tmp_path, model_type, **changes):
    directory = tmp_path / model_type
    shutil.copytree(os.path.join(FIXTURES, model_type), directory)
    config = json.loads((directory / "config.json").read_text())
    config.update(changes)
    (directory / "config.json").write_text(json.dumps(config))
    return str(directory)


def test_unsupported_activation_is_named(tmp_path):
    directory = _copy_with_config(tmp_path, "bert", hidden_act="silu")
    with pytest.raises(ValueError, match=r"Unsupported activation 'silu'.*hidden_act='silu'"):
        zoo.from_huggingface(directory)


def test_unsupported_albert_groups_are_named(tmp_path):
    directory = _copy_with_config(tmp_path, "albert", num_hidden_groups=2)
    with pytest.raises(ValueError, match=r"num_hidden_groups=2"):
        zoo.from_huggingface(directory)


def test_relative_positions_are_refused(tmp_path):
    directory = _copy_with_config(tmp_path, "roberta", position_embedding_type="relative_key")
    with pytest.raises(ValueError, match=r"position_embedding_type='relative_key'"):
        zoo.from_huggingface(directory)


def test_missing_tensor_names_the_directory_and_the_tensor(tmp_path):
    from safetensors.numpy import load_file, save_file

    directory = _copy_with_config(tmp_path, "bert")
    path = os.path.join(directory, "model.safetensors")
    weights = {k: v for k, v in load_file(path).items() if not k.endswith("pooler.dense.weight")}
    save_file(weights, path)
    with pytest.raises(ValueError, match=r"model.safetensors in '.*bert' has no parameter "):
        zoo.from_huggingface(directory)


def test_tensor_of_the_wrong_shape_is_named(tmp_path):
    with open(os.path.join(FIXTURES, "distilbert", "config.json")) as f:
        width = json.load(f)["hidden_dim"]  # DistilBERT's feed-forward width
    directory = _copy_with_config(tmp_path, "distilbert", hidden_dim=width + 4)
    with pytest.raises(ValueError, match=r"Shape mismatch for parameter 'transformer.layer.0.ffn"):
        zoo.from_huggingface(directory)


def _expected_tokens(model_type):
    with open(os.path.join(FIXTURES, model_type, "expected_tokens.json"), encoding="utf-8") as f:
        return json.load(f)


def _assert_preprocessor_matches(preprocessor, expected):
    texts = [entry["text"] for entry in expected["texts"]]
    pairs = (
        [pair["first"] for pair in expected["pairs"]],
        [pair["second"] for pair in expected["pairs"]],
    )
    for inputs, entries in (
        (tf.constant(texts), expected["texts"]),
        (tuple(tf.constant(p) for p in pairs), expected["pairs"]),
    ):
        out = preprocessor(inputs)
        np.testing.assert_array_equal(out["token_ids"], [e["input_ids"] for e in entries])
        np.testing.assert_array_equal(out["padding_mask"], [e["attention_mask"] for e in entries])
        if "token_type_ids" in entries[0]:
            np.testing.assert_array_equal(
                out["segment_ids"], [e["token_type_ids"] for e in entries]
            )


@pytest.mark.parametrize("model_type", ["bert", "distilbert", "roberta"])
def test_preprocessor_matches_hugging_face_tokenizer(model_type):
    # bert/ has vocab.txt, roberta/ vocab.json + merges.txt, distilbert/ only tokenizer.json;
    # albert/ (spiece.model) is tested in test_sentencepiece.py.
    expected = _expected_tokens(model_type)
    directory = os.path.join(FIXTURES, model_type)
    preprocessor = zoo.text.preprocessor_from_huggingface(directory, expected["sequence_length"])
    kind = zoo.text.RobertaPreprocessor if model_type == "roberta" else zoo.text.BertPreprocessor
    assert isinstance(preprocessor, kind)
    _assert_preprocessor_matches(preprocessor, expected)


def test_roberta_vocabulary_from_tokenizer_json(tmp_path):
    directory = tmp_path / "roberta"
    shutil.copytree(os.path.join(FIXTURES, "roberta"), directory)
    (directory / "vocab.json").unlink()
    expected = _expected_tokens("roberta")
    preprocessor = zoo.text.preprocessor_from_huggingface(str(directory), 16)
    _assert_preprocessor_matches(preprocessor, expected)


def test_imported_roberta_runs_on_raw_strings():
    directory = os.path.join(FIXTURES, "roberta")
    backbone = zoo.from_huggingface(directory)
    preprocessor = zoo.text.preprocessor_from_huggingface(directory, sequence_length=16)
    outputs = backbone(preprocessor(tf.constant(["It's a test.", "Café 🙂"])))
    assert outputs["sequence_output"].shape == (2, 16, 32)


def test_missing_vocabulary_is_named(tmp_path):
    directory = tmp_path / "bert"
    directory.mkdir()
    shutil.copy(os.path.join(FIXTURES, "bert", "config.json"), directory)
    with pytest.raises(FileNotFoundError, match=r"No vocab.txt \(nor tokenizer.json\) in .*bert"):
        zoo.text.preprocessor_from_huggingface(str(directory))
    with pytest.raises(FileNotFoundError, match=r"No config.json in"):
        zoo.text.preprocessor_from_huggingface(str(tmp_path))
