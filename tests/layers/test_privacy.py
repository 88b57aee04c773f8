"""DP-SGD: `layers.privacy` (DPOptimizer, make_private, PrivateTraining)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.privacy import (
    DPOptimizer,
    PrivateTraining,
    ghost_clipping_plan,
    make_private,
    microbatch_gradients,
)
from layers.privacy.ghost_clipping import _patches
from tests import harness

FEATURES, OUTPUTS, BATCH = 4, 3, 8


def linear_model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((FEATURES,)), keras.layers.Dense(OUTPUTS)])


def problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(BATCH, FEATURES)).astype("float32")
    y = rng.normal(size=(BATCH, OUTPUTS)).astype("float32")
    return x, y


def numpy_private_gradient(kernel, bias, x, y, clip, groups, sample_weight):
    """The clipped, averaged microbatch gradients of `mean((x W + b - y)^2)`, in NumPy."""
    residual = x @ kernel + bias - y  # [B, K]
    per_example = 2.0 / OUTPUTS * residual * sample_weight[:, None]  # d loss_i / d prediction
    grad_kernel = np.einsum("bi,bk->bik", x, per_example)
    grad_bias = per_example
    # Microbatch gradient: the mean of its examples' gradients.
    grad_kernel = grad_kernel.reshape(groups, -1, FEATURES, OUTPUTS).mean(axis=1)
    grad_bias = grad_bias.reshape(groups, -1, OUTPUTS).mean(axis=1)
    norms = np.sqrt((grad_kernel**2).sum(axis=(1, 2)) + (grad_bias**2).sum(axis=1))
    assert (norms > clip).any() and (norms < clip).any()  # both branches of the clip are used
    scale = clip / np.maximum(norms, clip)
    return (
        np.einsum("g,gik->ik", scale, grad_kernel) / groups,
        np.einsum("g,gk->k", scale, grad_bias) / groups,
    )


@pytest.mark.parametrize("num_microbatches", [None, 2])
def test_private_step_matches_numpy_reference_without_noise(num_microbatches):
    x, y = problem()
    weights = np.linspace(0.5, 1.5, BATCH).astype("float32")
    clip = 1.5 if num_microbatches is None else 1.8
    model = linear_model()
    kernel, bias = model.get_weights()
    optimizer = make_private(keras.optimizers.SGD(1.0), clip, 0.0, num_microbatches)
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(
        x,
        y,
        sample_weight=weights,
        batch_size=BATCH,
        verbose=0,
        shuffle=False,  # the microbatches are consecutive examples
        callbacks=[PrivateTraining()],
    )
    groups = num_microbatches or BATCH
    grad_kernel, grad_bias = numpy_private_gradient(kernel, bias, x, y, clip, groups, weights)
    new_kernel, new_bias = model.get_weights()
    np.testing.assert_allclose(kernel - new_kernel, grad_kernel, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bias - new_bias, grad_bias, rtol=1e-5, atol=1e-6)


def test_microbatch_gradients_are_per_example_gradients():
    """The vectorised per-example gradients equal a gradient taken one example at a time."""
    x, y = problem()
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((FEATURES,)), keras.layers.Dense(5, activation="tanh"), keras.layers.Dense(3)]
    )
    loss_fn = keras.losses.get("mse")
    grads, prediction = microbatch_gradients(model, loss_fn, x, y)
    np.testing.assert_allclose(prediction, model(x), rtol=1e-5, atol=1e-6)
    for i in range(BATCH):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(loss_fn(y[i : i + 1], model(x[i : i + 1])))
        expected = tape.gradient(loss, model.trainable_weights)
        for got, want in zip(grads, expected, strict=True):
            np.testing.assert_allclose(got[i], want, rtol=1e-5, atol=1e-6)


def test_noise_std_is_noise_multiplier_times_clip_over_batch():
    # Zero inputs: every per-example kernel gradient is 0, so the kernel moves by the noise only.
    batch, units, noise_multiplier, clip = 16, 4000, 1.1, 0.7
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(units, use_bias=False, kernel_initializer="zeros")]
    )
    model.compile(
        optimizer=make_private(keras.optimizers.SGD(1.0), clip, noise_multiplier, seed=3),
        loss="mse",
    )
    x = np.zeros((batch, 5), "float32")
    model.fit(
        x, np.ones((batch, units)), batch_size=batch, verbose=0, callbacks=[PrivateTraining()]
    )
    noise = model.get_weights()[0].ravel()  # 20000 draws
    expected = noise_multiplier * clip / batch
    assert abs(noise.mean()) < 4 * expected / np.sqrt(noise.size)
    # The sample std of 20000 normal draws is within 2% of the true one (about 4 sigma).
    np.testing.assert_allclose(noise.std(), expected, rtol=0.02)


def test_without_noise_and_with_a_large_clip_one_step_equals_the_plain_optimizer():
    x, y = problem()
    plain, private = linear_model(), linear_model()
    plain.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    private.compile(
        optimizer=make_private(keras.optimizers.Adam(0.1), l2_norm_clip=1e6, noise_multiplier=0.0),
        loss="mse",
    )
    plain.fit(x, y, batch_size=BATCH, verbose=0)
    private.fit(x, y, batch_size=BATCH, verbose=0, callbacks=[PrivateTraining()])
    harness.assert_allclose(private.get_weights(), plain.get_weights(), 1e-6, 1e-5, "one step")


def test_private_training_shared_checks_xla_and_keras_round_trip():
    """`PrivateTraining` and `DPOptimizer` through the shared callback checks (XLA fit equal to
    the plain fit, evaluate, predict, `.keras` round trip), then the optimizer's own state."""

    def model_fn():
        model = keras.Sequential(
            [keras.Input((6,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)]
        )
        optimizer = make_private(keras.optimizers.Adam(0.05), 0.5, 0.0, num_microbatches=4)
        model.compile(optimizer=optimizer, loss="mse")
        return model

    model, history, _ = harness.run_callback_test(PrivateTraining, model_fn=model_fn, epochs=2)
    assert history.history["loss"][-1] < history.history["loss"][0]
    with harness.temporary_path("private.keras") as path:
        model.save(path)
        loaded = keras.saving.load_model(path)
    assert type(loaded.optimizer) is DPOptimizer
    assert type(loaded.optimizer.inner_optimizer) is keras.optimizers.Adam
    config = loaded.optimizer.get_config()
    assert (config["l2_norm_clip"], config["noise_multiplier"]) == (0.5, 0.0)
    assert config["num_microbatches"] == 4
    harness.assert_allclose(
        [v.numpy() for v in loaded.optimizer.variables],
        [v.numpy() for v in model.optimizer.variables],
        0,
        0,
        "optimizer state after the .keras round trip",
    )
    harness.assert_config_round_trip(
        DPOptimizer(keras.optimizers.SGD(0.1), 1.0, 1.1, 4, seed=1),
        {"l2_norm_clip": 1.0, "noise_multiplier": 1.1, "num_microbatches": 4, "seed": 1},
    )
    harness.assert_config_round_trip(PrivateTraining(), {})


def test_fit_without_the_private_step_raises_instead_of_training_non_privately():
    x, y = problem()
    model = linear_model()
    model.compile(optimizer=make_private(keras.optimizers.SGD(0.1), 1.0, 1.1), loss="mse")
    before = model.get_weights()
    with pytest.raises(RuntimeError, match="PrivateTraining"):
        model.fit(x, y, verbose=0)
    harness.assert_allclose(model.get_weights(), before, 0, 0, "weights after the refusal")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"l2_norm_clip": 0.0, "noise_multiplier": 1.0}, "l2_norm_clip=0.0"),
        ({"l2_norm_clip": -1.0, "noise_multiplier": 1.0}, "l2_norm_clip=-1.0"),
        ({"l2_norm_clip": 1.0, "noise_multiplier": -0.5}, "noise_multiplier=-0.5"),
        (
            {"l2_norm_clip": 1.0, "noise_multiplier": 1.0, "num_microbatches": 0},
            "num_microbatches=0",
        ),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_private(keras.optimizers.SGD(0.1), **kwargs)


