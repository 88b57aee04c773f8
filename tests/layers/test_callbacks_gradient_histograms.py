"""GradientHistograms: event files read back and checked against NumPy gradients."""

import glob
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.callbacks import GradientHistograms
from layers.callbacks.gradient_histograms import histogram_tensor
from tests import harness

RNG = np.random.default_rng(0)
X = RNG.normal(size=(16, 3)).astype("float32")
Y = RNG.normal(size=(16, 1)).astype("float32")


def read_histograms(log_dir):
    """{(step, tag): [k, 3] array} from every event file under `log_dir/train`."""
    found = {}
    for path in glob.glob(os.path.join(log_dir, "train", "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                assert value.metadata.plugin_data.plugin_name == "histograms"
                found[(event.step, value.tag)] = tf.make_ndarray(value.tensor)
    return found


def test_histogram_tensor_matches_numpy():
    values = RNG.normal(size=100)
    counts, edges = np.histogram(values, bins=30)
    tensor = histogram_tensor(values)
    np.testing.assert_array_equal(tensor[:, 0], edges[:-1])
    np.testing.assert_array_equal(tensor[:, 1], edges[1:])
    np.testing.assert_array_equal(tensor[:, 2], counts)


def test_gradients_and_activations_match_numpy(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, name="linear")], name="net")
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")  # weights stay put
    log_dir = str(tmp_path)
    callback = GradientHistograms(log_dir, freq=2, data=(X, Y))
    model.fit(X, Y, batch_size=16, epochs=3, verbose=0, callbacks=[callback])

    found = read_histograms(log_dir)
    kernel, bias = (v.numpy().astype(np.float64) for v in model.weights)
    residual = X @ kernel + bias - Y  # d/dw of mean((Xw + b - y)^2) = 2/N X^T r
    expected = {
        "gradients/net/linear/kernel": 2 / 16 * X.T @ residual,
        "gradients/net/linear/bias": 2 / 16 * residual.sum(0),
        "activations/linear": X @ kernel + bias,
    }
    assert sorted(found) == sorted((step, tag) for step in (0, 2) for tag in expected)
    for (_, tag), tensor in found.items():
        np.testing.assert_allclose(tensor, histogram_tensor(expected[tag]), rtol=1e-5, atol=1e-6)


def test_harness_and_mixed_precision(tmp_path):
    def callback_fn():
        return GradientHistograms(str(tmp_path), data=harness._regression_problem())

    harness.run_callback_test(callback_fn)
    with harness.dtype_policy("mixed_float16"):
        harness.run_callback_test(callback_fn, epochs=1)
    tags = {tag for _, tag in read_histograms(str(tmp_path))}
    assert "activations/hidden" in tags
    assert any(tag.startswith("gradients/") and tag.endswith("/hidden/kernel") for tag in tags)


def test_subclassed_model_logs_gradients_only(tmp_path):
    class Linear(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    model = Linear()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X, Y, epochs=1, verbose=0, callbacks=[GradientHistograms(str(tmp_path), data=(X, Y))])
    tags = {tag for _, tag in read_histograms(str(tmp_path))}
    assert tags and all(tag.startswith("gradients/") for tag in tags)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"log_dir": "", "data": (X, Y)}, "log_dir=''"),
        ({"log_dir": "logs", "freq": 0, "data": (X, Y)}, "freq=0"),
        ({"log_dir": "logs"}, "data of type NoneType"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GradientHistograms(**kwargs)


def test_mirrored_strategy(tmp_path):
    def fit(strategy):
        model = harness._regression_model()
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
        x, y = harness._regression_problem()
        callback = GradientHistograms(str(tmp_path), data=(x, y))
        model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[callback])
        return model

    model = harness.run_in_mirrored_strategy(fit)
    assert model.distribute_strategy.num_replicas_in_sync == 2
    found = read_histograms(str(tmp_path))

    # The same weights on one device give the same histograms: replica scaling is undone.
    single = harness._regression_model()
    single.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    single.set_weights(model.get_weights())
    reference = GradientHistograms(str(tmp_path / "single"), data=harness._regression_problem())
    reference.set_model(single)
    by_layer_and_weight = {tag.split("/", 2)[-1]: v for (_, tag), v in found.items()}
    for variable, gradient in reference.gradients():
        logged = by_layer_and_weight[variable.path.split("/", 1)[-1]]  # drop the model name
        np.testing.assert_allclose(logged, histogram_tensor(gradient), rtol=1e-4)
    assert "activations/hidden" in {tag for _, tag in found}
