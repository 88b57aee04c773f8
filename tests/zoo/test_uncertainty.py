"""Uncertainty tools: MC prediction, deep ensembles, Gaussian heads, Bayesian models, plots."""

import json
import math

import keras
import keras_tuner
import numpy as np
import pytest

import zoo
import zoo.tuning
from layers.metrics import ExpectedCalibrationError
from layers.regularization import MCDropout
from tests import harness
from zoo.uncertainty import (
    BayesianCNN,
    BayesianMLP,
    DeepEnsemble,
    FGSMTrainer,
    GaussianHead,
    GaussianNLL,
    calibration_bins,
    mc_predict,
    reliability_diagram,
    summarize_classification,
    summarize_regression,
)

RNG = np.random.default_rng(0)


def mc_dropout_classifier(rate=0.3):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((5,))
    x = keras.layers.Dense(16, activation="relu")(inputs)
    x = MCDropout(rate, seed=1)(x)
    return keras.Model(inputs, keras.layers.Dense(3)(x))


# --------------------------------------------------------------------------------------------
# Predictive summaries and mc_predict
# --------------------------------------------------------------------------------------------


def test_classification_summary_hand_computed():
    # Two samples for one example: [0.5, 0.5] and [1, 0]. Mean [0.75, 0.25]; the expected
    # entropy is (ln 2 + 0) / 2; mutual information is the difference.
    summary = summarize_classification(np.array([[[0.5, 0.5]], [[1.0, 0.0]]]))
    np.testing.assert_allclose(summary.mean, [[0.75, 0.25]])
    total = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    np.testing.assert_allclose(summary.entropy, [total])
    np.testing.assert_allclose(summary.mutual_information, [total - math.log(2) / 2])
    np.testing.assert_allclose(summary.variance, [[0.0625, 0.0625]])


def test_regression_summary_is_the_moment_matched_mixture():
    means = np.array([[1.0], [3.0]])[:, None, :]
    variances = np.array([[0.5], [1.5]])[:, None, :]
    summary = summarize_regression(means, variances)
    np.testing.assert_allclose(summary.mean, [[2.0]])
    # E[var + mu^2] - E[mu]^2 = (0.5 + 1 + 1.5 + 9) / 2 - 4 = 2.
    np.testing.assert_allclose(summary.variance, [[2.0]])
    np.testing.assert_allclose(summary.std, [[math.sqrt(2.0)]])


def test_mc_predict_with_mc_dropout_classifier():
    model = mc_dropout_classifier()
    x = RNG.normal(size=(10, 5)).astype("float32")
    summary = mc_predict(model, x, samples=20, from_logits=True, batch_size=4)
    assert summary.samples.shape == (20, 10, 3)
    np.testing.assert_allclose(summary.mean.sum(-1), 1.0, rtol=1e-6)
    assert np.all(summary.mutual_information > 0)
    assert np.all(summary.mutual_information <= summary.entropy + 1e-12)
    reference = summarize_classification(summary.samples)
    np.testing.assert_allclose(summary.entropy, reference.entropy)

    # Without dropout every pass agrees: no epistemic uncertainty.
    deterministic = mc_predict(mc_dropout_classifier(rate=0.0), x, samples=5, from_logits=True)
    np.testing.assert_allclose(deterministic.mutual_information, 0.0, atol=1e-9)


def test_mc_predict_regression_with_bayesian_layers():
    model = BayesianMLP(
        input_shape=(3,), num_classes=1, hidden_units=(8,), posterior_scale_init=0.2
    )
    x = RNG.normal(size=(6, 3)).astype("float32")
    summary = mc_predict(model, x, samples=15, task="regression")
    assert summary.mean.shape == (6, 1) and summary.entropy is None
    assert np.all(summary.std > 0)
    np.testing.assert_allclose(summary.std, summary.samples.std(axis=0), rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"samples": 0}, r"Received: samples=0"),
        ({"task": "ranking"}, r"Received: task='ranking'"),
        ({"batch_size": -1}, r"Received: batch_size=-1"),
    ],
)
def test_mc_predict_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mc_predict(mc_dropout_classifier(), np.zeros((2, 5), "float32"), **kwargs)


# --------------------------------------------------------------------------------------------
# Gaussian head and loss
# --------------------------------------------------------------------------------------------


