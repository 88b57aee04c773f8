"""SHAP on Keras 3 through the `shap` package: linear-model closed form, the adapter's cases."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.explain.shap_explainers import shap_values
from zoo.explain.shap_plots import shap_summary_plot

pytest.importorskip("shap")

WEIGHTS = np.array([[1.0, -0.5], [-2.0, 0.0], [0.5, 1.5], [3.0, -1.0]], dtype="float32")
BIAS = np.array([0.3, -0.2], dtype="float32")


def linear_model():
    features = keras.Input((4,))
    outputs = keras.layers.Dense(2)(features)
    model = keras.Model(features, outputs)
    model.layers[-1].set_weights([WEIGHTS, BIAS])
    return model


def linear_data():
    rng = np.random.default_rng(0)
    background = rng.normal(size=(16, 4)).astype("float32")
    inputs = rng.normal(size=(3, 4)).astype("float32")
    closed_form = (inputs - background.mean(0))[:, :, None] * WEIGHTS[None]
    return inputs, background, closed_form


@pytest.mark.parametrize(
    ("method", "nsamples", "atol"),
    [
        ("deep", None, 1e-5),
        ("kernel", None, 1e-4),
        # shap's permutation explainer compiles numba kernels on first use (~15 s of CPU).
        pytest.param("permutation", 20, 1e-4, marks=pytest.mark.slow),
        # expected gradients averages w * (x - b) over 3000 sampled background rows b: the
        # error is a sample mean's, std |w| * std(b) / sqrt(3000) <= 0.06 here; 0.25 is 4 std.
        ("gradient", 3000, 0.25),
    ],
)
def test_linear_model_values_equal_closed_form(method, nsamples, atol):
    inputs, background, closed_form = linear_data()
    values = shap_values(linear_model(), inputs, background, method=method, nsamples=nsamples)
    assert values.shape == (3, 4, 2)
    np.testing.assert_allclose(values, closed_form, atol=atol)


class TwoHeads(keras.Model):
    """Subclassed (no `inputs`/`outputs` attributes) and dict-valued: what shap cannot read."""

    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(5, activation="tanh")
        self.logits = keras.layers.Dense(3)
        self.score = keras.layers.Dense(1)

    def call(self, features):
        hidden = self.hidden(features)
        return {"logits": self.logits(hidden), "score": keras.ops.squeeze(self.score(hidden), -1)}


@pytest.mark.parametrize(("output", "num_outputs"), [("logits", 3), ("score", 1)])
def test_subclassed_dict_output_model_through_adapter(output, num_outputs):
    model = TwoHeads()
    rng = np.random.default_rng(1)
    background = rng.normal(size=(8, 4)).astype("float32")
    inputs = rng.normal(size=(2, 4)).astype("float32")
    values = shap_values(model, inputs, background, method="deep", output=output)
    assert values.shape == (2, 4, num_outputs)
    explained = np.asarray(model(inputs)[output]).reshape(2, -1)
    expected = np.asarray(model(background)[output]).reshape(8, -1).mean(0)
    np.testing.assert_allclose(values.sum(1), explained - expected, atol=1e-5)


def test_kernel_on_images_is_additive():
    model = keras.Sequential(
        [
            keras.Input((4, 4, 1)),
            keras.layers.Conv2D(2, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    rng = np.random.default_rng(2)
    background = rng.random((6, 4, 4, 1)).astype("float32")
    inputs = rng.random((2, 4, 4, 1)).astype("float32")
    values = shap_values(model, inputs, background, method="kernel", nsamples=300)
    assert values.shape == (2, 4, 4, 1, 3)
    gap = np.asarray(model(inputs)) - np.asarray(model(background)).mean(0)
    np.testing.assert_allclose(values.reshape(2, 16, 3).sum(1), gap, atol=1e-5)


def test_deep_without_rule_names_op_and_leaves_gradients_working():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="gelu")])
    data = np.ones((4, 4), "float32")
    with pytest.raises(ValueError, match="'Erfc'"):
        shap_values(model, data, data, method="deep")
    variable = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        loss = variable[None][0] * 3.0  # StridedSlice: what shap's leaked patch broke
    assert float(tape.gradient(loss, variable)) == 3.0


def test_unknown_method():
    with pytest.raises(ValueError, match="method='lime'"):
        shap_values(linear_model(), np.ones((1, 4)), np.ones((2, 4)), method="lime")


def test_output_not_a_model_output():
    with pytest.raises(ValueError, match="output='probs'"):
        shap_values(TwoHeads(), np.ones((1, 4)), np.ones((2, 4)), output="probs")


def test_inputs_and_background_shapes_differ():
    with pytest.raises(ValueError, match=r"background.shape=\(2, 5\)"):
        shap_values(linear_model(), np.ones((1, 4)), np.ones((2, 5)))


def test_output_of_rank_three_is_refused():
    model = keras.Sequential([keras.Input((4, 2)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match=r"shape \(None, 4, 3\)"):
        shap_values(model, np.ones((1, 4, 2)), np.ones((2, 4, 2)))


@pytest.mark.parametrize("output_index", [None, 1])
def test_summary_plot_writes_png(tmp_path, output_index):
    inputs, background, _ = linear_data()
    values = shap_values(linear_model(), inputs, background, method="deep")
    path = shap_summary_plot(values, inputs, str(tmp_path / "plots" / "summary.png"), output_index)
    assert os.path.getsize(path) > 1000


def test_summary_plot_output_index_out_of_range(tmp_path):
    inputs, _, closed_form = linear_data()
    with pytest.raises(ValueError, match="output_index=2"):
        shap_summary_plot(closed_form, inputs, str(tmp_path / "s.png"), output_index=2)