def test_num_microbatches_that_does_not_divide_the_batch_is_named():
    x, y = problem()
    model = linear_model()
    model.compile(optimizer=make_private(keras.optimizers.SGD(0.1), 1.0, 1.0, 3), loss="mse")
    with pytest.raises(ValueError, match="num_microbatches=3"):
        model.fit(x, y, batch_size=BATCH, verbose=0, callbacks=[PrivateTraining()])
    # A batch size known only when the step runs: checked then.
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH)
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_microbatches=3"):
        model.fit(data, verbose=0, shuffle=False, callbacks=[PrivateTraining()])


def test_models_that_cannot_be_trained_privately_are_refused():
    x, y = problem()
    model = keras.Sequential(
        [keras.Input((FEATURES,)), keras.layers.BatchNormalization(), keras.layers.Dense(3)]
    )
    model.compile(optimizer=make_private(keras.optimizers.SGD(0.1), 1.0, 1.0), loss="mse")
    with pytest.raises(ValueError, match="batch-normalisation"):
        model.fit(x, y, verbose=0, callbacks=[PrivateTraining()])
    plain = linear_model()
    plain.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="optimizer="):
        plain.fit(x, y, verbose=0, callbacks=[PrivateTraining()])


@pytest.mark.slow
def test_dp_sgd_learns_digits():
    """DP-SGD on digits: clip 1, noise 1.0, 10 epochs of batch 64 (epsilon 5.1, delta 1e-5)."""
    from zoo.datasets import load_digits

    digits = load_digits(dtype="float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer=make_private(keras.optimizers.SGD(0.5), 1.0, 1.0, seed=0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(
        digits.train.x,
        digits.train.y,
        batch_size=64,
        epochs=10,
        verbose=0,
        callbacks=[PrivateTraining()],
    )
    accuracy = model.evaluate(digits.test.x, digits.test.y, verbose=0)[1]
    assert accuracy > 0.85, accuracy


