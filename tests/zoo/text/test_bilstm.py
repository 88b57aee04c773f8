"""The BiLSTM family: backbone, tagger and presets (the shared model checks run on the registered
`bilstm_tagger` in tests/zoo/test_registered_models.py; the CRF head in test_crf_tagger.py)."""

import numpy as np
import pytest

import zoo
from zoo.text import BiLSTMBackbone, BiLSTMTagger
from zoo.text.inputs import token_inputs

SMALL = {"vocabulary_size": 30, "embedding_dim": 6, "hidden_dim": 4}


def lstm_parameters(inputs: int, units: int) -> int:
    """Weights of one LSTM direction: four gates, each a kernel, a recurrent kernel, a bias."""
    return 4 * (inputs * units + units * units + units)


def test_parameter_count_follows_the_lstm_formula():
    backbone = BiLSTMBackbone(1000, embedding_dim=100, hidden_dim=100, num_layers=2)
    expected = (
        1000 * 100  # embeddings
        + 2 * lstm_parameters(100, 100)  # first layer, both directions
        + 2 * lstm_parameters(200, 100)  # second layer reads both directions' states
    )
    assert backbone.count_params() == expected
    tagger = BiLSTMTagger(backbone, num_classes=9)
    assert tagger.count_params() == expected + 200 * 9 + 9
    assert tagger.output.shape == (None, None, 9)


def test_padding_does_not_change_the_features_of_the_tokens():
    backbone = BiLSTMBackbone(**SMALL, num_layers=2)
    inputs = token_inputs(backbone, 3, length=8)  # 8, 7 and 6 tokens, then padding
    features = np.asarray(backbone(inputs)["sequence_output"])
    assert features.shape == (3, 8, 8)
    for row, length in enumerate([8, 7, 6]):
        alone = {
            "token_ids": inputs["token_ids"][row : row + 1, :length],
            "padding_mask": np.ones((1, length), "int32"),
        }
        # The backward direction starts at the last real token, not at the padding.
        expected = np.asarray(backbone(alone)["sequence_output"])[0]
        np.testing.assert_allclose(features[row, :length], expected, atol=1e-6)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="Received: vocabulary_size=0"):
        BiLSTMBackbone(0)
    with pytest.raises(ValueError, match="Received: num_layers=0"):
        BiLSTMBackbone(**SMALL, num_layers=0)
    with pytest.raises(ValueError, match="Received: dropout=1.5"):
        BiLSTMBackbone(**SMALL, dropout=1.5)
    backbone = BiLSTMBackbone(**SMALL)
    with pytest.raises(ValueError, match="Received: num_classes=0"):
        BiLSTMTagger(backbone, num_classes=0)
    with pytest.raises(ValueError, match="Received: dropout=-0.1"):
        BiLSTMTagger(backbone, num_classes=3, dropout=-0.1)
    with pytest.raises(ValueError, match="Received: output_activation='relu'"):
        BiLSTMTagger(backbone, num_classes=3, output_activation="relu")
    with pytest.raises(ValueError, match="Unknown argument"):
        BiLSTMTagger.from_arguments(num_classes=3, vocabulary_size=30, num_heads=2)


def test_presets_are_registered_and_build_with_overrides():
    assert zoo.list_models(family="bilstm") == [
        "bilstm_backbone",
        "bilstm_tagger",
        "bilstm_tagger_entities",
    ]
    assert zoo.get_spec("bilstm_tagger").task == "token_classifier"
    assert zoo.get_spec("bilstm_backbone").task == "backbone"
    backbone = BiLSTMBackbone.from_preset("bilstm_backbone", vocabulary_size=40, hidden_dim=8)
    assert backbone.embedding_dim == 100 and backbone.hidden_dim == 8
    tagger = BiLSTMTagger.from_preset(
        "bilstm_backbone", num_classes=3, head="crf", vocabulary_size=40, hidden_dim=8
    )
    assert tagger.head == "crf" and tagger.backbone.vocabulary_size == 40
    entities = zoo.create("bilstm_tagger_entities")
    assert entities.num_classes == 7 and entities.backbone.vocabulary_size == 51
    # Flat arguments: one `dropout` for the backbone and the head (Lample et al.'s 0.5).
    tagger = zoo.create("bilstm_tagger", vocabulary_size=40, hidden_dim=8)
    assert tagger.dropout == 0.5 and tagger.backbone.dropout == 0.5
    assert tagger.backbone.embedding_dim == 100 and tagger.head == "softmax"
    tagger = zoo.create("bilstm_tagger", vocabulary_size=40, hidden_dim=8, dropout=0.0)
    assert tagger.dropout == 0.0 and tagger.backbone.dropout == 0.0


def test_tagger_is_tunable():
    import keras_tuner

    from zoo.tuning import hypermodel

    hp = keras_tuner.HyperParameters()
    model = hypermodel("bilstm_tagger", vocabulary_size=30, head="crf").build(hp)
    assert {"embedding_dim", "hidden_dim", "num_layers", "dropout"} <= set(hp.values)
    assert model.backbone.hidden_dim == hp.get("hidden_dim") and model.head == "crf"
