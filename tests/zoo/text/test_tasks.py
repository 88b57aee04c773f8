"""Text task models: classifier, masked LM (tied head) and token classifier."""

import keras
import numpy as np
import pytest

import zoo
import zoo.text
from tests import harness
from zoo.text.inputs import token_inputs

TASKS = ["bert_classifier", "bert_token_classifier", "bert_masked_lm"]
SMALL = {"num_layers": 1, "num_heads": 2, "hidden_dim": 16, "intermediate_dim": 32,
         "max_sequence_length": 16, "dropout": 0.0}  # fmt: skip


# The same checks run for every registered model in tests/zoo/test_registered_models.py.
@pytest.mark.slow
@pytest.mark.parametrize("name", TASKS)
def test_task_passes_model_checks(name):
    spec = zoo.get_spec(name)

    def build():
        return zoo.create(name, **spec.tiny)

    model = build()
    targets = None
    if isinstance(model, zoo.text.BertClassifier):
        targets = np.arange(4) % 2
    harness.run_model_test(
        build, spec.example_inputs(model, 4), targets, init_kwargs={**spec.defaults, **spec.tiny}
    )


def test_masked_lm_head_is_tied_to_token_embeddings():
    backbone = zoo.text.BertBackbone(40, **SMALL)
    mlm = zoo.text.BertMaskedLM(backbone, num_masked=2)
    table = backbone.token_embedding.embeddings
    assert any(w is table for w in mlm.weights)
    assert mlm.count_params() == backbone.count_params() + (16 * 16 + 16) + 2 * 16 + 40
    inputs = {**token_inputs(backbone, 2), "mask_positions": np.array([[0, 3], [1, 2]], "int32")}
    # The logits are the head's hidden state times the embedding table, plus the bias.
    sequence = np.asarray(backbone({k: v for k, v in inputs.items() if k != "mask_positions"})[
        "sequence_output"
    ])  # fmt: skip
    gathered = np.take_along_axis(sequence, inputs["mask_positions"][:, :, None], axis=1)
    hidden = mlm.get_layer("mlm_layer_norm")(mlm.get_layer("mlm_dense")(gathered))
    expected = np.asarray(hidden) @ np.asarray(table).T
    np.testing.assert_allclose(mlm(inputs), expected, atol=1e-5)


def test_classifier_on_distilbert_reads_the_first_token():
    backbone = zoo.text.DistilBertBackbone(40, **SMALL)
    classifier = zoo.text.BertClassifier(backbone, num_classes=3, dropout=0.0)
    inputs = token_inputs(backbone, 2)
    first = np.asarray(backbone(inputs)["sequence_output"])[:, 0]
    dense = classifier.get_layer("logits")
    expected = first @ np.asarray(dense.kernel) + np.asarray(dense.bias)
    np.testing.assert_allclose(classifier(inputs), expected, atol=1e-5)


def test_token_classifier_learns_a_per_token_rule():
    # Tag = whether the token id is even: learnable from the token embedding alone.
    backbone = zoo.text.BertBackbone(20, **SMALL)
    tagger = zoo.text.BertTokenClassifier(backbone, num_classes=2, dropout=0.0)
    tagger.compile(optimizer=keras.optimizers.AdamW(1e-2))
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 20, size=(64, 8)).astype("int32")
    inputs = {
        "token_ids": ids,
        "segment_ids": np.zeros_like(ids),
        "padding_mask": np.ones_like(ids),
    }
    history = tagger.fit(inputs, ids % 2, epochs=15, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] > 0.95
    assert tagger(inputs).shape == (64, 8, 2)


def test_task_rejects_a_non_text_backbone():
    with pytest.raises(TypeError, match="Received: backbone="):
        zoo.text.BertClassifier("bert", num_classes=2)
    with pytest.raises(ValueError, match="Received: num_classes=0"):
        zoo.text.BertClassifier(zoo.text.BertBackbone(20, **SMALL), num_classes=0)


def test_classifier_from_a_backbone_preset():
    classifier = zoo.text.BertClassifier.from_preset("bert_tiny_en_uncased", num_classes=2)
    assert isinstance(classifier.backbone, zoo.text.BertBackbone)
    assert classifier.backbone.hidden_dim == 128 and classifier.backbone.num_layers == 2
    assert classifier.output.shape == (None, 2)


@pytest.mark.parametrize(
    "name, learning_rate, weight_decay, weighted",
    [
        ("bert_classifier", 1e-3, 1e-4, False),
        ("bert_token_classifier", 5e-5, 0.01, True),
        ("bert_masked_lm", 1e-4, 0.01, True),
    ],
)
def test_task_entries_compile_with_their_defaults(name, learning_rate, weight_decay, weighted):
    model = zoo.create(name, **zoo.get_spec(name).tiny)
    assert np.isclose(float(model.optimizer.learning_rate), learning_rate)
    assert np.isclose(model.optimizer.weight_decay, weight_decay)
    compiled = model.get_compile_config()
    assert bool(compiled["weighted_metrics"]) == weighted
    assert bool(compiled["metrics"]) != weighted


def test_flat_dropout_sets_the_encoder_and_the_head():
    classifier = zoo.create("bert_classifier", **zoo.get_spec("bert_classifier").tiny, dropout=0.0)
    assert classifier.dropout == 0.0 and classifier.backbone.dropout == 0.0
    mlm = zoo.create("bert_masked_lm", **zoo.get_spec("bert_masked_lm").tiny, dropout=0.2)
    assert mlm.backbone.dropout == 0.2


@pytest.mark.parametrize("name", TASKS)
def test_task_entries_are_tunable(name):
    import keras_tuner

    from zoo.tuning import hypermodel

    spec = zoo.get_spec(name)
    assert spec.family == "bert" and spec.tunable
    hp = keras_tuner.HyperParameters()
    model = hypermodel(name, vocabulary_size=30, max_sequence_length=8).build(hp)
    assert {"num_layers", "num_heads", "head_dim", "dropout"} <= set(hp.values)
    assert model.backbone.num_layers == hp.get("num_layers")
    assert model.backbone.hidden_dim == hp.get("num_heads") * hp.get("head_dim")
    assert model.backbone.dropout == hp.get("dropout")
