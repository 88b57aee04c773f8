"""The `CRF` layer and `CRFModelWrapper`: TensorFlow Addons' weights and outputs, masks, the
shared checks (XLA, mixed precision, `.keras`, MirroredStrategy) and bad input."""

import itertools
import os
import re
import tempfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.crf import CRF, CRFModelWrapper, crf_log_likelihood
from tests import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "crf.npz")
VARIANTS = ["full", "plain", "boundary_only"]


def load(prefix: str) -> dict:
    with np.load(FIXTURE) as data:
        return {k[len(prefix) :]: data[k] for k in data.files if k.startswith(prefix)}


def weights(d: dict) -> list:
    return [d[f"weight{i}"] for i in range(int(d["num_weights"]))]


# --------------------------------------------------------------------------------------------
# The layer
# --------------------------------------------------------------------------------------------


def test_shared_checks():
    """Eager, `tf.function`, XLA, mixed precision (potentials stay float32, as in TFA) and the
    `.keras` round trip. The outputs hold integers (tags, lengths), so the harness trains no
    model on them: `test_model_wrapper_shared_checks` trains the layer through `fit`."""
    x = np.random.default_rng(0).normal(size=(2, 5, 6)).astype("float32")
    # No `expected_output_shape`: the harness expects every output to have the batch axis,
    # and the transition matrix has none; the shapes are checked here.
    result = harness.run_layer_test(CRF, {"units": 4, "use_boundary": True, "use_kernel": True}, x)
    shapes = [tuple(t.shape) for t in result["output"]]
    assert shapes == [(2, 5), (2, 5, 4), (2,), (4, 4)]
    symbolic = CRF(4)(keras.Input((None, 6)))
    assert [tuple(t.shape) for t in symbolic] == [(None, None), (None, None, 4), (None,), (4, 4)]
    assert [t.dtype for t in symbolic] == ["int32", "float32", "int64", "float32"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_tensorflow_addons_weights_give_its_outputs(variant):
    d = load(f"layer_{variant}_")
    layer = CRF(
        int(d["units"]), use_boundary=bool(d["use_boundary"]), use_kernel=bool(d["use_kernel"])
    )
    layer(d["inputs"])
    assert [tuple(w.shape) for w in layer.get_weights()] == [w.shape for w in weights(d)]
    layer.set_weights(weights(d))
    for suffix, mask in (("", None), ("_masked", d["mask"])):
        decoded, potentials, lengths, chain = layer(d["inputs"], mask=mask)
        assert decoded.dtype == tf.int32 and lengths.dtype == tf.int64
        np.testing.assert_array_equal(decoded, d[f"decoded{suffix}"])
        np.testing.assert_allclose(potentials, d[f"potentials{suffix}"], atol=1e-5, rtol=1e-5)
        np.testing.assert_array_equal(lengths, d[f"lengths{suffix}"])
        np.testing.assert_allclose(chain, d[f"chain{suffix}"])


def test_tfa_unmasked_viterbi_decode():
    """From TFA's `layers/tests/crf_test.py`: ones as transitions and boundaries."""
    x = np.array(
        [
            [[0.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0]],
            [[0.0, 1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0]],
        ],
        "float32",
    )
    layer = CRF(5, chain_initializer="ones", boundary_initializer="ones", use_kernel=False)
    decoded, *_ = layer(x)
    np.testing.assert_array_equal(decoded, [[1, 2, 2], [1, 1, 1]])


def test_tfa_numerical_accuracy_against_brute_force():
    """TFA's layer test case: the log-likelihood of the layer's outputs equals the brute-force
    one (boundary scores included) over all 5**3 tag sequences."""
    logits = np.array(
        [
            [[0, 0, 0.5, 0.5, 0.2], [0, 0, 0.3, 0.3, 0.1], [0, 0, 0.9, 10, 1]],
            [[0, 0, 0.2, 0.5, 0.2], [0, 0, 3, 0.3, 0.1], [0, 0, 0.9, 1, 1]],
        ],
        "float32",
    )
    tags = np.array([[2, 3, 4], [3, 2, 2]])
    transitions = np.array(
        [
            [0.1, 0.2, 0.3, 0.4, 0.5],
            [0.8, 0.3, 0.1, 0.7, 0.9],
            [-0.3, 2.1, -5.6, 3.4, 4.0],
            [0.2, 0.4, 0.6, -0.3, -0.4],
            [1.0, 1.0, 1.0, 1.0, 1.0],
        ]
    )
    layer = CRF(
        5,
        use_kernel=False,
        chain_initializer=keras.initializers.Constant(transitions),
        boundary_initializer=keras.initializers.Constant(np.ones(5)),
    )
    decoded, potentials, lengths, chain = layer(logits)
    log_likelihood, _ = crf_log_likelihood(potentials, tags, lengths, chain)

    def score(row, sequence):
        total = 2.0 * 1.0  # start and end scores (ones)
        total += sum(transitions[a, b] for a, b in zip(sequence[:-1], sequence[1:], strict=True))
        return total + sum(logits[row, i, tag] for i, tag in enumerate(sequence))

    for row in range(2):
        scores = {s: score(row, s) for s in itertools.product(range(5), repeat=3)}
        expected = score(row, tuple(tags[row])) - np.logaddexp.reduce(list(scores.values()))
        np.testing.assert_allclose(log_likelihood[row], expected, rtol=5e-5)
        assert tuple(decoded[row].numpy()) == max(scores, key=scores.get)


def test_mask_from_an_embedding_sets_lengths_in_a_model():
    tokens = keras.Input((None,), dtype="int32")
    features = keras.layers.Embedding(10, 3, mask_zero=True)(tokens)
    decoded, potentials, lengths, _ = CRF(4)(features)
    model = keras.Model(tokens, [decoded, lengths])
    x = np.array([[1, 2, 3, 0], [4, 0, 0, 0]])
    tags, got_lengths = model(x)
    np.testing.assert_array_equal(got_lengths, [3, 1])
    np.testing.assert_array_equal(tags.numpy()[1, 1:], 0)


def test_decoding_model_exports_as_a_saved_model():
    """`keras.Model.export`: the decoding (two `tf.scan`s) is served from a SavedModel."""
    inputs = keras.Input((None, 6))
    decoded, *_ = CRF(4)(inputs)
    model = keras.Model(inputs, decoded)
    x = np.random.default_rng(2).normal(size=(3, 5, 6)).astype("float32")
    with tempfile.TemporaryDirectory() as directory:
        model.export(directory, verbose=False)
        reloaded = tf.saved_model.load(directory)
        served = reloaded.serve(tf.constant(x))
    np.testing.assert_array_equal(served, model(x))


def test_left_padding_and_bad_masks():
    layer = CRF(3)
    x = np.zeros([2, 3, 4], "float32")
    # As TFA: left padding is refused in eager calls.
    with pytest.raises(NotImplementedError, match="right padding"):
        layer(x, mask=np.array([[0, 1, 1], [1, 1, 1]], bool))
    with pytest.raises(ValueError, match=r"mask.*Received: mask.shape=\(2, 3, 1\)"):
        layer(x, mask=np.ones([2, 3, 1], bool))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match=re.escape("Received: units=0")):
        CRF(0)
    with pytest.raises(ValueError, match="units"):
        CRF(2.5)
    with pytest.raises(TypeError, match="Received: use_boundary='yes'"):
        CRF(3, use_boundary="yes")
    with pytest.raises(ValueError, match=r"use_kernel=False.*units`=3.*\(2, 5, 4\)"):
        CRF(3, use_kernel=False)(np.zeros([2, 5, 4], "float32"))


