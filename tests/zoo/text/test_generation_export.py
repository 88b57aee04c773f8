"""A GPT-2 exported with a `generate` signature: strings in, strings out, through
`tf.saved_model.load` and through the local model server's REST API (TF Serving's format)."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

import serving
import zoo
from zoo.text.generation import generate_signature

FIXTURE = os.path.join(
    os.path.dirname(__file__), "..", "..", "fixtures", "huggingface_text", "gpt2"
)


@pytest.mark.slow  # export, load and serve: ~30-60 s on a shared 2-core box
def test_generate_signature_exports_and_serves_text(tmp_path):
    lm = zoo.from_huggingface(FIXTURE, task="causal_lm")
    with open(os.path.join(FIXTURE, "text.json")) as f:
        text = json.load(f)  # Hugging Face's greedy continuations, max_length 26
    lm.generate(text["prompts"][:1], 26, jit_compile=False)  # its compiled loops are not saved
    signature = generate_signature(lm, max_length=26)
    path = serving.export(lm, tmp_path, "gpt2", signatures={"generate": signature})

    loaded = tf.saved_model.load(path).signatures["generate"]
    answer = loaded(prompts=tf.constant(text["prompts"]))
    assert [t.decode() for t in answer["text"].numpy()] == text["generated_text"]
    assert answer["token_ids"].shape == (3, 26)
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_length=26"):
        loaded(prompts=tf.constant(["a " * 40]))

    with serving.local_server(tmp_path, startup_timeout=120) as server:
        client = serving.Client(server.url, "gpt2")
        served = client.predict({"prompts": np.array(text["prompts"])}, signature_name="generate")
    assert [t.decode() if isinstance(t, bytes) else t for t in served["text"]] == text[
        "generated_text"
    ]