def test_gaussian_nll_hand_computed_and_harness():
    y_true = np.array([[1.0], [0.0]], "float32")
    y_pred = np.array([[0.5, 0.25], [0.0, 2.0]], "float32")
    per_example = [
        0.5 * math.log(0.25) + 0.25 / 0.5 + 0.5 * math.log(2 * math.pi),
        0.5 * math.log(2.0) + 0.5 * math.log(2 * math.pi),
    ]
    harness.run_loss_test(
        GaussianNLL, {"include_constant": True}, y_true, y_pred, expected=np.mean(per_example)
    )
    no_constant = GaussianNLL(include_constant=False)(y_true, y_pred)
    floored = GaussianNLL(min_variance=0.5)([[0.0]], [[0.0, -1.0]])
    np.testing.assert_allclose(float(floored), 0.5 * math.log(0.5 * 2 * math.pi), rtol=1e-6)
    np.testing.assert_allclose(
        float(no_constant), np.mean(per_example) - 0.5 * math.log(2 * math.pi), rtol=1e-6
    )


def test_gaussian_head_harness():
    x = RNG.normal(size=(4, 6)).astype("float32")
    result = harness.run_layer_test(
        GaussianHead,
        {"units": 2, "min_variance": 1e-3},
        x,
        expected_output_shape=(4, 4),
        expected_mixed_dtype="float32",
    )
    assert np.all(result["output"][:, 2:] >= 1e-3)


# --------------------------------------------------------------------------------------------
# Deep ensembles
# --------------------------------------------------------------------------------------------


def gaussian_regressor(hidden=16, learning_rate=0.02):
    model = keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(hidden, activation="relu"),
            GaussianHead(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=GaussianNLL())
    return model


def one_d_regression(n=64):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.0, 1.0, size=(n, 1)).astype("float32")
    y = (np.sin(3 * x) + 0.1 * rng.normal(size=(n, 1))).astype("float32")
    return x, y


def test_deep_ensemble_spread_grows_away_from_the_data():
    x, y = one_d_regression()
    ensemble = DeepEnsemble(gaussian_regressor, members=3, task="regression", seed=0)
    # The 64 points repeated 16 times: 96 steps in 3 epochs, without per-epoch overhead.
    ensemble.fit(np.tile(x, (16, 1)), np.tile(y, (16, 1)), epochs=3, batch_size=32, verbose=0)
    inside = np.linspace(-0.9, 0.9, 20, dtype="float32")[:, None]
    far = np.concatenate([np.linspace(-4, -3, 10), np.linspace(3, 4, 10)]).astype("float32")
    _, inside_var = ensemble.predict(inside)
    _, far_var = ensemble.predict(far[:, None])
    inside_std, far_std = np.sqrt(inside_var).mean(), np.sqrt(far_var).mean()
    assert far_std >= 2 * inside_std, (inside_std, far_std)
    # Inside the data the mixture fits the curve.
    mean, _ = ensemble.predict(inside)
    assert np.mean((mean - np.sin(3 * inside)) ** 2) < 0.05


@pytest.mark.slow
def test_bayesian_mlp_spread_grows_away_from_the_data():
    x, y = one_d_regression(128)
    keras.utils.set_random_seed(0)
    model = BayesianMLP(input_shape=(1,), num_classes=1, hidden_units=(32, 32), kl_weight=1 / 128)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse", metrics=None)
    model.fit(x, y, epochs=400, batch_size=32, verbose=0)
    inside = np.linspace(-0.9, 0.9, 20, dtype="float32")[:, None]
    far = np.concatenate([np.linspace(-4, -3, 10), np.linspace(3, 4, 10)]).astype("float32")
    inside_std = mc_predict(model, inside, samples=50, task="regression").std.mean()
    far_std = mc_predict(model, far[:, None], samples=50, task="regression").std.mean()
    assert far_std >= 2 * inside_std, (inside_std, far_std)