def conv_model(seed=0):
    """Every case of the ghost-clipping path: strided 'same' (padded unevenly) and 'valid'
    convolutions with per-example kernel gradients, a convolution with Gram matrices, Dense
    layers on a sequence with Gram matrices and with per-example gradients, a Dense on vectors."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 2))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(3, 2, padding="valid", use_bias=False)(x)  # [3, 3, 3]
    x = keras.layers.Conv2D(16, 2, padding="valid", activation="tanh")(x)  # [2, 2, 16]: Gram
    x = keras.layers.Reshape((4, 16))(x)
    x = keras.layers.Dense(24, activation="tanh")(x)  # Gram
    x = keras.layers.Dense(2)(x)  # per-example gradients
    x = keras.layers.Dropout(0.0)(keras.layers.Flatten()(x))
    return keras.Model(inputs, keras.layers.Dense(3)(x))


def clipping_problem():
    """The conv model, a batch, the per-example clipped sums (from the vectorised per-example
    gradients), the predictions, the clip (the median norm: half the examples are clipped) and
    the weighted per-example losses."""
    model = conv_model()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(BATCH, 8, 8, 2)).astype("float32")
    y = rng.integers(0, 3, BATCH)
    weights = np.linspace(0.5, 1.5, BATCH).astype("float32")
    loss_fn = keras.losses.sparse_categorical_crossentropy

    grads, prediction = microbatch_gradients(model, loss_fn, x, y, weights)
    norms = np.sqrt(sum((np.asarray(g) ** 2).reshape(BATCH, -1).sum(axis=1) for g in grads))
    clip = float(np.median(norms))
    scale = clip / np.maximum(norms, clip)
    assert (scale < 1).any() and (scale == 1).any()
    expected = [np.einsum("b,b...->...", scale, g) for g in grads]
    return model, x, expected, prediction, clip, lambda p: loss_fn(y, p) * weights


@pytest.mark.parametrize("jit_compile", [False, True])
def test_ghost_clipping_equals_clipping_the_per_example_gradients(jit_compile):
    """Eagerly, and under XLA (where the convolutions run as products of their patches)."""
    model, x, expected, prediction, clip, losses_fn = clipping_problem()
    plan = ghost_clipping_plan(model)
    assert plan is not None
    sums, ghost_prediction = tf.function(
        lambda x: plan.clipped_gradient_sums(losses_fn, x, clip), jit_compile=jit_compile
    )(x)
    np.testing.assert_allclose(ghost_prediction, prediction, rtol=1e-5, atol=1e-6)
    for got, want, weight in zip(sums, expected, model.trainable_weights, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6, err_msg=weight.path)


@pytest.mark.parametrize(
    "kernel_size, strides, padding, size",
    [
        (3, 1, "same", (8, 8)),
        (3, 2, "same", (8, 7)),
        (2, 3, "same", (7, 9)),
        ((1, 3), (2, 1), "valid", (6, 5)),
        (5, 2, "valid", (9, 8)),
        (1, 1, "same", (4, 4)),
    ],
)
def test_copied_patches_equal_extract_patches(kernel_size, strides, padding, size):
    """The gathered patches (eagerly) and the sliced ones (under XLA)."""
    layer = keras.layers.Conv2D(2, kernel_size, strides=strides, padding=padding)
    layer.build((None, *size, 3))
    a = tf.constant(np.random.default_rng(0).normal(size=(2, *size, 3)).astype("float32"))
    expected = tf.image.extract_patches(
        a,
        sizes=[1, *layer.kernel_size, 1],
        strides=[1, *layer.strides, 1],
        rates=[1, 1, 1, 1],
        padding=padding.upper(),
    )
    np.testing.assert_array_equal(_patches(layer, a), expected)
    sliced = tf.function(lambda a: _patches(layer, a), jit_compile=True)(a)
    np.testing.assert_array_equal(sliced, expected)


def test_models_outside_dense_and_conv_take_the_vectorised_path():
    def sequential(*layers):
        return keras.Sequential([keras.Input((4,)), *layers])

    assert ghost_clipping_plan(sequential(keras.layers.Dense(3))) is not None
    shared = keras.layers.Dense(4)
    inputs = keras.Input((4,))
    twice = keras.Model(inputs, shared(shared(inputs)))
    for model in (
        sequential(keras.layers.Dense(3), keras.layers.LayerNormalization()),
        sequential(keras.layers.Dense(3, activity_regularizer="l2")),
        twice,
    ):
        assert ghost_clipping_plan(model) is None
    # The vectorised path still trains the LayerNormalization model privately.
    model = sequential(keras.layers.Dense(3), keras.layers.LayerNormalization())
    model.compile(optimizer=make_private(keras.optimizers.SGD(0.1), 1.0, 0.5), loss="mse")
    before = [w.copy() for w in model.get_weights()]
    model.fit(*problem(), batch_size=BATCH, verbose=0, callbacks=[PrivateTraining()])
    assert all(not np.allclose(a, b) for a, b in zip(before, model.get_weights(), strict=True))
