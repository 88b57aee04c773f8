"""`sequence_loss` and `SequenceLoss`: TensorFlow Addons' numbers for every switch combination,
its error rules, the shared loss checks."""

import itertools
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.seq2seq.sequence_loss import SequenceLoss, sequence_loss
from tests import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "seq2seq_attention.npz")
TFA = dict(np.load(FIXTURE))
LOGITS, TARGETS, WEIGHTS = TFA["loss/logits"], TFA["loss/targets"], TFA["loss/weights"]
SWITCHES = (
    "average_across_timesteps",
    "average_across_batch",
    "sum_over_timesteps",
    "sum_over_batch",
)
COMBINATIONS = list(itertools.product([False, True], repeat=4))


def _key(flags) -> str:
    return "loss/" + "".join(str(int(f)) for f in flags)


@pytest.mark.parametrize("flags", COMBINATIONS, ids=_key)
def test_every_switch_combination_matches_tensorflow_addons(flags):
    kwargs = dict(zip(SWITCHES, flags, strict=True))
    if _key(flags) not in TFA:  # TFA refuses this combination
        with pytest.raises(ValueError, match="cannot both be True"):
            sequence_loss(LOGITS, TARGETS, WEIGHTS, **kwargs)
        return
    want = TFA[_key(flags)]
    got = sequence_loss(LOGITS, TARGETS, WEIGHTS, **kwargs)
    assert tuple(got.shape) == want.shape
    np.testing.assert_allclose(got, want, atol=1e-6)
    compiled = tf.function(lambda *a: sequence_loss(*a, **kwargs), jit_compile=True)
    np.testing.assert_allclose(compiled(LOGITS, TARGETS, WEIGHTS), want, atol=1e-6)


def test_seven_combinations_are_valid():
    assert sum(_key(flags) in TFA for flags in COMBINATIONS) == 7


def test_one_hot_targets_and_the_keras_loss_match_tensorflow_addons():
    one_hot = np.eye(4, dtype="float32")[TARGETS]
    np.testing.assert_allclose(sequence_loss(LOGITS, one_hot, WEIGHTS), TFA["loss/one_hot"], 1e-6)
    loss = SequenceLoss()
    np.testing.assert_allclose(loss(TARGETS, LOGITS, WEIGHTS), TFA["loss/class_default"], 1e-6)


def test_uniform_logits_give_log_num_classes():
    """TFA's own test: equal logits over 5 classes cost log(5) per symbol."""
    logits = np.ones((2, 3, 5), "float32")
    targets = np.array([[0, 1, 2], [3, 4, 0]], "int32")
    weights = np.ones((2, 3), "float32")
    np.testing.assert_allclose(sequence_loss(logits, targets, weights), np.log(5.0), rtol=1e-6)
    per_step = sequence_loss(logits, targets, weights, average_across_timesteps=False)
    np.testing.assert_allclose(per_step, np.full(3, np.log(5.0)), rtol=1e-6)
    assert float(sequence_loss(logits, targets, np.zeros((2, 3), "float32"))) == 0.0  # 0 / 0


@keras.saving.register_keras_serializable(package="keras_zoo_tests")
def doubled_crossentropy(labels, logits):
    return 2.0 * tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def test_softmax_loss_function_is_used_and_saved():
    plain = sequence_loss(LOGITS, TARGETS, WEIGHTS)
    doubled = sequence_loss(LOGITS, TARGETS, WEIGHTS, softmax_loss_function=doubled_crossentropy)
    np.testing.assert_allclose(doubled, 2 * plain, rtol=1e-6)
    loss = SequenceLoss(softmax_loss_function=doubled_crossentropy, name="doubled")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert restored.softmax_loss_function is doubled_crossentropy and restored.name == "doubled"
    np.testing.assert_allclose(restored(TARGETS, LOGITS, WEIGHTS), loss(TARGETS, LOGITS, WEIGHTS))


def test_shared_checks():
    """Without `sample_weight` every target weighs 1: the mean cross-entropy."""
    log_probs = LOGITS - np.log(np.exp(LOGITS).sum(-1, keepdims=True))
    expected = -np.take_along_axis(log_probs, TARGETS[..., None], -1).mean()
    harness.run_loss_test(SequenceLoss, {}, TARGETS, LOGITS, expected=expected)


def test_fit_with_a_padding_mask_as_sample_weight():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Embedding(10, 8), keras.layers.Dense(4)]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=SequenceLoss(), jit_compile=True)
    x = np.array([[1, 2, 3], [4, 5, 0]], "int32")
    before = model.evaluate(x, TARGETS, sample_weight=WEIGHTS, verbose=0)
    want = float(SequenceLoss()(TARGETS, model(x), WEIGHTS))
    np.testing.assert_allclose(before, want, rtol=1e-5)
    model.fit(x, TARGETS, sample_weight=WEIGHTS, epochs=3, verbose=0)
    assert model.evaluate(x, TARGETS, sample_weight=WEIGHTS, verbose=0) < before


def test_bad_input():
    with pytest.raises(ValueError, match="Received: logits with shape \\(2, 12\\)"):
        sequence_loss(LOGITS.reshape(2, 12), TARGETS, WEIGHTS)
    with pytest.raises(ValueError, match="Received: targets with shape \\(6,\\)"):
        sequence_loss(LOGITS, TARGETS.reshape(6), WEIGHTS)
    with pytest.raises(ValueError, match="Received: weights with shape \\(6,\\)"):
        sequence_loss(LOGITS, TARGETS, WEIGHTS.reshape(6))
    with pytest.raises(ValueError, match="ambiguous"):
        SequenceLoss(average_across_timesteps=True, sum_over_timesteps=False)
    with pytest.raises(TypeError, match="Received: sum_over_batch=1"):
        SequenceLoss(sum_over_batch=1)
    with pytest.raises(TypeError, match="softmax_loss_function"):
        SequenceLoss(softmax_loss_function="softmax")