def classifier_fn():
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def test_deep_ensemble_classification_save_and_load(tmp_path):
    x = RNG.normal(size=(32, 5)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 1)
    ensemble = DeepEnsemble(classifier_fn, members=3, from_logits=True, seed=7)
    histories = ensemble.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert len(histories) == 3
    # Different seeds: different members.
    first, second = (m.layers[0].kernel.numpy() for m in ensemble.members[:2])
    assert not np.allclose(first, second)

    mean, variance = ensemble.predict(x)
    member_probs = np.stack(
        [keras.ops.softmax(m.predict(x, verbose=0)).numpy() for m in ensemble.members]
    )
    np.testing.assert_allclose(mean, member_probs.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(variance, member_probs.var(0), rtol=1e-4, atol=1e-7)
    summary = ensemble.predict_distribution(x)
    assert summary.mutual_information.shape == (32,)

    directory = str(tmp_path / "ensemble")
    ensemble.save(directory)
    with open(f"{directory}/ensemble.json") as f:
        manifest = json.load(f)
    assert manifest["members"] == ["member_0.keras", "member_1.keras", "member_2.keras"]
    loaded = DeepEnsemble.load(directory)
    assert loaded.task == "classification" and loaded.from_logits and loaded.seed == 7
    loaded_mean, loaded_variance = loaded.predict(x)
    np.testing.assert_allclose(loaded_mean, mean, rtol=1e-6)
    np.testing.assert_allclose(loaded_variance, variance, rtol=1e-5, atol=1e-9)


def test_deep_ensemble_regression_save_and_load(tmp_path):
    x, y = one_d_regression(16)
    ensemble = DeepEnsemble(
        lambda: gaussian_regressor(hidden=4), members=2, task="regression", adversarial_epsilon=0.02
    )
    ensemble.fit(x, y, epochs=2, verbose=0)
    mean, variance = ensemble.predict(x)
    means, variances = ensemble.predict_samples(x)
    np.testing.assert_allclose(mean, means.mean(0))
    np.testing.assert_allclose(variance, (variances + means**2).mean(0) - means.mean(0) ** 2)
    loaded = DeepEnsemble.load(ensemble.save(str(tmp_path / "regression")))
    assert loaded.adversarial_epsilon == 0.02
    np.testing.assert_allclose(loaded.predict(x)[1], variance, rtol=1e-5)


def test_fgsm_step_hand_computed():
    # y = w x with w = 1, x = 1, y = 0 and squared error: d loss / d x = 2 w (w x - y) = 2 > 0,
    # so x_adv = 1 + eps and the objective is w^2 + (w (1 + eps))^2. One SGD step with rate lr
    # gives w = 1 - lr * (2 + 2 (1 + eps)^2).
    eps, lr = 0.1, 0.05
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")]
    )
    model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
    history = FGSMTrainer(model, eps).fit(
        np.ones((1, 1), "float32"), np.zeros((1, 1), "float32"), epochs=1, verbose=0
    )
    np.testing.assert_allclose(history.history["loss"][0], 1 + (1 + eps) ** 2, rtol=1e-6)
    np.testing.assert_allclose(
        model.layers[0].kernel.numpy(), [[1 - lr * (2 + 2 * (1 + eps) ** 2)]], rtol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"members": 0}, ValueError, r"Received: members=0"),
        ({"task": "ranking"}, ValueError, r"Received: task='ranking'"),
        ({"adversarial_epsilon": -0.1}, ValueError, r"Received: adversarial_epsilon=-0.1"),
        ({"from_logits": "no"}, TypeError, r"Received: from_logits='no'"),
        ({"seed": 1.5}, ValueError, r"Received: seed=1.5"),
        ({"seed": -1}, ValueError, r"Received: seed=-1"),
    ],
)
def test_deep_ensemble_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        DeepEnsemble(classifier_fn, **kwargs)


def test_deep_ensemble_load_missing_manifest(tmp_path):
    with pytest.raises(FileNotFoundError, match="ensemble.json"):
        DeepEnsemble.load(str(tmp_path))


