"""T5: parity with Hugging Face (logits, greedy and beam generation, tokens), the cached step,
presets, the preprocessor and argument errors."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.text.t5 import T5Backbone, T5Preprocessor, T5Seq2SeqLM
from zoo.text.t5.presets import T5_SMALL, TINY, seq2seq_inputs

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "huggingface_text", "t5")
INPUT_NAMES = ("encoder_token_ids", "encoder_padding_mask", "decoder_token_ids",
               "decoder_padding_mask")  # fmt: skip


def expected(directory=FIXTURES):
    return np.load(os.path.join(directory, "expected.npz"))


@pytest.fixture(scope="module")
def hf_model():
    return zoo.from_huggingface(FIXTURES, task="seq2seq_lm")


def test_logits_match_hugging_face_with_padding(hf_model):
    e = expected()
    logits = hf_model({name: e[name] for name in INPUT_NAMES})
    np.testing.assert_allclose(logits, e["logits"], atol=1e-4, rtol=1e-4)


def test_gated_untied_v1_1_logits_match_hugging_face():
    directory = os.path.join(FIXTURES, "gated")
    e = expected(directory)
    model = zoo.from_huggingface(directory, task="seq2seq_lm")
    assert model.backbone.gated and not model.tie_embeddings
    logits = model({name: e[name] for name in INPUT_NAMES})
    np.testing.assert_allclose(logits, e["logits"], atol=1e-4, rtol=1e-4)


def test_backbone_task_is_the_default_and_matches_the_lm(hf_model):
    e = expected()
    backbone = zoo.from_huggingface(FIXTURES)
    assert isinstance(backbone, T5Backbone)
    outputs = backbone({name: e[name] for name in INPUT_NAMES})
    ours = hf_model.backbone({name: e[name] for name in INPUT_NAMES})
    for key in ("encoder_sequence_output", "decoder_sequence_output"):
        np.testing.assert_allclose(outputs[key], ours[key], atol=1e-6)


def test_greedy_and_beam_generation_equal_hugging_face(hf_model):
    e = expected()
    common = dict(padding_mask=e["encoder_padding_mask"], max_length=10, jit_compile=False)
    greedy = hf_model.generate(e["encoder_token_ids"], **common)
    np.testing.assert_array_equal(greedy, e["greedy_ids"])
    assert (greedy[:, 0] == 0).all() and (greedy == 1).any()  # start token; one row ended
    beam = hf_model.generate(e["encoder_token_ids"], sampler="beam", num_beams=3, **common)
    np.testing.assert_array_equal(beam, e["beam_ids"])


def test_cached_step_equals_the_full_decoder(hf_model):
    e = expected()
    backbone = hf_model.backbone
    inputs = {name: e[name] for name in INPUT_NAMES}
    inputs["decoder_padding_mask"] = np.ones_like(inputs["decoder_padding_mask"])
    full = backbone(inputs)["decoder_sequence_output"].numpy()
    encoder_output = backbone.encode(e["encoder_token_ids"], e["encoder_padding_mask"])
    from zoo.text.t5.backbone import padding_bias

    state = {
        "cache": backbone.empty_cache(3, 6),
        "cross": backbone.cross_key_values(encoder_output),
        "cross_bias": padding_bias(e["encoder_padding_mask"]),
    }
    for position in range(6):
        x, state = backbone.decoder_step(
            tf.constant(inputs["decoder_token_ids"][:, position]), state, position
        )
        np.testing.assert_allclose(x, full[:, position], atol=1e-5)


def test_preprocessor_matches_hugging_face_tokenizer(hf_model):
    with open(os.path.join(FIXTURES, "expected_tokens.json")) as f:
        tokens = json.load(f)
    preprocessor = hf_model.preprocessor
    assert preprocessor.vocabulary_size == tokens["vocab_size"]
    assert [preprocessor.sentinel_id(i) for i in range(3)] == tokens["sentinels"]
    ids = preprocessor.tokenize(tf.constant(tokens["texts"])).to_list()
    assert ids == tokens["ids"]
    packed = preprocessor(tf.constant(tokens["texts"][:1]))
    length = len(tokens["ids"][0])
    row = packed["encoder_token_ids"][0].numpy()
    assert row[:length].tolist() == tokens["ids"][0] and (row[length:] == 0).all()
    text = preprocessor.detokenize(tf.constant([[0] + tokens["ids"][0] + [5, 0]]))
    assert text.numpy()[0].decode() == tokens["texts"][0]


def test_generation_inputs_pad_to_the_length_bucket_of_the_longest_text(hf_model):
    preprocessor = hf_model.preprocessor
    assert preprocessor.length_buckets() == [8, 16, 32, 64, 128, 256, 512]
    texts = tf.constant(["hello world", "a longer text with many more words in it than that"])
    short = preprocessor.generation_inputs(texts)
    full = preprocessor(texts)
    longest = int(full["encoder_padding_mask"].numpy().sum(axis=1).max())
    length = short["encoder_token_ids"].shape[1]
    assert length == min(b for b in preprocessor.length_buckets() if b >= longest)
    for name in ("encoder_token_ids", "encoder_padding_mask"):
        np.testing.assert_array_equal(short[name], full[name][:, :length])
    tight = T5Preprocessor(preprocessor.tokenizer, sequence_length=12)
    assert tight.length_buckets() == [8, 12]
    assert tight.generation_inputs(texts)["encoder_token_ids"].shape == (2, 12)


def test_generate_from_strings_equals_hugging_face_text(hf_model):
    with open(os.path.join(FIXTURES, "expected_text.json")) as f:
        text = json.load(f)  # Hugging Face: tokenizer, greedy generate, batch_decode
    assert hf_model.generate(text["inputs"], max_length=10, jit_compile=False) == text["text"]


def test_t5_small_has_the_published_size():
    assert T5Backbone.count_parameters(**T5_SMALL) == 60_506_624
    tiny = T5Backbone(**TINY, num_decoder_layers=2, gated=True)
    assert tiny.count_params() == T5Backbone.count_parameters(
        **TINY, num_decoder_layers=2, gated=True
    )


@pytest.mark.slow
def test_t5_small_preset_builds_with_the_published_size():
    assert zoo.create("t5_small").count_params() == 60_506_624


def test_presets_are_registered():
    assert {"t5_small", "t5_tiny", "t5_v1_1_small"} <= set(zoo.list_models(family="t5"))
    model = T5Seq2SeqLM.from_preset("t5_tiny", tie_embeddings=False, dropout=0.0)
    assert model.backbone.dropout == 0.0 and not model.tie_embeddings
    logits = model(seq2seq_inputs(model, 2))
    assert logits.shape == (2, 6, TINY["vocabulary_size"])


def test_seq2seq_lm_trains_with_weighted_token_accuracy():
    model = T5Seq2SeqLM(T5Backbone(**TINY))
    model.compile(jit_compile=False)  # the XLA fit is the registered-model test's
    inputs = seq2seq_inputs(model, 4)
    weights = inputs["decoder_padding_mask"]
    history = model.fit(inputs, inputs["decoder_token_ids"], sample_weight=weights, verbose=0)
    assert {"loss", "accuracy"} <= set(history.history)


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"num_heads": 0}, "num_heads=0"),
        ({"num_heads": 3, "key_value_dim": None}, "num_heads=3"),
        ({"activation": "tanh"}, "activation='tanh'"),
        ({"dropout": 1.5}, "dropout=1.5"),
        ({"gated": "yes"}, "gated='yes'"),
    ],
)
def test_backbone_argument_errors(arguments, match):
    with pytest.raises((ValueError, TypeError), match=match):
        T5Backbone(**{**TINY, **arguments})


def test_generate_argument_errors(hf_model):
    ids = expected()["encoder_token_ids"]
    with pytest.raises(ValueError, match="max_length=1"):
        hf_model.generate(ids, max_length=1)
    with pytest.raises(ValueError, match="sampler='nucleus'"):
        hf_model.generate(ids, max_length=4, sampler="nucleus")
    with pytest.raises(ValueError, match="num_beams=0"):
        hf_model.generate(ids, max_length=4, sampler="beam", num_beams=0)
    with pytest.raises(ValueError, match="top_p=1.5"):
        hf_model.generate(ids, max_length=4, sampler="top_p", top_p=1.5)
    with pytest.raises(ValueError, match="shape"):
        hf_model.generate(ids[0], max_length=4)
    with pytest.raises(ValueError, match="preprocessor"):
        T5Seq2SeqLM(T5Backbone(**TINY)).generate(["text"], max_length=4)
    with pytest.raises(TypeError, match="backbone"):
        T5Seq2SeqLM("not a backbone")
    with pytest.raises(ValueError, match="sequence_length=1"):
        T5Preprocessor(hf_model.preprocessor.tokenizer, sequence_length=1)


def test_generate_reuses_its_compiled_loop_and_the_model_still_exports(tmp_path):
    import serving

    model = T5Seq2SeqLM(T5Backbone(**TINY))
    ids = np.array([[5, 6, 7, 1]], "int32")
    first = model.generate(ids, max_length=5, jit_compile=False)
    np.testing.assert_array_equal(model.generate(ids, max_length=5, jit_compile=False), first)
    assert len(model._generate_functions) == 1
    model.generate(ids, max_length=6, jit_compile=False)
    assert len(model._generate_functions) == 2
    # The compiled loops are not tracked, so saving after generate works (a dict did not).
    path = serving.export(model, tmp_path, "t5")
    assert "serving_default" in tf.saved_model.load(path).signatures


def test_checkpoint_errors_name_the_parameter(tmp_path):
    import shutil

    from safetensors.numpy import load_file, save_file

    directory = tmp_path / "t5"
    shutil.copytree(FIXTURES, directory)
    weights = load_file(str(directory / "model.safetensors"))
    name = "decoder.block.1.layer.1.EncDecAttention.k.weight"
    save_file({**weights, name: weights[name][:, :-1]}, str(directory / "model.safetensors"))
    with pytest.raises(ValueError, match=name):
        zoo.from_huggingface(str(directory))
    config = json.loads((directory / "config.json").read_text())
    config["feed_forward_proj"] = "gated-silu"
    config["dense_act_fn"] = "silu"
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="feed_forward_proj='gated-silu'"):
        zoo.from_huggingface(str(directory))