def test_mixed_precision_keeps_float32_potentials():
    with harness.dtype_policy("mixed_float16"):
        layer = CRF(3)
        decoded, potentials, _, chain = layer(np.ones([2, 4, 5], "float16"))
    assert potentials.dtype == tf.float32 and chain.dtype == tf.float32
    assert layer.chain_kernel.dtype == "float32"


# --------------------------------------------------------------------------------------------
# CRFModelWrapper
# --------------------------------------------------------------------------------------------


def dense_base(features: int = 3, width: int = 6) -> keras.Model:
    return keras.Sequential([keras.Input((5, features)), keras.layers.Dense(width)])


def test_model_wrapper_matches_tensorflow_addons():
    d = load("wrapper_")
    model = CRFModelWrapper(dense_base(), 4)
    model(d["inputs"])
    model.set_weights(weights(d))
    np.testing.assert_array_equal(model(d["inputs"]), d["decoded"])
    (potentials, lengths, kernel), decoded = model(d["inputs"], return_crf_internal=True)
    np.testing.assert_array_equal(decoded, d["decoded"])
    loss = model.compute_crf_loss(potentials, lengths, kernel, d["tags"])
    weighted = model.compute_crf_loss(potentials, lengths, kernel, d["tags"], d["sample_weight"])
    np.testing.assert_allclose(loss, d["loss"], rtol=1e-5)
    np.testing.assert_allclose(weighted, d["weighted_loss"], rtol=1e-5)
    # `evaluate` reports the same loss through `compute_loss`.
    model.compile(optimizer="sgd")
    result = model.evaluate(d["inputs"], d["tags"], batch_size=4, verbose=0, return_dict=True)
    np.testing.assert_allclose(result["loss"], d["loss"], rtol=1e-5)
    np.testing.assert_allclose(result["crf_loss"], d["loss"], rtol=1e-5)


