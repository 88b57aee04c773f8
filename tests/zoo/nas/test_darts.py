"""DARTS: MixedOp, the candidate ops, derive(), build_from_genotype(), the bilevel search step,
the resumable state and the `zoo nas search darts` command."""

import json
import os

import keras
import numpy as np
import pytest

from zoo.nas import MixedOp, make_op
from zoo.nas.darts import (
    DartsSearchModel,
    Genotype,
    build_from_genotype,
    copy_search_weights,
    darts_search,
    derive,
    edge_index,
    load_search_state,
    num_edges,
    save_search_state,
)
from zoo.nas.darts.presets import TINY_GENOTYPE
from zoo.nas.ops import OP_NAMES

TINY = dict(num_classes=3, input_shape=(8, 8, 1), image_size=8, channels=4, num_cells=3)
RNG = np.random.default_rng(0)


def images(n=4, shape=(8, 8, 1)):
    return RNG.normal(size=(n, *shape)).astype("float32")


def one_hot(edges, op_names, num_nodes=2):
    """Mixing weights that keep exactly `edges` (one op each) and zero every other edge."""
    weights = np.zeros((num_edges(num_nodes), len(op_names)), "float32")
    for k, (op_name, source) in enumerate(edges):
        weights[edge_index(k // 2, source), list(op_names).index(op_name)] = 1.0
    return weights


# The path check: every kind of edge (conv, dilated conv, pool, identity, FactorizedReduce).
PATH_OPS = ("none", "max_pool_3x3", "skip_connect", "sep_conv_3x3", "dil_conv_3x3")
PATH_GENOTYPE = {
    "normal": [["sep_conv_3x3", 0], ["skip_connect", 1], ["dil_conv_3x3", 2], ["max_pool_3x3", 0]],
    "reduce": [["max_pool_3x3", 0], ["skip_connect", 1], ["sep_conv_3x3", 2], ["dil_conv_3x3", 1]],
}
# Enough for the search step and the state: an op with weights, one without, and `none`.
SMALL_OPS = ("none", "skip_connect", "sep_conv_3x3")


def search_model(**options):
    keras.utils.set_random_seed(0)
    options = {**TINY, "num_nodes": 2, "op_names": SMALL_OPS, **options}
    model = DartsSearchModel(**options)
    model.compile()
    return model


@pytest.mark.parametrize("stride", [1, 2])
def test_mixed_op_is_the_weighted_sum_of_its_ops(stride):
    x = images(2, (6, 6, 4))
    op = MixedOp(OP_NAMES, channels=4, stride=stride)
    weights = RNG.uniform(size=len(OP_NAMES)).astype("float32")
    outputs = [keras.ops.convert_to_numpy(layer(x)) for layer in op.ops]
    expected = sum(w * out for w, out in zip(weights, outputs, strict=True))
    np.testing.assert_allclose(op(x, weights), expected, rtol=1e-5, atol=1e-6)
    assert outputs[0].shape == (2, 6 // stride, 6 // stride, 4)
    for i in range(len(OP_NAMES)):  # a one-hot weight is exactly that op
        np.testing.assert_array_equal(op(x, np.eye(len(OP_NAMES), dtype="float32")[i]), outputs[i])
    assert [type(layer).__name__ for layer in op.ops][3] == (
        "Identity" if stride == 1 else "FactorizedReduce"
    )


def test_unknown_op_names_are_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"sep_conv_3x3.*Received: op_name='conv_7x7'"):
        make_op("conv_7x7", 4)
    with pytest.raises(ValueError, match="Received: op_name='conv_7x7'"):
        MixedOp(["skip_connect", "conv_7x7"], channels=4)
    with pytest.raises(ValueError, match="Received: stride=3"):
        make_op("max_pool_3x3", 4, stride=3)


def test_derive_keeps_the_two_strongest_edges_and_their_strongest_real_op():
    weights = np.full((num_edges(2), len(OP_NAMES)), 0.01, "float32")
    weights[:, 0] = 0.9  # `none` is never chosen, however strong
    weights[0, OP_NAMES.index("sep_conv_3x3")] = 0.5
    weights[1, OP_NAMES.index("max_pool_3x3")] = 0.4
    weights[edge_index(1, 0), OP_NAMES.index("dil_conv_5x5")] = 0.2
    weights[edge_index(1, 2), OP_NAMES.index("skip_connect")] = 0.3
    weights[edge_index(1, 1), OP_NAMES.index("avg_pool_3x3")] = 0.1
    genotype = derive(weights, weights)
    assert genotype.normal == (
        ("sep_conv_3x3", 0),
        ("max_pool_3x3", 1),
        ("dil_conv_5x5", 0),
        ("skip_connect", 2),
    )
    assert Genotype.from_json(genotype.to_json()) == genotype
    with pytest.raises(ValueError, match=r"Received: weights_normal with shape \(4, 8\)"):
        derive(weights[:4], weights)


@pytest.mark.parametrize(
    "normal, match",
    [
        ([["conv_7x7", 0], ["skip_connect", 1]], "op_name='conv_7x7'"),
        ([["skip_connect", 0], ["skip_connect", 2]], "Received: source=2"),
        ([["none", 0], ["skip_connect", 1]], "no 'none' edges"),
        ([["skip_connect", 0]], "two"),
        ([["skip_connect", 1], ["max_pool_3x3", 1]], "one source"),
    ],
)
def test_a_genotype_that_does_not_fit_the_space_is_refused(normal, match):
    with pytest.raises(ValueError, match=match):
        build_from_genotype({"normal": normal, "reduce": TINY_GENOTYPE["reduce"][:2]})


def test_genotype_checks_against_a_search_space():
    genotype = Genotype.from_dict(TINY_GENOTYPE)
    with pytest.raises(ValueError, match="Received: num_nodes=4"):
        genotype.check_fits(num_nodes=4)
    with pytest.raises(ValueError, match="op_name='sep_conv_3x3'"):
        genotype.check_fits(op_names=("none", "skip_connect", "max_pool_3x3"))
    with pytest.raises(ValueError, match="keys 'normal' and 'reduce'"):
        build_from_genotype({"normal": TINY_GENOTYPE["normal"]})


def test_derived_network_equals_the_supernet_restricted_to_its_path():
    model = search_model(op_names=PATH_OPS)
    genotype = Genotype.from_dict(PATH_GENOTYPE)
    network = build_from_genotype(genotype.to_json(), **TINY)
    copy_search_weights(model, network)
    path = (one_hot(genotype.normal, PATH_OPS), one_hot(genotype.reduce, PATH_OPS))
    x = images()
    for training in (False, True):
        np.testing.assert_array_equal(
            model(x, training=training, mixing_weights=path), network(x, training=training)
        )
    assert not any("alpha" in w.path for w in network.weights)
    # The softmax mixture is another network: the comparison above is not vacuous.
    assert not np.allclose(model(x, training=False), network(x, training=False))


def _step_data():
    train = (images(4), np.array([0, 1, 2, 0]))
    val = (images(4), np.array([2, 1, 0, 1]))
    return train, val


def test_a_search_step_updates_alphas_from_val_and_weights_from_train():
    model, reference = search_model(), search_model()
    before = [keras.ops.convert_to_numpy(v) for v in model.trainable_variables]
    (x_train, y_train), (x_val, y_val) = _step_data()
    model.train_step(((x_train, y_train), (x_val, y_val)))

    # The same step by hand: Adam on dL_val/dalpha (+ L2), then SGD on dL_train/dw (+ L2, clip).
    import tensorflow as tf

    alphas, weights = reference.alpha_variables, reference.weight_variables
    with tf.GradientTape() as tape:
        loss = reference.loss_fn(y_val, reference(x_val, training=True))
    grads = tape.gradient(loss, alphas)
    adam = keras.optimizers.Adam(3e-4, beta_1=0.5, beta_2=0.999)
    adam.apply_gradients([(g + 1e-3 * a, a) for g, a in zip(grads, alphas, strict=True)])
    with tf.GradientTape() as tape:
        loss = reference.loss_fn(y_train, reference(x_train, training=True))
    grads = [g + 3e-4 * w for g, w in zip(tape.gradient(loss, weights), weights, strict=True)]
    grads, _ = tf.clip_by_global_norm(grads, 5.0)
    keras.optimizers.SGD(0.025, momentum=0.9).apply_gradients(zip(grads, weights, strict=True))

    for got, want in zip(model.trainable_variables, reference.trainable_variables, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7, err_msg=got.path)
    for variable, start in zip(model.trainable_variables, before, strict=True):
        assert not np.allclose(variable, start), f"{variable.path} did not move"


def test_the_second_order_step_restores_the_weights_it_unrolls():
    model = search_model(unrolled=True)
    train, val = _step_data()
    before = [keras.ops.convert_to_numpy(w) for w in model.weight_variables]
    second, _ = model._arch_gradients(train, val)
    for w, b in zip(model.weight_variables, before, strict=True):
        np.testing.assert_array_equal(w, b)
    model.unrolled = False
    first, _ = model._arch_gradients(train, val)
    assert all(np.isfinite(keras.ops.convert_to_numpy(g)).all() for g in second)
    assert not np.allclose(second[0], first[0])


def test_search_state_round_trips_weights_alphas_and_both_optimizers(tmp_path):
    model = search_model()
    model.train_step(_step_data())
    path = str(tmp_path / "state.npz")
    save_search_state(model, path, epoch=3)
    restored = search_model()
    assert load_search_state(restored, path) == 3
    for mine, theirs in (
        (model.variables, restored.variables),
        (model.optimizer.variables, restored.optimizer.variables),
        (model.arch_optimizer.variables, restored.arch_optimizer.variables),
    ):
        for a, b in zip(mine, theirs, strict=True):
            np.testing.assert_array_equal(a, b)
    with np.load(path) as state:
        values = {k: state[k] for k in state.files}
    values["v0"] = values["v0"][..., :1]
    np.savez(tmp_path / "other.npz", **values)
    with pytest.raises(ValueError, match="another configuration"):
        load_search_state(restored, str(tmp_path / "other.npz"))


@pytest.mark.slow
def test_the_cli_searches_writes_the_genotype_and_resumes(tmp_path, capsys):
    from zoo.cli import main

    output = str(tmp_path / "darts")
    common = ["nas", "search", "darts", "--output", output, "--channels", "4", "--cells", "3"]
    common += ["--nodes", "2", "--image-size", "8", "--batch-size", "256"]
    common += ["--ops", ",".join(SMALL_OPS)]
    assert main([*common, "--epochs", "1"]) == 0
    genotype = Genotype.from_json((tmp_path / "darts" / "genotype.json").read_text())
    assert genotype.num_nodes == 2
    with np.load(f"{output}/search_state.npz") as state:
        assert int(state["epoch"]) == 1
    saved_at = os.path.getmtime(f"{output}/search_state.npz")
    capsys.readouterr()
    assert main([*common, "--epochs", "1"]) == 0  # done already: nothing to run
    assert "Epoch 1/1" not in capsys.readouterr().out
    assert os.path.getmtime(f"{output}/search_state.npz") == saved_at
    assert main(["nas", "search", "darts", "--data", str(tmp_path / "missing")]) == 2
    with pytest.raises(SystemExit):  # argparse: exit status 2 and the known names
        main([*common, "--ops", "none,conv_7x7"])
    assert "conv_7x7" in capsys.readouterr().err


@pytest.mark.slow
def test_an_interrupted_search_resumes_to_the_uninterrupted_result(tmp_path):
    from zoo.datasets import load_digits

    digits = load_digits(dtype="float32")
    x, y = digits.train.x[:256], digits.train.y[:256]
    options = dict(epochs=2, batch_size=32, seed=1, verbose=0, channels=4, num_cells=3)
    options.update(num_nodes=2, image_size=8, op_names=SMALL_OPS)

    class StopAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    darts_search(x, y, output=str(tmp_path / "a"), callbacks=[StopAfterFirstEpoch()], **options)
    resumed, _ = darts_search(x, y, output=str(tmp_path / "a"), **options)
    whole, _ = darts_search(x, y, output=str(tmp_path / "b"), **options)
    for a, b in zip(resumed.variables, whole.variables, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=a.path)
    genotypes = [json.loads((tmp_path / d / "genotype.json").read_text()) for d in "ab"]
    assert genotypes[0] == genotypes[1]
