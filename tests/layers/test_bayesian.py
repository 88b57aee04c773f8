"""Bayesian layers: harness checks, posterior moments and KL terms against NumPy references."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.bayesian import (
    Conv2DFlipout,
    DenseFlipout,
    DenseReparameterization,
    NormalPrior,
    ScaleMixturePrior,
    get_prior,
)
from tests import harness

RNG = np.random.default_rng(0)
FEATURES = RNG.normal(size=(4, 6)).astype("float32")
IMAGES = RNG.normal(size=(2, 6, 6, 3)).astype("float32")


def softplus(x):
    return np.log1p(np.exp(x))


def posterior(layer, name):
    loc = keras.ops.convert_to_numpy(getattr(layer, f"{name}_loc")).astype("float64")
    rho = keras.ops.convert_to_numpy(getattr(layer, f"{name}_untransformed_scale"))
    return loc, softplus(rho.astype("float64")) + 1e-6


def numpy_normal_kl(loc, scale, prior_loc=0.0, prior_scale=1.0):
    """KL(N(loc, scale^2) || N(prior_loc, prior_scale^2)), summed."""
    return np.sum(
        np.log(prior_scale / scale)
        + (scale**2 + (loc - prior_loc) ** 2) / (2 * prior_scale**2)
        - 0.5
    )


# --------------------------------------------------------------------------------------------
# Shared checks (XLA, mixed precision, .keras, MirroredStrategy)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls, kwargs, data, shape, distributed",
    [
        (
            DenseFlipout,
            {"units": 5, "activation": "relu", "kl_weight": 0.01, "seed": 3},
            FEATURES,
            (4, 5),
            True,
        ),
        (
            DenseReparameterization,
            {"units": 5, "local_reparameterization": True, "prior": "scale_mixture"},
            FEATURES,
            (4, 5),
            False,
        ),
        (
            Conv2DFlipout,
            {"filters": 4, "kernel_size": (3, 3), "strides": (2, 2), "padding": "same"},
            IMAGES,
            (2, 3, 3, 4),
            True,
        ),
    ],
    ids=["flipout", "local_reparam_mixture", "conv_flipout"],
)
def test_harness_stochastic(cls, kwargs, data, shape, distributed):
    # MirroredStrategy runs the same code path for every layer; two of the three cover it.
    harness.run_layer_test(
        cls,
        kwargs,
        data,
        expected_output_shape=shape,
        stochastic=True,
        run_distributed=distributed,
    )


def test_harness_deterministic_values():
    # With the posterior mean fixed by the initializers the output is known exactly, so the
    # harness compares values across eager, XLA, mixed precision and the .keras round trip.
    # Small weights and inputs keep the first loss-scaled float16 step from overflowing (an
    # overflowing step is skipped and would leave the weights as they were).
    kwargs = {
        "units": 2,
        "kernel_initializer": keras.initializers.Constant(0.1),
        "bias_initializer": keras.initializers.Constant(0.2),
        "deterministic": True,
        "prior": NormalPrior(scale=0.5),
    }
    x = 0.3 * FEATURES
    expected = 0.1 * x.sum(axis=1, keepdims=True) + np.full((4, 2), 0.2)
    harness.run_layer_test(DenseFlipout, kwargs, x, expected_output=expected, run_distributed=False)


# --------------------------------------------------------------------------------------------
# Sampling behaviour
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer_fn, data",
    [
        (lambda **kw: DenseFlipout(3, seed=1, **kw), FEATURES),
        (lambda **kw: DenseReparameterization(3, seed=1, **kw), FEATURES),
        (lambda **kw: DenseReparameterization(3, local_reparameterization=True, **kw), FEATURES),
        (lambda **kw: Conv2DFlipout(2, 3, seed=1, **kw), IMAGES),
    ],
    ids=["flipout", "reparam", "local_reparam", "conv_flipout"],
)
def test_stochastic_passes_differ_and_deterministic_ones_do_not(layer_fn, data):
    layer = layer_fn()
    first, second = layer(data, training=True), layer(data, training=False)
    assert not np.allclose(first, second)
    mean_a = layer(data, deterministic=True)
    mean_b = layer(data, deterministic=True)
    np.testing.assert_array_equal(mean_a, mean_b)

    fixed = layer_fn(deterministic=True)
    np.testing.assert_array_equal(fixed(data), fixed(data))
    assert not np.allclose(fixed(data, deterministic=False), fixed(data, deterministic=False))


def test_deterministic_output_is_the_posterior_mean():
    layer = DenseFlipout(3, activation="tanh")
    out = layer(FEATURES, deterministic=True)
    kernel, _ = posterior(layer, "kernel")
    bias, _ = posterior(layer, "bias")
    np.testing.assert_allclose(out, np.tanh(FEATURES @ kernel + bias), rtol=1e-5, atol=1e-6)


def test_conv_deterministic_output_matches_keras_conv():
    layer = Conv2DFlipout(4, 3, strides=2, padding="same", dilation_rate=1)
    out = layer(IMAGES, deterministic=True)
    kernel, _ = posterior(layer, "kernel")
    bias, _ = posterior(layer, "bias")
    reference = keras.layers.Conv2D(4, 3, strides=2, padding="same")
    reference.build(IMAGES.shape)
    reference.set_weights([kernel.astype("float32"), bias.astype("float32")])
    np.testing.assert_allclose(out, reference(IMAGES), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "make_layer",
    [
        lambda: DenseFlipout(2, posterior_scale_init=0.3, seed=0),
        lambda: DenseReparameterization(2, posterior_scale_init=0.3, seed=0),
        lambda: DenseReparameterization(2, posterior_scale_init=0.3, local_reparameterization=True),
        lambda: DenseReparameterization(2, posterior_scale_init=0.3, use_bias=False),
    ],
    ids=["flipout", "reparam", "local_reparam", "no_bias"],
)
def test_output_moments_match_the_posterior(make_layer):
    # Every estimator samples y = x W + b with W, b ~ q: mean x mu + mu_b and per-unit
    # variance sum_i x_i^2 sigma_ij^2 + sigma_bj^2.
    x = np.array([[1.0, -2.0, 0.5]], "float32")
    layer = make_layer()
    layer.build(x.shape)
    batch = np.repeat(x, 4, axis=0)
    draw = tf.function(lambda v: layer(v))
    # 800 calls: a shared-kernel estimator gives one independent weight draw per call.
    samples = np.concatenate([draw(batch).numpy() for _ in range(800)])
    kernel_loc, kernel_scale = posterior(layer, "kernel")
    bias_loc, bias_scale = posterior(layer, "bias") if layer.use_bias else (0.0, 0.0)
    mean = x @ kernel_loc + bias_loc
    variance = x**2 @ kernel_scale**2 + bias_scale**2
    np.testing.assert_allclose(samples.mean(axis=0), mean[0], atol=0.12)
    np.testing.assert_allclose(samples.var(axis=0), variance[0], rtol=0.2)


def test_flipout_decorrelates_examples_within_a_batch():
    # The same input repeated through one call: Flipout's signs make the per-example outputs
    # differ, while a shared reparameterised kernel gives identical rows.
    batch = np.repeat(FEATURES[:1], 8, axis=0)
    flipout = DenseFlipout(3, posterior_scale_init=0.5)(batch).numpy()
    shared = DenseReparameterization(3, posterior_scale_init=0.5)(batch).numpy()
    assert np.ptp(flipout, axis=0).max() > 0.1
    np.testing.assert_allclose(np.ptp(shared, axis=0), 0.0, atol=1e-6)


# --------------------------------------------------------------------------------------------
# KL terms
# --------------------------------------------------------------------------------------------


def test_kl_terms_appear_in_model_losses_and_equal_the_closed_form():
    inputs = keras.Input((6,))
    hidden = DenseFlipout(4, activation="relu", kl_weight=0.25, posterior_scale_init=0.2)
    head = DenseReparameterization(2, kl_weight=0.5, prior=NormalPrior(0.0, 2.0))
    model = keras.Model(inputs, head(hidden(inputs)))
    model(FEATURES)
    assert len(model.losses) == 2
    expected = [
        0.25 * sum(numpy_normal_kl(*posterior(hidden, n)) for n in ("kernel", "bias")),
        0.5
        * sum(numpy_normal_kl(*posterior(head, n), prior_scale=2.0) for n in ("kernel", "bias")),
    ]
    np.testing.assert_allclose([float(v) for v in model.losses], expected, rtol=1e-5)


def test_kl_is_float32_and_finite_under_mixed_precision():
    with harness.dtype_policy("mixed_float16"):
        # 300 x 300 weights: a KL summed in float16 would overflow (max 65504).
        layer = DenseFlipout(300, kl_weight=1.0, posterior_scale_init=1e-3)
        out = layer(np.ones((2, 300), "float32"))
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    (kl,) = layer.losses
    assert keras.backend.standardize_dtype(kl.dtype) == "float32"
    np.testing.assert_allclose(
        float(kl), sum(numpy_normal_kl(*posterior(layer, n)) for n in ("kernel", "bias")), rtol=1e-4
    )
    assert float(kl) > 65504


def test_kl_enters_the_training_loss():
    x, y = FEATURES, np.zeros((4, 1), "float32")
    model = keras.Sequential(
        [keras.Input((6,)), DenseFlipout(1, kl_weight=0.1, deterministic=True)]
    )
    model.compile(loss="mse")
    data_loss = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    kl = 0.1 * sum(numpy_normal_kl(*posterior(model.layers[0], n)) for n in ("kernel", "bias"))
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), data_loss + kl, rtol=1e-5)


def test_scale_mixture_kl_estimate_matches_quadrature():
    prior = ScaleMixturePrior(mixture_weight=0.3, scale_1=1.5, scale_2=0.1)
    layer = DenseReparameterization(1, prior=prior, kl_weight=1.0, posterior_scale_init=0.2, seed=4)
    layer.build((None, 2))
    layer.kernel_loc.assign([[0.3], [-0.7]])
    estimate = tf.function(lambda: (layer(FEATURES[:, :2]), layer.losses[0])[1])
    mean_estimate = np.mean([float(estimate()) for _ in range(400)])

    grid = np.linspace(-6, 6, 200_001)
    log_p = np.log(
        0.3 * np.exp(-0.5 * (grid / 1.5) ** 2) / (1.5 * math.sqrt(2 * math.pi))
        + 0.7 * np.exp(-0.5 * (grid / 0.1) ** 2) / (0.1 * math.sqrt(2 * math.pi))
    )
    reference = 0.0
    for name in ("kernel", "bias"):
        for loc, scale in zip(*(a.ravel() for a in posterior(layer, name)), strict=True):
            q = np.exp(-0.5 * ((grid - loc) / scale) ** 2) / (scale * math.sqrt(2 * math.pi))
            reference += np.trapezoid(q * (np.log(q + 1e-300) - log_p), grid)
    np.testing.assert_allclose(mean_estimate, reference, rtol=0.05)


def test_prior_serialisation_round_trip():
    layer = DenseFlipout(2, prior=ScaleMixturePrior(0.25, 2.0, 0.01))
    config = layer.get_config()
    restored = DenseFlipout.from_config(config)
    assert isinstance(restored.prior, ScaleMixturePrior)
    assert restored.prior.get_config() == {"mixture_weight": 0.25, "scale_1": 2.0, "scale_2": 0.01}
    assert restored.get_config() == config
    assert (
        DenseFlipout.from_config(DenseFlipout(2, prior="scale_mixture").get_config()).prior.scale_1
        == 1.0
    )


def test_saved_model_reproduces_deterministic_predictions(tmp_path):
    inputs = keras.Input((6, 6, 3))
    x = Conv2DFlipout(3, 3, activation="relu", prior="scale_mixture")(inputs)
    x = keras.layers.Flatten()(x)
    outputs = DenseFlipout(2, kl_weight=0.01)(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    model.fit(IMAGES, np.zeros((2, 2), "float32"), epochs=2, verbose=0)
    path = str(tmp_path / "bayes.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    for original, restored in zip(model.layers[1:], loaded.layers[1:], strict=True):
        if hasattr(original, "kernel_loc"):
            np.testing.assert_array_equal(original.kernel_loc, restored.kernel_loc)
            np.testing.assert_array_equal(
                original.kernel_untransformed_scale, restored.kernel_untransformed_scale
            )
    assert isinstance(loaded.layers[1].prior, ScaleMixturePrior)


# --------------------------------------------------------------------------------------------
# Defaults: the KL weight and the initial posterior
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, data",
    [
        (lambda: DenseFlipout(3), FEATURES),
        (lambda: DenseReparameterization(3), FEATURES),
        (lambda: Conv2DFlipout(2, 3), IMAGES),
    ],
    ids=["flipout", "reparam", "conv_flipout"],
)
def test_defaults_weight_the_kl_as_one_over_ten_thousand_examples(make, data):
    layer = make()
    layer(data)
    assert layer.kl_weight == 1 / 10_000
    for name in ("kernel", "bias"):
        np.testing.assert_allclose(posterior(layer, name)[1], 0.01, rtol=1e-5)
    kl = sum(numpy_normal_kl(*posterior(layer, name)) for name in ("kernel", "bias"))
    (loss,) = layer.losses
    np.testing.assert_allclose(float(loss), kl / 10_000, rtol=1e-5)


def sine_regression(n=256, seed=0):
    """The uncertainty literature's toy check: sin(3x) plus noise of std 0.1 on [-1, 1]."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 1)).astype("float32")
    return x, (np.sin(3 * x) + 0.1 * rng.normal(size=x.shape)).astype("float32")


