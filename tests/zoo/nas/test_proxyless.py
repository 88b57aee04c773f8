"""ProxylessNAS: binarised paths, gate gradients, the latency loss and the derived network."""

import numpy as np
import pytest
import tensorflow as tf

from zoo.nas.latency import block_key, predict_latency
from zoo.nas.proxyless import (
    ProxylessSupernet,
    expected_latency,
    latency_loss,
    parse_candidate,
    proxyless_search,
)

TINY = dict(
    input_shape=(8, 8, 1),
    num_classes=3,
    stem_channels=4,
    stage_channels=(8, 8),
    stage_depths=(1, 2),
    stage_strides=(1, 2),
    candidates=("mb3_e3", "mb5_e6", "zero"),
    head_channels=8,
)


@pytest.fixture(scope="module")
def supernet():
    model = ProxylessSupernet(**TINY)
    rng = np.random.default_rng(0)
    for alpha in model.alphas:
        alpha.assign(rng.normal(size=alpha.shape))
    return model


def images(n=4, seed=1):
    return np.random.default_rng(seed).random((n, 8, 8, 1)).astype("float32")


def synthetic_table(model):
    entries = {}
    for spec in model.all_latency_specs():
        if spec["type"] != "skip":
            cost = 0.01 * spec["kernel"] * spec["expand"] if spec["type"] == "mbconv" else 1.0
            entries[block_key(spec)] = cost
    return {"unit": "ms", "latency": entries}


def test_the_space_has_zero_only_where_a_block_keeps_its_shape(supernet):
    assert [tuple(c) for c in supernet.block_candidates] == [
        ("mb3_e3", "mb5_e6"),
        ("mb3_e3", "mb5_e6"),
        ("mb3_e3", "mb5_e6", "zero"),
    ]
    assert [len(p) for p in supernet.paths] == [2, 2, 3]


def test_derived_model_equals_the_supernet_on_that_path(supernet):
    x = images()
    for paths in ([1, 0, 2], [0, 1, 1]):
        model = supernet.derive(paths)
        np.testing.assert_allclose(model(x), supernet.run_paths(x, paths), atol=1e-5)
    # "zero" removes the block: the derived network has one block in the second stage.
    kernels = supernet.derive([1, 0, 2]).get_config()["kernels"]
    assert [list(k) for k in kernels] == [[5], [3]]


def test_binary_gates_run_one_path_and_send_gradients_to_the_sampled_pair(supernet):
    x = images()
    first, second = [0, 1, 2], [1, 0, 0]
    with tf.GradientTape() as tape:
        out = supernet.run_gated(x, first, second)
        loss = tf.reduce_sum(out**2)
    # The output is exactly one of the binarised networks mixing the two sampled paths.
    candidates = [
        supernet.run_paths(
            x, [f if keep else s for f, s, keep in zip(first, second, bits, strict=True)]
        )
        for bits in np.ndindex(2, 2, 2)
    ]
    assert min(np.abs(np.asarray(out) - np.asarray(c)).max() for c in candidates) < 1e-5
    gradients = tape.gradient(loss, supernet.alphas)
    # The unsampled "mb5_e6" path of the last block gets no gradient; the pairs get opposite ones
    # (softmax over two: dL/dalpha_a = -dL/dalpha_b).
    assert gradients[2].numpy()[1] == 0.0
    for g, (a, b) in zip(gradients, zip(first, second, strict=True), strict=True):
        g = g.numpy()
        assert g[a] == pytest.approx(-g[b], abs=1e-6)
        assert g[a] != 0.0


def test_expected_latency_and_loss_follow_the_formulas(supernet):
    table = synthetic_table(supernet)
    probabilities = supernet.probabilities()
    per_block = [0.01 * np.array([9, 30]), 0.01 * np.array([9, 30]), 0.01 * np.array([9, 30, 0])]
    formula = 2.0 + sum(float(p @ c) for p, c in zip(probabilities, per_block, strict=True))
    assert float(expected_latency(supernet, table)) == pytest.approx(formula, rel=1e-5)
    paths = [1, 0, 2]
    assert predict_latency(supernet.latency_specs(paths), table) == pytest.approx(2.0 + 0.3 + 0.09)
    assert latency_loss(2.0, 4.0, 2.0, "mul", beta=0.5) == pytest.approx(2.0 * 2.0**0.5)
    assert latency_loss(2.0, 4.0, 2.0, "add", weight=0.1) == pytest.approx(2.2)


def test_bad_candidates_and_arguments_raise_clear_errors(supernet):
    assert parse_candidate("mb7_e6") == (7, 6)
    with pytest.raises(ValueError, match="candidate='sep_conv_3x3'"):
        parse_candidate("sep_conv_3x3")
    with pytest.raises(ValueError, match="candidate='mb4_e3'"):
        ProxylessSupernet(**{**TINY, "candidates": ("mb4_e3",)})
    with pytest.raises(ValueError, match="needs an MBConv candidate"):
        ProxylessSupernet(**{**TINY, "candidates": ("zero",)})
    with pytest.raises(ValueError, match="indices="):
        supernet.derive([0, 0, 5])
    with pytest.raises(ValueError, match="loss='max'"):
        proxyless_search(supernet, (images(), [0] * 4), (images(), [0] * 4), {}, 1.0, loss="max")


@pytest.mark.slow
def test_a_tight_latency_target_moves_the_architecture_to_cheap_paths():
    model = ProxylessSupernet(**TINY)
    table = synthetic_table(model)
    x, y = images(64, seed=3), np.arange(64) % 3
    start = float(expected_latency(model, table))
    result = proxyless_search(
        model,
        (x, y),
        (x, y),
        table,
        target_latency_ms=1.0,
        epochs=3,
        warmup_epochs=1,
        batch_size=32,
        loss="add",
        latency_weight=5.0,
        architecture_learning_rate=0.1,
    )
    assert result.history["expected_latency_ms"][-1] < start
    assert result.names == tuple(model.path_names(result.paths))
    assert result.predicted_latency_ms == pytest.approx(
        predict_latency(model.latency_specs(result.paths), table)
    )


@pytest.mark.slow
def test_an_interrupted_search_resumes_to_the_uninterrupted_result(tmp_path):
    table = synthetic_table(ProxylessSupernet(**TINY))
    x, y = images(16, seed=3), np.arange(16) % 3
    options = dict(batch_size=8, warmup_epochs=1, seed=2, architecture_learning_rate=0.1)
    first = ProxylessSupernet(**TINY)
    whole = ProxylessSupernet(**TINY)
    whole.set_weights(first.get_weights())
    state = str(tmp_path / "state.npz")

    proxyless_search(first, (x, y), (x, y), table, 1.0, epochs=1, state_path=state, **options)
    resumed = ProxylessSupernet(**TINY)  # a new process: everything comes from the state
    result = proxyless_search(
        resumed, (x, y), (x, y), table, 1.0, epochs=2, state_path=state, **options
    )
    expected = proxyless_search(whole, (x, y), (x, y), table, 1.0, epochs=2, **options)

    for a, b in zip(resumed.variables, whole.variables, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=a.path)
    assert result.paths == expected.paths
    np.testing.assert_allclose(result.history["weight_loss"], expected.history["weight_loss"])
    assert len(result.history["expected_latency_ms"]) == 3

    with pytest.raises(ValueError, match=r"other settings.*Received: path="):
        proxyless_search(resumed, (x, y), (x, y), table, 2.0, epochs=2, state_path=state, **options)
