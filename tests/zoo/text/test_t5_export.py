"""A T5 exported with a `generate` signature: strings in, strings out, through
`tf.saved_model.load` and the local model server's REST API (TF Serving's format)."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

import serving
import zoo
from zoo.text.t5 import t5_generate_signature

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "huggingface_text", "t5")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = zoo.from_huggingface(FIXTURES, task="seq2seq_lm")
    signature = t5_generate_signature(model, max_length=10)
    base = tmp_path_factory.mktemp("models")
    return base, serving.export(model, base, "t5", signatures={"generate": signature})


def expected_text():
    with open(os.path.join(FIXTURES, "expected_text.json")) as f:
        return json.load(f)  # Hugging Face: tokenizer, greedy generate, batch_decode


@pytest.mark.slow  # export, XLA compile at load: ~30-90 s on a shared 2-core box
def test_generate_signature_exports_and_loads_with_saved_model_load(exported):
    text = expected_text()
    loaded = tf.saved_model.load(exported[1]).signatures["generate"]
    answer = loaded(inputs=tf.constant(text["inputs"]))
    assert [t.decode() for t in answer["text"].numpy()] == text["text"]
    np.testing.assert_array_equal(answer["token_ids"], text["token_ids"])


@pytest.mark.slow  # starts the local model server
def test_generate_signature_is_served_over_rest(exported):
    text = expected_text()
    with serving.local_server(exported[0], startup_timeout=120) as server:
        client = serving.Client(server.url, "t5")
        served = client.predict({"inputs": np.array(text["inputs"])}, signature_name="generate")
    assert [t.decode() if isinstance(t, bytes) else t for t in served["text"]] == text["text"]
