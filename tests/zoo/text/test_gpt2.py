"""GPT-2: parity with Hugging Face (logits, greedy, beam search, left padding, strings), the key/
value cache, presets and bad input.

The fixture (tests/fixtures/huggingface_text/gpt2/) is a random-weight `GPT2LMHeadModel` (2
layers, hidden 32) with a 401-token byte-level BPE, written by make_hf_generation_fixtures.py
(transformers 5.24, PyTorch 2.13) with its logits and `generate(do_sample=False)` outputs.
"""

import json
import os
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.text.gpt2 import GPT2Backbone, GPT2CausalLM
from zoo.text.gpt2.presets import GPT2_TINY

FIXTURE = os.path.join(
    os.path.dirname(__file__), "..", "..", "fixtures", "huggingface_text", "gpt2"
)


@pytest.fixture(scope="module")
def expected():
    return np.load(os.path.join(FIXTURE, "expected.npz"))


@pytest.fixture(scope="module")
def tiny_lm():
    return GPT2CausalLM(GPT2Backbone(**GPT2_TINY))


@pytest.fixture(scope="module")
def causal_lm():
    return zoo.from_huggingface(FIXTURE, task="causal_lm")


def test_logits_equal_hugging_face_with_padding(causal_lm, expected):
    assert isinstance(causal_lm, GPT2CausalLM)
    assert causal_lm.end_token_id == 400 and causal_lm.preprocessor is not None
    inputs = {
        "token_ids": expected["logits_token_ids"].astype("int32"),
        "padding_mask": expected["logits_padding_mask"].astype("int32"),
    }
    logits = causal_lm(inputs, training=False).numpy()
    real = inputs["padding_mask"].astype(bool)
    np.testing.assert_allclose(logits[real], expected["logits"][real], atol=1e-4, rtol=0)
    backbone = zoo.from_huggingface(FIXTURE)
    assert isinstance(backbone, GPT2Backbone)
    np.testing.assert_allclose(
        backbone(inputs)["sequence_output"].numpy(),
        causal_lm.backbone(inputs)["sequence_output"].numpy(),
        atol=1e-6,
    )


def test_greedy_and_beam_search_equal_hugging_face(causal_lm, expected):
    prompts, end = expected["prompt_ids"], int(expected["end_token_id"])
    greedy = causal_lm.generate(prompts, max_length=16, end_token_id=end)  # XLA
    np.testing.assert_array_equal(greedy, expected["greedy_ids"])
    assert (greedy[0, 8:] == end).all() and (greedy[1:, 8:] != end).any()  # row 0 stopped
    beam = causal_lm.generate(
        prompts, 16, sampler="beam", num_beams=3, end_token_id=end, jit_compile=False
    )
    np.testing.assert_array_equal(beam, expected["beam_ids"])


def test_left_padded_prompts_and_strings_equal_hugging_face(causal_lm, expected):
    ids = causal_lm.generate(
        expected["left_prompt_ids"],
        14,
        padding_mask=expected["left_padding_mask"],
        end_token_id=None,
        jit_compile=False,
    )
    np.testing.assert_array_equal(ids[:, 6:], expected["left_greedy_ids"][:, 6:])
    with open(os.path.join(FIXTURE, "text.json")) as f:
        text = json.load(f)
    packed = causal_lm.preprocessor.prompts(tf.constant(text["prompts"]))
    for row, prompt in enumerate(text["prompt_ids"]):
        mask = packed["padding_mask"][row].numpy().astype(bool)
        np.testing.assert_array_equal(packed["token_ids"][row].numpy()[mask], prompt)
    assert causal_lm.generate(text["prompts"], 26, jit_compile=False) == text["generated_text"]


