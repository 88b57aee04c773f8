"""T5 span corruption: noise statistics, sentinel order, reconstruction, the TFRecord pipeline
and resumable pretraining."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfrecords
from zoo.text.t5 import (
    T5Backbone,
    T5Seq2SeqLM,
    corrupt_spans,
    noise_span_mask,
    pretrain_t5,
    span_corruption_dataset,
)
from zoo.text.t5.convert import t5_preprocessor_from_huggingface
from zoo.text.t5.presets import TINY

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "huggingface_text", "t5")
CORPUS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "zoo", "text", "data",
                      "tiny_corpus.txt")  # fmt: skip
SENTINEL = 1000  # <extra_id_0> in these tests; later sentinels count down


def runs(mask: np.ndarray) -> list[int]:
    """Lengths of the runs of True in `mask`."""
    edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return list(np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1))


def reconstruct(inputs, targets, first_sentinel=SENTINEL, num_sentinels=100, end_id=1):
    """The original tokens: each sentinel of `inputs` replaced by its span from `targets`."""

    def is_sentinel(token):
        return first_sentinel - num_sentinels < token <= first_sentinel

    spans, current = {}, None
    for token in targets[targets != end_id]:
        if is_sentinel(token):
            current = spans.setdefault(int(token), [])
        else:
            current.append(int(token))
    out = []
    for token in inputs[inputs != end_id]:
        out.extend(spans[int(token)] if is_sentinel(token) else [int(token)])
    return out


def test_noise_density_and_mean_span_length_on_a_long_sequence():
    length = 20_000
    masks = [noise_span_mask(length, seed=(seed, 1)).numpy() for seed in range(3)]
    for mask in masks:
        assert abs(mask.mean() - 0.15) < 0.001
        assert abs(np.mean(runs(mask)) - 3.0) < 0.05
        assert not mask[0]  # T5 starts with a kept span
        # Spread evenly: the noise density of each quarter is close to the whole's.
        quarters = mask.reshape(4, -1).mean(axis=1)
        assert np.all(np.abs(quarters - 0.15) < 0.02), quarters
    span_lengths = np.concatenate([runs(m) for m in masks])
    assert span_lengths.min() >= 1 and span_lengths.max() > 6  # random lengths, not all 3
    assert not np.array_equal(masks[0], masks[1])
    np.testing.assert_array_equal(masks[0], noise_span_mask(length, seed=(0, 1)).numpy())


def test_sentinels_are_ordered_and_inputs_targets_reconstruct_the_original():
    tokens = np.arange(2, 402, dtype="int32")
    inputs, targets = corrupt_spans(tokens, SENTINEL, end_id=1, seed=(3, 4))
    inputs, targets = inputs.numpy(), targets.numpy()
    assert inputs[-1] == 1 and targets[-1] == 1
    input_sentinels = inputs[inputs >= SENTINEL - 100]
    target_sentinels = targets[targets >= SENTINEL - 100]
    expected = SENTINEL - np.arange(len(input_sentinels))
    np.testing.assert_array_equal(input_sentinels, expected)
    np.testing.assert_array_equal(target_sentinels, expected)
    assert targets[0] == SENTINEL  # the targets start with the first sentinel
    assert reconstruct(inputs, targets) == tokens.tolist()
    assert len(inputs) + len(targets) == len(tokens) + 2 * len(expected) + 2


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    with open(CORPUS, encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip()][:40]
    path = str(tmp_path_factory.mktemp("corpus") / "train")
    tfrecords.write({"text": lines}, path, verbose=0)
    return path


@pytest.fixture(scope="module")
def preprocessor():
    return t5_preprocessor_from_huggingface(FIXTURES, 32)


def test_dataset_rows_reconstruct_the_tokenized_text(corpus, preprocessor):
    dataset = span_corruption_dataset(corpus, preprocessor, raw_length=20, batch_size=8,
                                      shuffle=False, seed=0)  # fmt: skip
    inputs, targets, weights = next(iter(dataset))
    with open(CORPUS, encoding="utf-8") as f:
        first = next(line.strip() for line in f if line.strip())
    pieces = preprocessor.tokenizer(tf.constant([first]))[0][:20].numpy().tolist()
    row = inputs["encoder_token_ids"][0].numpy()[inputs["encoder_padding_mask"][0].numpy() == 1]
    target = targets[0].numpy()[weights[0].numpy() == 1]
    sentinels = (preprocessor.sentinel_id(0), preprocessor.num_sentinels)
    assert reconstruct(row, target, *sentinels) == pieces
    decoder = inputs["decoder_token_ids"][0].numpy()
    np.testing.assert_array_equal(decoder[: len(target)], [0, *target[:-1]])
    assert targets.shape[1] == inputs["decoder_token_ids"].shape[1]
    second = next(iter(span_corruption_dataset(corpus, preprocessor, raw_length=20, batch_size=8,
                                               shuffle=False, seed=0)))  # fmt: skip
    np.testing.assert_array_equal(second[0]["encoder_token_ids"], inputs["encoder_token_ids"])


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt


@pytest.mark.slow
def test_pretrain_reports_loss_and_accuracy_and_resumes(corpus, preprocessor, tmp_path):
    vocabulary = preprocessor.vocabulary_size
    model = T5Seq2SeqLM(T5Backbone(**{**TINY, "vocabulary_size": vocabulary}))
    model.compile(jit_compile=False)
    backup = str(tmp_path / "backup")
    options = dict(epochs=2, batch_size=16, raw_length=16, seed=0, backup_dir=backup, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        pretrain_t5(model, corpus, preprocessor, callbacks=[_Interrupt()], **options)
    history = pretrain_t5(model, corpus, preprocessor, **options)
    assert len(history.epoch) == 1 and history.epoch[0] == 1  # resumed at the second epoch
    assert {"loss", "accuracy"} <= set(history.history)
    assert np.isfinite(history.history["loss"]).all()


def test_argument_errors(corpus, preprocessor):
    with pytest.raises(ValueError, match="raw_length=1"):
        span_corruption_dataset(corpus, preprocessor, raw_length=1)
    with pytest.raises(ValueError, match="noise_density=1.5"):
        span_corruption_dataset(corpus, preprocessor, noise_density=1.5)
    with pytest.raises(TypeError, match="model="):
        pretrain_t5("model", corpus, preprocessor)
    small = T5Seq2SeqLM(T5Backbone(**{**TINY, "vocabulary_size": 10}))
    with pytest.raises(ValueError, match="vocabulary_size=88"):
        pretrain_t5(small, corpus, preprocessor)
