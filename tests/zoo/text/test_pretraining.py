"""Dynamic masking and MLM pretraining from a TFRecord corpus."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfrecords
import zoo.text

CORPUS = os.path.join(os.path.dirname(zoo.text.__file__), "data", "tiny_corpus.txt")


def test_masking_follows_80_10_10():
    batch, length, mask_id = 64, 128, 4
    ids = tf.constant(np.random.default_rng(0).integers(10, 1000, (batch, length)), tf.int32)
    mask = tf.ones_like(ids)
    masked, positions, targets, weights = zoo.text.mask_tokens(
        ids, mask, num_masked=40, vocabulary_size=1000, mask_token_id=mask_id,
        mask_rate=0.15, seed=tf.constant([1, 2]),
    )  # fmt: skip
    masked, positions, targets, weights = (
        np.asarray(t) for t in (masked, positions, targets, weights)
    )
    ids = np.asarray(ids)
    picked = weights.sum()
    assert abs(picked / ids.size - 0.15) < 0.02
    rows = np.repeat(np.arange(batch)[:, None], 40, axis=1)[weights > 0]
    cols = positions[weights > 0]
    np.testing.assert_array_equal(targets[weights > 0], ids[rows, cols])
    at_picks = masked[rows, cols]
    assert abs(np.mean(at_picks == mask_id) - 0.8) < 0.04
    assert abs(np.mean(at_picks == ids[rows, cols]) - 0.1) < 0.03
    untouched = np.ones_like(ids, bool)
    untouched[rows, cols] = False
    np.testing.assert_array_equal(masked[untouched], ids[untouched])


def test_masking_skips_padding_and_special_tokens():
    ids = tf.constant([[2, 7, 8, 9, 3, 0, 0, 0]], tf.int32)
    mask = tf.constant([[1, 1, 1, 1, 1, 0, 0, 0]], tf.int32)
    _, positions, _, weights = zoo.text.mask_tokens(
        ids, mask, num_masked=8, vocabulary_size=10, mask_token_id=4, special_ids=(2, 3),
        mask_rate=1.0, seed=tf.constant([0, 0]),
    )  # fmt: skip
    assert sorted(np.asarray(positions)[np.asarray(weights) > 0].tolist()) == [1, 2, 3]


def _pretrain(tmp_path, epochs: int):
    with open(CORPUS) as f:
        lines = f.read().splitlines()
    tfrecords.write({"text": np.array(lines, dtype=object)}, str(tmp_path / "train"), verbose=0)
    vocabulary = zoo.text.train_wordpiece_vocabulary(lines, vocabulary_size=120)
    preprocessor = zoo.text.BertPreprocessor(zoo.text.WordPieceTokenizer(vocabulary), 16)
    backbone = zoo.text.BertBackbone(
        len(vocabulary), 1, 2, 32, 64, dropout=0.0, max_sequence_length=16
    )
    model = zoo.text.BertMaskedLM(backbone, num_masked=4)
    model.compile(optimizer=keras.optimizers.AdamW(3e-3))
    history = zoo.text.pretrain_mlm(
        model, str(tmp_path / "train"), preprocessor, epochs=epochs, batch_size=16, seed=0,
        verbose=0,
    )  # fmt: skip
    return model, len(lines), history.history["loss"]


def test_pretrain_mlm_trains_on_a_tfrecord_corpus(tmp_path):
    model, num_lines, losses = _pretrain(tmp_path, epochs=1)
    assert len(losses) == 1 and np.isfinite(losses[0])
    assert int(model.optimizer.iterations) == -(-num_lines // 16)  # every line, in batches of 16


@pytest.mark.slow  # a learning run (about 15 s)
def test_pretrain_mlm_lowers_the_loss(tmp_path):
    _, _, losses = _pretrain(tmp_path, epochs=6)
    assert losses[-1] < 0.7 * losses[0]
