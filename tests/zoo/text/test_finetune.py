"""BERT's fine-tuning recipe: learning-rate curve, weight-decay exclusions, a run that learns."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
import zoo.text
from layers.schedules import LinearWarmup
from tests import harness
from zoo.text.finetune import (
    bert_learning_rate_schedule,
    fine_tuning_optimizer,
    finetune_classifier,
)

CHECKPOINT = os.path.join(
    os.path.dirname(__file__), "..", "..", "fixtures", "huggingface_text", "bert"
)


def bert_rate(step, peak, total, warmup):
    """Devlin et al. 2019 / Hugging Face `get_linear_schedule_with_warmup`."""
    if step < warmup:
        return peak * step / warmup
    return peak * max(0.0, (total - step) / (total - warmup))


def test_learning_rate_follows_warmup_then_linear_decay():
    steps = [0, 1, 5, 10, 11, 55, 99, 100, 150]
    expected = [bert_rate(s, 2e-5, 100, 10) for s in steps]
    schedule = bert_learning_rate_schedule(2e-5, total_steps=100, warmup_steps=10)
    np.testing.assert_allclose([float(schedule(s)) for s in steps], expected, rtol=1e-6, atol=1e-12)
    assert float(schedule(10)) == pytest.approx(2e-5)  # the peak, at the end of the warmup
    # The schedule is the project's LinearWarmup around keras's PolynomialDecay: shared checks.
    harness.run_schedule_test(
        LinearWarmup,
        {"schedule": schedule.schedule, "warmup_steps": 10},
        steps,
        expected=expected,
        atol=1e-12,
        rtol=1e-5,
    )
    without_warmup = bert_learning_rate_schedule(1.0, total_steps=4, warmup_steps=0)
    np.testing.assert_allclose(
        [float(without_warmup(s)) for s in range(6)], [1, 0.75, 0.5, 0.25, 0, 0]
    )


def test_optimizer_decays_weights_but_not_layer_norms_and_biases():
    keras.utils.set_random_seed(0)
    backbone = zoo.text.BertBackbone(20, 1, 2, 8, 16, max_sequence_length=8)
    optimizer = fine_tuning_optimizer(total_steps=10, peak_learning_rate=0.5, warmup_fraction=0.0,
                                      weight_decay=0.2)  # fmt: skip
    assert optimizer.global_clipnorm == 1.0 and optimizer.epsilon == 1e-6
    variables = backbone.trainable_variables
    before = [v.numpy().copy() for v in variables]
    # With zero gradients Adam's step is zero, so only the decoupled decay moves a weight:
    # w <- w * (1 - lr * wd) with lr = 0.5 at step 0.
    optimizer.apply_gradients([(tf.zeros_like(v), v) for v in variables])
    decayed = 0
    for variable, old in zip(variables, before, strict=True):
        if variable.name in ("gamma", "beta", "bias"):
            np.testing.assert_array_equal(variable.numpy(), old, err_msg=variable.path)
        else:
            np.testing.assert_allclose(
                variable.numpy(), old * 0.9, rtol=1e-6, err_msg=variable.path
            )
            decayed += 1
    assert decayed >= 8  # embeddings, attention and feed-forward kernels, pooler


def keyword_task(n, seed):
    """Sentences of filler words; the label says whether "banana" is among them."""
    rng = np.random.default_rng(seed)
    words = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "far", "away", "red", "blue"]
    texts, labels = [], []
    for i in range(n):
        sentence = list(rng.choice(words, size=rng.integers(3, 7)))
        if i % 2:
            sentence.insert(int(rng.integers(0, len(sentence) + 1)), "banana")
        texts.append(" ".join(sentence))
        labels.append(i % 2)
    return np.array(texts), np.array(labels, "int32")


@pytest.mark.slow  # a learning run (about 20 s)
def test_short_fine_tuning_learns_a_keyword_task():
    texts, labels = keyword_task(128, seed=0)
    vocabulary = zoo.text.train_wordpiece_vocabulary(texts, vocabulary_size=60)
    preprocessor = zoo.text.BertPreprocessor(zoo.text.WordPieceTokenizer(vocabulary), 12)
    keras.utils.set_random_seed(0)
    backbone = zoo.text.BertBackbone(len(vocabulary), 1, 2, 16, 32, max_sequence_length=12)
    val_texts, val_labels = keyword_task(64, seed=1)
    classifier = finetune_classifier(
        backbone, 2, (texts, labels), validation_data=(val_texts, val_labels), epochs=6,
        batch_size=16, peak_learning_rate=1e-2, preprocessor=preprocessor, seed=0, verbose=0,
    )  # fmt: skip
    history = classifier.history.history
    assert history["val_accuracy"][-1] >= 0.9
    assert history["loss"][-1] < history["loss"][0]
    # The schedule reached zero at the last step: 8 batches x 6 epochs.
    assert int(classifier.optimizer.iterations) == 48
    assert float(classifier.optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)


def test_fine_tuning_starts_from_a_hugging_face_checkpoint():
    imported = zoo.from_huggingface(CHECKPOINT)
    rng = np.random.default_rng(0)
    inputs = {
        "token_ids": rng.integers(5, 100, (8, 6)).astype("int32"),
        "segment_ids": np.zeros((8, 6), "int32"),
        "padding_mask": np.ones((8, 6), "int32"),
    }
    labels = np.arange(8) % 2
    classifier = finetune_classifier(
        CHECKPOINT, 2, (inputs, labels), epochs=1, batch_size=4, peak_learning_rate=1e-9, verbose=0
    )
    assert isinstance(classifier, zoo.text.BertClassifier)
    np.testing.assert_allclose(
        classifier.backbone.token_embedding.embeddings.numpy(),
        imported.token_embedding.embeddings.numpy(),
        atol=1e-6,
    )
    # The schedule spans the run: 2 batches x 1 epoch, and the rate is zero after the last.
    assert int(classifier.optimizer.iterations) == 2
    assert float(classifier.optimizer.learning_rate) == pytest.approx(0.0, abs=1e-15)


def test_bad_arguments_give_clear_errors():
    with pytest.raises(ValueError, match="warmup_steps=10"):
        bert_learning_rate_schedule(1e-4, total_steps=10, warmup_steps=10)
    with pytest.raises(ValueError, match="peak_learning_rate=0"):
        bert_learning_rate_schedule(0, total_steps=10, warmup_steps=1)
    with pytest.raises(ValueError, match="warmup_fraction=1"):
        fine_tuning_optimizer(100, warmup_fraction=1.0)
    with pytest.raises(ValueError, match="weight_decay=-1"):
        fine_tuning_optimizer(100, weight_decay=-1.0)
    with pytest.raises(TypeError, match="backbone_or_dir=3"):
        finetune_classifier(3, 2, None)
    backbone = zoo.text.BertBackbone(20, 1, 2, 8, 16, max_sequence_length=8)
    with pytest.raises(TypeError, match="train_data="):
        finetune_classifier(backbone, 2, np.zeros(3))
    endless = tf.data.Dataset.from_tensors(({"token_ids": np.zeros((1, 4), "int32")}, [0])).repeat()
    with pytest.raises(ValueError, match="cardinality -1"):
        finetune_classifier(backbone, 2, endless)