def sine_net(**kwargs):
    return keras.Sequential(
        [
            keras.Input((1,)),
            DenseReparameterization(32, activation="tanh", **kwargs),
            DenseReparameterization(1, **kwargs),
        ]
    )


def kl_term(x, **kwargs):
    model = sine_net(**kwargs)
    model(x)
    return sum(float(loss) for loss in model.losses)


def test_default_kl_does_not_swamp_the_data_term_of_a_small_regression():
    # What made a net fit nothing: with kl_weight=1 the KL of this 97-weight net (about 4 nats
    # per weight at the initial posterior) is ~1000 times the data loss, so training returns
    # the prior. At the defaults it is a small part of the loss.
    x, y = sine_regression()
    data_loss = float(np.var(y))  # the mse of the best constant prediction
    assert kl_term(x) < 0.1 * data_loss
    assert kl_term(x, kl_weight=1.0) > 100 * data_loss


@pytest.mark.slow
def test_default_dense_reparameterization_fits_a_sine_and_is_unsure_away_from_it():
    x, y = sine_regression()
    keras.utils.set_random_seed(0)
    model = sine_net()
    model.compile(keras.optimizers.Adam(0.01), "mse")
    model.fit(x, y, epochs=150, verbose=0)
    inside = np.linspace(-1, 1, 41, dtype="float32")[:, None]
    far = np.array([[-3.0], [3.0]], "float32")
    samples = np.stack([model(np.concatenate([inside, far])).numpy()[:, 0] for _ in range(200)])
    inside_std = samples[:, :41].std(axis=0).mean()
    far_std = samples[:, 41:].std(axis=0).min()
    # The targets span [-1, 1]: the spread inside the data is small and the mean fits sin(3x).
    assert inside_std < 0.15, inside_std
    assert np.abs(samples[:, :41].mean(axis=0) - np.sin(3 * inside[:, 0])).mean() < 0.15
    # Mean-field tanh nets saturate at |x| = 3; the default gives ~2.4x (1.3x with kl_weight=1).
    assert far_std > 2 * inside_std, (inside_std, far_std)


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: DenseFlipout(0), r"`units` must be a positive integer. Received: units=0"),
        (lambda: DenseFlipout(2, kl_weight=-1.0), r"Received: kl_weight=-1.0"),
        (lambda: DenseFlipout(2, posterior_scale_init=0.0), r"Received: posterior_scale_init=0.0"),
        (lambda: DenseFlipout(2, prior="laplace"), r"Received: prior='laplace'"),
        (lambda: Conv2DFlipout(2, 0), r"Received: kernel_size=0"),
        (lambda: Conv2DFlipout(2, 3, padding="causal"), r"Received: padding='causal'"),
        (lambda: NormalPrior(scale=0.0), r"Received: scale=0.0"),
        (lambda: ScaleMixturePrior(mixture_weight=1.0), r"Received: mixture_weight=1.0"),
    ],
)
def test_bad_arguments_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: DenseFlipout(2, deterministic="yes"), r"Received: deterministic='yes'"),
        (lambda: DenseFlipout(2, seed=1.5), r"Received: seed=1.5"),
        (
            lambda: DenseReparameterization(2, local_reparameterization=1),
            r"Received: local_reparameterization=1",
        ),
    ],
)
def test_bad_argument_types_raise_type_error(make, match):
    with pytest.raises(TypeError, match=match):
        make()


def test_get_prior_accepts_names_instances_and_configs():
    assert isinstance(get_prior(None), NormalPrior)
    assert isinstance(get_prior("scale_mixture"), ScaleMixturePrior)
    prior = NormalPrior(1.0, 0.5)
    assert get_prior(prior) is prior
    restored = get_prior(keras.saving.serialize_keras_object(prior))
    assert restored.get_config() == {"loc": 1.0, "scale": 0.5}