def test_model_wrapper_shared_checks():
    """`fit` trains the CRF through `compute_loss`: plain, XLA, `.keras` round trip, and
    `mixed_float16` under a two-device MirroredStrategy."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5, 3)).astype("float32")
    y = rng.integers(0, 4, size=(4, 5)).astype("int32")

    def build():
        model = CRFModelWrapper(dense_base(), units=4)
        model.compile(optimizer=keras.optimizers.SGD(0.05))
        return model

    harness.run_model_test(build, x, y, init_kwargs={"units": 4})


def test_model_wrapper_docstring_example_runs():
    source = CRFModelWrapper.__doc__
    code = re.search(r"```python\n(.*?)```", source, re.S).group(1)
    code = re.sub(r"^ {4}", "", code, flags=re.M).replace("size=(32, 12)", "size=(8, 6)")
    namespace = {}
    exec(code, namespace)
    assert namespace["tags"].shape == (8, 6) and namespace["tags"].dtype == np.int32


def test_model_wrapper_sample_weights_and_regularization():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 5, 3)).astype("float32")
    y = rng.integers(0, 4, size=(4, 5))
    base = keras.Sequential(
        [keras.Input((5, 3)), keras.layers.Dense(6, kernel_regularizer=keras.regularizers.L2(1.0))]
    )
    model = CRFModelWrapper(base, 4)
    model.compile(optimizer="sgd")
    (potentials, lengths, kernel), _ = model(x, return_crf_internal=True)
    weights_ = np.array([1.0, 0.0, 2.0, 0.5], "float32")
    crf = model.compute_crf_loss(potentials, lengths, kernel, y, weights_)
    penalty = float(tf.add_n(model.losses))
    result = model.evaluate(x, y, sample_weight=weights_, batch_size=4, verbose=0, return_dict=True)
    np.testing.assert_allclose(result["loss"], float(crf) + penalty, rtol=1e-5)
    with pytest.raises(ValueError, match="y=None"):
        model.compute_loss(x, None, None)
    with pytest.raises(TypeError, match="base_model"):
        CRFModelWrapper("not a model", 3)