# --------------------------------------------------------------------------------------------
# Bayesian models (the registry test runs their deterministic tiny configurations)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls, kwargs, shape",
    [
        (BayesianMLP, {"input_shape": (6,), "num_classes": 3, "hidden_units": (8,)}, (6,)),
        (
            BayesianCNN,
            {"input_shape": (8, 8, 1), "num_classes": 3, "filters": (4,), "prior": "scale_mixture"},
            (8, 8, 1),
        ),
    ],
    ids=["mlp", "cnn"],
)
def test_bayesian_models_sample_and_collect_kl(cls, kwargs, shape):
    x = RNG.normal(size=(4, *shape)).astype("float32")
    model = cls(**kwargs)
    model(x)
    bayesian_layers = [layer for layer in model.layers if hasattr(layer, "kl_weight")]
    assert len(model.losses) == len(bayesian_layers) == 2
    assert not np.allclose(model(x), model(x))
    assert not np.allclose(model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_bayesian_mlp_shared_model_checks_while_sampling():
    # The registry test runs both models' deterministic tiny configurations; this runs the
    # sampling one (Conv2DFlipout's sampling path is covered by tests/layers/test_bayesian.py).
    kwargs = {"input_shape": (6,), "num_classes": 3, "hidden_units": (8,)}
    x = RNG.normal(size=(4, 6)).astype("float32")
    harness.run_model_test(
        lambda: BayesianMLP(**kwargs),
        x,
        np.arange(4) % 3,
        init_kwargs=kwargs,
        stochastic=True,
        run_distributed=False,  # covered by the layer tests and the registry's tiny run
    )


def test_bayesian_model_deterministic_switch():
    x = RNG.normal(size=(4, 64)).astype("float32")
    model = BayesianMLP(hidden_units=(8,), deterministic=True)
    np.testing.assert_array_equal(model(x), model(x))


def test_bayesian_model_bad_arguments():
    with pytest.raises(ValueError, match=r"Received: kl_weight=-1"):
        BayesianMLP(kl_weight=-1)
    with pytest.raises(ValueError, match=r"Received: input_shape=\(8, 8\)"):
        BayesianCNN(input_shape=(8, 8))
    with pytest.raises(TypeError, match=r"Received: deterministic=1"):
        BayesianCNN(filters=(4,), deterministic=1)
    with pytest.raises(ValueError, match=r"Received: output_activation='sigmoid'"):
        BayesianMLP(output_activation="sigmoid")


@pytest.mark.parametrize("name", ["bayesian_mlp_digits", "bayesian_cnn_digits"])
def test_bayesian_search_space_samples_builds_and_keeps_the_kl_weight(name):
    # `zoo tune` accepts the Bayesian models: each sampled architecture and posterior builds,
    # trains and keeps the registered KL weight (the space does not search it).
    spec = zoo.get_spec(name)
    hp = keras_tuner.HyperParameters()
    hp.Fixed("width", 16 if "cnn" in name else 32)  # small: fast to build
    overrides = spec.search_space(hp)
    assert {"prior", "posterior_scale_init", "activation"} <= set(hp.values)
    assert overrides["prior"] in ("normal", "scale_mixture")
    assert 1e-3 <= overrides["posterior_scale_init"] <= 1e-1
    model = zoo.tuning.hypermodel(name, width=hp.values["width"]).build(hp)
    assert isinstance(model, spec.builder)
    config = model.get_config()
    assert config["prior"] == overrides["prior"]
    assert config["kl_weight"] == spec.build().get_config()["kl_weight"]
    x = RNG.normal(size=(4, *model.input_shape[1:])).astype("float32")
    history = model.fit(x, np.arange(4) % 10, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])


# --------------------------------------------------------------------------------------------
# Reliability diagrams
# --------------------------------------------------------------------------------------------


def test_reliability_diagram_writes_png_and_bins_match_the_metric(tmp_path):
    logits = 2 * RNG.normal(size=(200, 4))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    labels = RNG.integers(0, 4, size=200)
    path = reliability_diagram(labels, probs, str(tmp_path / "plots" / "rel.png"), num_bins=10)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    bins = calibration_bins(labels, probs, num_bins=10)
    assert bins.counts.sum() == 200
    metric = ExpectedCalibrationError(num_bins=10)
    metric.update_state(labels, probs.astype("float32"))
    np.testing.assert_allclose(bins.ece, float(metric.result()), rtol=1e-5)


def test_reliability_diagram_bad_input(tmp_path):
    with pytest.raises(ValueError, match=r"Received: probs.shape=\(3,\)"):
        reliability_diagram([0, 1, 0], np.ones(3), str(tmp_path / "x.png"))
    with pytest.raises(ValueError, match=r"`y_true` has 2 labels"):
        reliability_diagram([0, 1], np.full((3, 2), 0.5), str(tmp_path / "x.png"))
