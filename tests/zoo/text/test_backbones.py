"""The text backbones: shared model checks, published sizes, padding and bad arguments."""

import numpy as np
import pytest

import zoo
import zoo.text
from tests import harness

BACKBONES = ["bert_backbone", "roberta_backbone", "albert_backbone", "distilbert_backbone"]


# tests/zoo/test_registered_models.py runs the same checks on every registered model once
# `zoo.text` is imported by `zoo`; here they are slow (about 70-110 s each on a shared 2-core box).
@pytest.mark.slow
@pytest.mark.parametrize("name", BACKBONES)
def test_backbone_passes_model_checks(name):
    spec = zoo.get_spec(name)

    def build():
        return zoo.create(name, **spec.tiny, dropout=0.0)

    inputs = spec.example_inputs(build(), 4)
    harness.run_model_test(build, inputs, init_kwargs={**spec.defaults, **spec.tiny})


# Published sizes of the backbones (no task head): Hugging Face's `BertModel`, `RobertaModel`,
# `AlbertModel` and `DistilBertModel` for bert-base-uncased, roberta-base, albert-base-v2 and
# distilbert-base-uncased, and Google's BERT miniatures (google/bert_uncased_L-*_H-*_A-*).
PUBLISHED = {
    "bert_tiny_en_uncased": 4_385_920,
    "bert_mini_en_uncased": 11_170_560,
    "bert_small_en_uncased": 28_763_648,
    "bert_base_en_uncased": 109_482_240,
    "roberta_base_en": 124_645_632,
    "albert_base_en_uncased": 11_683_584,
    "distilbert_base_en_uncased": 66_362_880,
}
# Google's table in github.com/google-research/bert (millions, with the masked-LM head: a dense
# layer, a layer norm and an output bias per vocabulary entry).
GOOGLE_MILLIONS_WITH_MLM_HEAD = {
    "bert_tiny_en_uncased": 4.4,
    "bert_mini_en_uncased": 11.3,
    "bert_small_en_uncased": 29.1,
    "bert_base_en_uncased": 110.1,
}


def parameter_count(name: str) -> int:
    """The size of backbone preset `name`, counted from its registered arguments."""
    spec = zoo.get_spec(name)
    return spec.builder.count_parameters(**spec.defaults)


def test_presets_are_backbone_entries_of_their_family():
    for name in PUBLISHED:
        spec = zoo.get_spec(name)
        assert spec.task == "backbone"
        assert spec.family == name.split("_")[0]
        assert name in zoo.list_models(task="backbone", family=spec.family)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_preset_sizes_equal_published(name):
    assert parameter_count(name) == PUBLISHED[name]


@pytest.mark.parametrize("name", sorted(GOOGLE_MILLIONS_WITH_MLM_HEAD))
def test_bert_sizes_with_mlm_head_match_google_table(name):
    hidden = zoo.get_spec(name).defaults["hidden_dim"]
    head = hidden * hidden + hidden + 2 * hidden + 30522
    total = parameter_count(name) + head
    assert round(total / 1e6, 1) == GOOGLE_MILLIONS_WITH_MLM_HEAD[name]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_parameter_count_equals_built_model(name):
    # Small vocabulary and positions keep the build fast; the formula is checked on the
    # preset's real layer structure.
    small = {"vocabulary_size": 97, "max_sequence_length": 24, "num_layers": 2}
    spec = zoo.get_spec(name)
    cls = spec.builder
    arguments = {**spec.defaults, **small, "hidden_dim": 16, "intermediate_dim": 40, "num_heads": 2}
    if "embedding_dim" in arguments:
        arguments["embedding_dim"] = 8
    model = cls(**arguments)
    assert model.count_params() == cls.count_parameters(**arguments)


def test_bert_tiny_preset_builds_at_published_size():
    for build in (zoo.text.BertBackbone.from_preset, zoo.text.backbone_from_preset):
        model = build("bert_tiny_en_uncased")
        assert model.count_params() == PUBLISHED["bert_tiny_en_uncased"]


def test_padding_does_not_change_real_tokens():
    model = zoo.text.BertBackbone(50, 2, 2, 16, 32, dropout=0.0, max_sequence_length=16)
    ids = np.array([[5, 6, 7, 8]], "int32")
    short = {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": np.ones_like(ids)}
    padded = {
        "token_ids": np.pad(ids, ((0, 0), (0, 3))),
        "segment_ids": np.zeros((1, 7), "int32"),
        "padding_mask": np.pad(np.ones_like(ids), ((0, 0), (0, 3))),
    }
    a = model(short)
    b = model(padded)
    np.testing.assert_allclose(b["sequence_output"][:, :4], a["sequence_output"], atol=1e-5)
    np.testing.assert_allclose(b["pooled_output"], a["pooled_output"], atol=1e-5)


def test_albert_shares_one_layer():
    model = zoo.text.AlbertBackbone(50, 6, 2, 16, 32, embedding_dim=8, max_sequence_length=16)
    deep = model.count_params()
    shallow = zoo.text.AlbertBackbone(50, 1, 2, 16, 32, embedding_dim=8, max_sequence_length=16)
    assert deep == shallow.count_params()


def test_roberta_positions_start_after_padding_index():
    layer = zoo.text.OffsetPositionEmbedding(6, 1, padding_index=1)
    layer.build((1, 4))
    layer.embeddings.assign(np.arange(6, dtype="float32")[:, None])
    out = layer(np.array([[1, 1, 1, 0]], "int32"))
    np.testing.assert_array_equal(np.asarray(out)[0, :, 0], [2, 3, 4, 1])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_layers": 0}, r"Received: num_layers=0"),
        ({"hidden_dim": 15}, r"Received: hidden_dim=15"),
        ({"activation": "swish"}, r"Received: activation='swish'"),
        ({"dropout": 1.5}, r"dropout=1.5"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    arguments = {"vocabulary_size": 50, "num_layers": 1, "num_heads": 2, "hidden_dim": 16,
                 "intermediate_dim": 32, **kwargs}  # fmt: skip
    with pytest.raises(ValueError, match=message):
        zoo.text.BertBackbone(**arguments)


def test_unknown_preset_is_named():
    with pytest.raises(ValueError, match=r"Received: name='bert_huge'"):
        zoo.text.backbone_from_preset("bert_huge")
    with pytest.raises(ValueError, match=r"Received: name='roberta_base_en'"):
        zoo.text.BertBackbone.from_preset("roberta_base_en")
