"""ELECTRA: backbone, discriminator and Hugging Face parity, sizes, the BERT task models on it.

The fixture is a random-weight `ElectraForPreTraining` written by
tests/fixtures/huggingface_text/make_hf_electra_fixtures.py (transformers 5.24, PyTorch 2.13),
with padding at the end of two of the three rows.
"""

import os
import shutil

import keras
import numpy as np
import pytest

import zoo
import zoo.text
from tests import harness
from zoo.text.electra import ElectraBackbone, ElectraDiscriminator
from zoo.text.electra.presets import ELECTRA_SMALL

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "huggingface_text")
ELECTRA = os.path.join(FIXTURES, "electra")
SMALL = {"vocabulary_size": 50, "num_layers": 1, "num_heads": 2, "hidden_dim": 16,
         "intermediate_dim": 32, "embedding_dim": 8, "max_sequence_length": 16}  # fmt: skip


def _expected():
    expected = np.load(os.path.join(ELECTRA, "expected.npz"))
    inputs = {k: expected[k] for k in ("token_ids", "segment_ids", "padding_mask")}
    return expected, inputs


def test_backbone_matches_hugging_face():
    expected, inputs = _expected()
    model = zoo.from_huggingface(ELECTRA)
    assert isinstance(model, ElectraBackbone)
    assert model.embedding_dim == 16 and model.hidden_dim == 32  # the projection is loaded
    outputs = model(inputs, training=False)
    assert set(outputs) == {"sequence_output"}
    np.testing.assert_allclose(
        np.asarray(outputs["sequence_output"]), expected["sequence_output"], atol=1e-4
    )


def test_discriminator_logits_match_hugging_face():
    expected, inputs = _expected()
    model = zoo.from_huggingface(ELECTRA, task="pretraining")
    assert isinstance(model, ElectraDiscriminator)
    logits = np.asarray(model(inputs, training=False))
    assert np.abs(expected["logits"]).max() > 1.0  # the head's weights matter
    np.testing.assert_allclose(logits, expected["logits"], atol=1e-4)


def test_unknown_task_is_named():
    with pytest.raises(ValueError, match=r"task='causal_lm'"):
        zoo.from_huggingface(ELECTRA, task="causal_lm")


def test_preprocessor_from_huggingface_reads_the_wordpiece_vocabulary(tmp_path):
    directory = tmp_path / "electra"
    shutil.copytree(ELECTRA, directory)
    shutil.copy(os.path.join(FIXTURES, "bert", "vocab.txt"), directory)
    preprocessor = zoo.text.preprocessor_from_huggingface(str(directory), sequence_length=8)
    assert isinstance(preprocessor, zoo.text.BertPreprocessor)
    outputs = preprocessor(np.array(["the first text"]))
    assert outputs["token_ids"].shape == (1, 8)


def test_electra_small_size_equals_hugging_face():
    expected, _ = _expected()
    backbone_size, with_head = expected["published_sizes"]  # ElectraModel, ElectraForPreTraining
    assert ElectraBackbone.count_parameters(**ELECTRA_SMALL) == backbone_size == 13_483_008
    hidden = ELECTRA_SMALL["hidden_dim"]
    head = hidden * hidden + hidden + hidden + 1  # rtd_dense, rtd_prediction
    assert backbone_size + head == with_head


@pytest.mark.slow  # builds the 13.5M-weight model (a few seconds)
def test_electra_small_preset_builds_at_published_size():
    expected, _ = _expected()
    assert zoo.create("electra_small").count_params() == expected["published_sizes"][0]


@pytest.mark.parametrize("embedding_dim", [8, 16])
def test_parameter_count_equals_built_model(embedding_dim):
    arguments = {**SMALL, "embedding_dim": embedding_dim}
    model = ElectraBackbone(**arguments)
    assert model.count_params() == ElectraBackbone.count_parameters(**arguments)
    has_projection = any(layer.name == "embeddings_projection" for layer in model.layers)
    assert has_projection == (embedding_dim != 16)


def test_presets_are_registered():
    assert {"electra_small", "electra_tiny"} <= set(zoo.list_models(family="electra"))
    tiny = ElectraBackbone.from_preset("electra_tiny")
    assert (tiny.hidden_dim, tiny.embedding_dim) == (64, 32)


def test_bert_task_models_take_the_electra_backbone():
    backbone = ElectraBackbone(**SMALL, dropout=0.0)
    inputs = zoo.text.inputs.token_inputs(backbone, 4)
    classifier = zoo.text.BertClassifier(backbone, num_classes=3)
    logits = classifier(inputs)
    assert logits.shape == (4, 3)
    # No pooler: the classifier reads the first token of the sequence output.
    first = backbone(inputs)["sequence_output"][:, 0, :]
    dense = classifier.get_layer("logits")
    np.testing.assert_allclose(logits, dense(first), atol=1e-5)
    tagger = zoo.text.BertTokenClassifier(backbone, num_classes=5)
    assert tagger(inputs).shape == (4, 8, 5)


@pytest.mark.slow  # a training run (its trace takes a while on a shared 2-core box)
def test_discriminator_trains_on_replaced_token_labels():
    discriminator = ElectraDiscriminator(ElectraBackbone(**SMALL, dropout=0.0))
    inputs = zoo.text.inputs.token_inputs(discriminator, 4)
    labels = (inputs["token_ids"] % 2).astype("float32")
    history = discriminator.fit(
        inputs, labels, sample_weight=inputs["padding_mask"], epochs=2, verbose=0
    )
    assert set(history.history) == {"loss", "accuracy"}
    assert np.all(np.isfinite(history.history["loss"]))


def test_loss_ignores_padding():
    loss = zoo.text.electra.discriminator.ReplacedTokenLoss()
    labels = np.array([[1.0, 0.0, 1.0]])
    logits = np.array([[2.0, -1.0, 50.0]])
    masked = float(loss(labels, logits, sample_weight=np.array([[1.0, 1.0, 0.0]])))
    expected = np.mean(np.log1p(np.exp(-np.array([2.0, 1.0])))) * 2 / 3  # Keras: sum / count
    np.testing.assert_allclose(masked, expected, rtol=1e-5)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"embedding_dim=0"):
        ElectraBackbone(**{**SMALL, "embedding_dim": 0})
    with pytest.raises(TypeError, match=r"backbone"):
        ElectraDiscriminator(keras.layers.Dense(2))


@pytest.mark.slow  # the shared model checks (about a minute on a shared 2-core box)
def test_discriminator_passes_model_checks():
    def build():
        return ElectraDiscriminator(ElectraBackbone(**SMALL, dropout=0.0))

    inputs = zoo.text.inputs.token_inputs(build(), 4)
    targets = (inputs["token_ids"] % 2).astype("float32")
    harness.run_model_test(build, inputs, targets)
