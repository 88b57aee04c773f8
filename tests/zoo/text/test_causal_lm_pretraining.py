"""Causal-LM pretraining from a TFRecord corpus: it trains, reports, and resumes."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfrecords
import zoo.text
from zoo.text.byte_pair import BytePairTokenizer
from zoo.text.causal_lm_pretraining import pretrain_causal_lm
from zoo.text.gpt2 import GPT2Backbone, GPT2CausalLM, GPT2Preprocessor

CORPUS = os.path.join(os.path.dirname(zoo.text.__file__), "data", "tiny_corpus.txt")
VOCABULARY = os.path.join(
    os.path.dirname(__file__), "..", "..", "fixtures", "huggingface_text", "gpt2"
)


class Epochs(keras.callbacks.Callback):
    """Records the epochs begun; raises `KeyboardInterrupt` at `stop_at`."""

    def __init__(self, stop_at=None):
        super().__init__()
        self.stop_at, self.begun = stop_at, []

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.stop_at:
            raise KeyboardInterrupt("interrupted")
        self.begun.append(epoch)


def test_pretrain_causal_lm_trains_and_resumes(tmp_path):
    with open(CORPUS) as f:
        lines = f.read().splitlines()[:32]
    tfrecords.write({"text": np.array(lines, dtype=object)}, str(tmp_path / "train"), verbose=0)
    tokenizer = BytePairTokenizer(
        os.path.join(VOCABULARY, "vocab.json"), os.path.join(VOCABULARY, "merges.txt")
    )
    preprocessor = GPT2Preprocessor(tokenizer, sequence_length=16)
    x, y, weights = preprocessor.lm_examples(tf.constant(lines[:4]))
    np.testing.assert_array_equal(x["token_ids"][:, 0], preprocessor.end_id)  # starts with it
    np.testing.assert_array_equal(x["token_ids"][:, 1:], y[:, :-1])  # shifted by one
    np.testing.assert_array_equal(weights[:, :-1], x["padding_mask"][:, 1:])  # targets' mask

    backbone = GPT2Backbone(tokenizer.vocabulary_size, 1, 2, 16, 32, 0.0, 16)
    lm = GPT2CausalLM(backbone, preprocessor)
    lm.compile(jit_compile=False)  # XLA's compile time would dominate this tiny run
    backup = tmp_path / "backup"
    run = {"epochs": 2, "batch_size": 16, "seed": 0, "backup_dir": backup, "verbose": 0}
    first, second = Epochs(stop_at=1), Epochs()
    with pytest.raises(KeyboardInterrupt):
        pretrain_causal_lm(lm, str(tmp_path / "train"), callbacks=[first], **run)
    assert first.begun == [0] and backup.exists()
    trained = [w.numpy() for w in lm.weights]
    lm.set_weights([np.zeros_like(w) for w in trained])  # the backup restores them
    history = pretrain_causal_lm(lm, str(tmp_path / "train"), callbacks=[second], **run)
    assert second.begun == [1] and len(history.history["loss"]) == 1  # resumed at epoch 2
    assert set(history.history) >= {"loss", "accuracy"}
    # Zero weights give uniform logits, a loss of exactly log(vocabulary): the backup restored.
    assert history.history["loss"][0] < np.log(tokenizer.vocabulary_size) - 1e-3
    assert not backup.exists()  # removed once training finished
    with pytest.raises(TypeError, match="GPT2CausalLM"):
        pretrain_causal_lm(backbone, str(tmp_path / "train"))