def test_the_cache_gives_the_full_forward_pass_and_sampling_is_seeded():
    backbone = GPT2Backbone(**GPT2_TINY, dropout=0.0)
    lm = GPT2CausalLM(backbone)
    ids = np.random.default_rng(0).integers(0, 64, size=(2, 7)).astype("int32")
    mask = np.ones_like(ids)
    full = lm({"token_ids": ids, "padding_mask": mask}).numpy()
    cache = lm.empty_cache(2, 10)
    long_mask = np.ones((2, 10), "int32")
    logits, cache = lm.logits_and_cache(ids[:, :4], long_mask, cache, 0)
    np.testing.assert_allclose(logits.numpy(), full[:, :4], atol=1e-5)
    for index in range(4, 7):  # one position at a time
        logits, cache = lm.logits_and_cache(ids[:, index : index + 1], long_mask, cache, index)
        np.testing.assert_allclose(logits.numpy()[:, 0], full[:, index], atol=1e-5)
    prompt = ids[:, :3]
    options = {"sampler": "top_k", "top_k": 5, "seed": 3, "jit_compile": False}
    first = lm.generate(prompt, 12, **options)
    np.testing.assert_array_equal(first, lm.generate(prompt, 12, **options))
    np.testing.assert_array_equal(first[:, :3], prompt)
    assert first.shape == (2, 12) and first.dtype == np.int32


def test_loss_is_the_mean_over_real_tokens(tiny_lm):
    ids = np.random.default_rng(0).integers(0, 64, size=(2, 8)).astype("int32")
    mask = np.ones_like(ids)
    mask[0, 5:] = 0
    inputs = {"token_ids": ids, "padding_mask": mask}
    targets, weights = np.roll(ids, -1, axis=1), mask.astype("float32")
    per_token = keras.losses.sparse_categorical_crossentropy(
        targets, tiny_lm(inputs), from_logits=True
    )
    expected = float(np.sum(np.asarray(per_token) * weights) / weights.sum())
    scores = tiny_lm.evaluate(inputs, targets, sample_weight=weights, verbose=0, return_dict=True)
    assert scores["loss"] == pytest.approx(expected, rel=1e-5)


def test_preset_sizes():
    arguments = zoo.get_spec("gpt2_small").defaults
    assert GPT2Backbone.count_parameters(**arguments) == 124_439_808  # Hugging Face's "gpt2"
    medium = zoo.get_spec("gpt2_medium").defaults
    assert GPT2Backbone.count_parameters(**medium) == 354_823_168  # "gpt2-medium"
    tiny = GPT2Backbone.from_preset("gpt2_tiny")
    assert tiny.count_params() == GPT2Backbone.count_parameters(**GPT2_TINY)


@pytest.mark.slow
def test_gpt2_small_has_the_published_size():
    assert GPT2Backbone.from_preset("gpt2_small").count_params() == 124_439_808


@pytest.mark.parametrize(
    ("prompts", "kwargs", "message"),
    [
        (np.ones((1, 40), "int32"), {"max_length": 41}, "prompt_length=40"),
        (np.ones((1, 5), "int32"), {"max_length": 5}, "max_length=5"),
        (np.ones((1, 5), "int32"), {"max_length": 33}, "max_length=33"),
        (np.ones((1, 5), "int32"), {"max_length": 9, "sampler": "nucleus"}, "sampler='nucleus'"),
        (np.ones((1, 5), "int32"), {"max_length": 9, "num_beams": 0}, "num_beams=0"),
        (np.ones((1, 5), "int32"), {"max_length": 9, "top_p": 1.5}, "top_p=1.5"),
        (np.ones(5, "int32"), {"max_length": 9}, "shape"),
        (["text"], {"max_length": 9}, "preprocessor"),
    ],
)
def test_bad_generate_arguments(tiny_lm, prompts, kwargs, message):
    with pytest.raises(ValueError, match=message):
        tiny_lm.generate(prompts, **kwargs)


def test_bad_checkpoint_shapes(tmp_path):
    for name in os.listdir(FIXTURE):
        shutil.copy(os.path.join(FIXTURE, name), tmp_path / name)
    with open(tmp_path / "config.json") as f:
        config = json.load(f)
    config["n_embd"] = 64
    with open(tmp_path / "config.json", "w") as f:
        json.dump(config, f)
    with pytest.raises(ValueError, match="Shape mismatch for parameter 'wte.weight'"):
        zoo.from_huggingface(str(tmp_path), task="causal_lm")
