"""Progressive Neural Networks: the paper's equations, zero forgetting, growth, saving, serving."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import serving
import zoo
from tests import harness
from zoo.continual.progressive import (
    PADDING_LOGIT,
    LateralAdapter,
    ProgressiveNetwork,
    task_inputs,
)

TINY = {"input_shape": (6,), "hidden_units": (5, 4)}


def features(n=8, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 6)).astype("float32")


def relu(x):
    return np.maximum(x, 0.0)


def dense(layer, x):
    return x @ layer.kernel.numpy() + layer.bias.numpy()


def adapter(adapter_layer, h):
    """`σ(V (α h))`, the lateral adapter of Eq. 2 of the paper (before `U`)."""
    return relu(dense(adapter_layer.projection, adapter_layer.scale.numpy() * h))


def expected_logits(net, x):
    """Every column's logits computed with numpy from the paper's Eq. 2 and the weights."""
    activations, logits = [], []
    for k, column in enumerate(net.columns):
        own, h = [], x
        for i, layer in enumerate(column.hidden):
            if k and i:
                earlier = np.concatenate([activations[j][i - 1] for j in range(k)], axis=-1)
                h = np.concatenate([h, adapter(column.adapters[i - 1], earlier)], axis=-1)
            h = relu(dense(layer, h))
            own.append(h)
        if k:
            earlier = np.concatenate([activations[j][-1] for j in range(k)], axis=-1)
            h = np.concatenate([h, adapter(column.adapters[-1], earlier)], axis=-1)
        activations.append(own)
        logits.append(dense(column.head, h))
    return logits


def test_outputs_follow_the_papers_equations_per_task():
    net = ProgressiveNetwork(task_outputs=(3, 2, 3), lateral_scale=0.5, **TINY)
    x = features(6)
    task_id = np.array([0, 1, 2, 2, 1, 0], dtype="int32")
    logits = keras.ops.convert_to_numpy(net({"features": x, "task_id": task_id}))
    expected = expected_logits(net, x)
    assert logits.shape == (6, 3)
    for row, task in enumerate(task_id):
        width = expected[task].shape[-1]
        np.testing.assert_allclose(logits[row, :width], expected[task][row], rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(logits[row, width:], PADDING_LOGIT)


def test_lateral_adapter_passes_the_layer_checks():
    # The column layers are checked through the network (the registry's tiny entry).
    harness.run_layer_test(
        LateralAdapter,
        {"units": 3, "activation": "relu", "initial_scale": 0.5},
        features(4),
        expected_output_shape=(4, 3),
    )


def test_training_a_new_column_leaves_earlier_outputs_exactly_unchanged():
    net = ProgressiveNetwork(task_outputs=(2,), **TINY)
    x, labels = features(16), np.arange(16) % 2
    net.fit(task_inputs(x, 0), labels, epochs=1, batch_size=8, verbose=0)
    before = net.predict(task_inputs(x, 0), verbose=0)
    column_0 = [w.numpy().copy() for w in net.columns[0].weights]

    assert net.add_task(2) == 1
    column_1_initial = [w.numpy().copy() for w in net.columns[1].weights]
    net.fit(task_inputs(x, 1), 1 - labels, epochs=2, batch_size=8, verbose=0)

    np.testing.assert_array_equal(net.predict(task_inputs(x, 0), verbose=0), before)
    for old, new in zip(column_0, net.columns[0].weights, strict=True):
        np.testing.assert_array_equal(new.numpy(), old)
    new_weights = zip(net.columns[1].weights, column_1_initial, strict=True)
    # Every weight of the new column, adapters included, trained.
    assert all(not np.array_equal(w.numpy(), initial) for w, initial in new_weights)


def test_add_task_freezes_earlier_columns_and_compiles_a_fresh_optimizer():
    net = ProgressiveNetwork(task_outputs=(2,), **TINY)
    net.fit(task_inputs(features(), 0), np.arange(8) % 2, epochs=1, verbose=0)
    learning_rate = float(net.optimizer.learning_rate.numpy())

    assert net.add_task(4) == 1
    assert net.num_tasks == 2 and net.num_classes == 4
    assert net.get_config()["task_outputs"] == [2, 4]
    assert {v.path.split("/")[0] for v in net.trainable_variables} == {"column_1"}
    assert int(net.optimizer.iterations.numpy()) == 0
    assert float(net.optimizer.learning_rate.numpy()) == pytest.approx(learning_rate)
    # One adapter per hidden layer of the earlier column (feeding the next layer or the head).
    assert [a.name for a in net.columns[1].adapters] == ["lateral_1", "lateral_2"]


def test_compile_fills_in_the_classifier_defaults():
    net = ProgressiveNetwork(**TINY)
    net.compile(optimizer="sgd")
    assert isinstance(net.loss, keras.losses.SparseCategoricalCrossentropy)
    assert net.loss.from_logits
    assert isinstance(net.optimizer, keras.optimizers.SGD)


def test_lateral_connections_carry_earlier_columns_forward_only():
    net = ProgressiveNetwork(task_outputs=(2, 2), **TINY)
    x = features()
    out_0, out_1 = (keras.ops.convert_to_numpy(net(task_inputs(x, t))) for t in (0, 1))

    kernel = net.columns[1].hidden[0].kernel
    kernel.assign(kernel.numpy() * 2.0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(net(task_inputs(x, 0))), out_0)

    kernel = net.columns[0].hidden[0].kernel
    kernel.assign(kernel.numpy() * 2.0)
    assert not np.allclose(keras.ops.convert_to_numpy(net(task_inputs(x, 1))), out_1)


def test_grown_network_reloads_with_every_column_and_earlier_ones_frozen(tmp_path):
    net = ProgressiveNetwork(task_outputs=(2,), **TINY)
    net.add_task(3)
    net.fit(task_inputs(features(), 1), np.arange(8) % 3, epochs=1, verbose=0)
    path = str(tmp_path / "progressive.keras")
    net.save(path)

    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, ProgressiveNetwork)
    assert loaded.get_config() == net.get_config()
    for task in (0, 1):
        inputs = task_inputs(features(seed=1), task)
        expected = net.predict(inputs, verbose=0)
        np.testing.assert_array_equal(loaded.predict(inputs, verbose=0), expected)
    assert {v.path.split("/")[0] for v in loaded.trainable_variables} == {"column_1"}
    assert int(loaded.optimizer.iterations.numpy()) == int(net.optimizer.iterations.numpy())


def test_serving_model_exports_for_tf_serving(tmp_path):
    net = ProgressiveNetwork(task_outputs=(2, 3), **TINY)
    inputs = {"features": features(4), "task_id": np.array([0, 1, 1, 0], dtype="int32")}
    path = serving.export(net.serving_model(), str(tmp_path), "progressive")

    signature = tf.saved_model.load(path).signatures["serving_default"]
    served = signature(**{name: tf.constant(value) for name, value in inputs.items()})
    np.testing.assert_allclose(
        served["logits"].numpy(), keras.ops.convert_to_numpy(net(inputs)), rtol=1e-6, atol=1e-6
    )


def test_preset_is_registered_in_the_continual_family():
    spec = zoo.get_spec("progressive_digits")
    assert (spec.family, spec.task, spec.tunable) == ("continual", "classifier", True)
    net = zoo.create("progressive_digits", input_shape=(8, 8, 1), hidden_units=(8,))
    assert net(task_inputs(np.zeros((2, 8, 8, 1)), 0)).shape == (2, 2)  # flattened


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"task_outputs": ()}, r"task_outputs=\(\)"),
        ({"task_outputs": (2, 0)}, "task_outputs"),
        ({"hidden_units": ()}, r"hidden_units=\(\)"),
        ({"input_shape": (0,)}, "input_shape"),
        ({"lateral_scale": 0.0}, "lateral_scale=0.0"),
    ],
)
def test_bad_arguments_name_the_argument(arguments, match):
    with pytest.raises(ValueError, match=match):
        ProgressiveNetwork(**{**TINY, **arguments})


def test_add_task_rejects_an_empty_head():
    net = ProgressiveNetwork(**TINY)
    with pytest.raises(ValueError, match="num_outputs=0"):
        net.add_task(0)


def test_inputs_without_a_task_id_are_rejected():
    net = ProgressiveNetwork(**TINY)
    with pytest.raises(ValueError, match=r"Received: inputs=\['features'\]"):
        net({"features": features()})


def test_a_task_id_without_a_column_is_rejected():
    net = ProgressiveNetwork(task_outputs=(2, 2), **TINY)
    with pytest.raises(ValueError, match="task_id values from 0 to 2"):
        net({"features": features(3), "task_id": np.array([0, 1, 2], "int32")})


def test_features_of_the_wrong_size_are_rejected():
    net = ProgressiveNetwork(**TINY)
    with pytest.raises(ValueError, match=r"Received: features.shape=\(6, 5\)"):
        net({"features": np.zeros((6, 5), "float32"), "task_id": np.zeros((6,), "int32")})


def test_task_inputs_rejects_a_negative_task():
    with pytest.raises(ValueError, match="task=-1"):
        task_inputs(features(), -1)
