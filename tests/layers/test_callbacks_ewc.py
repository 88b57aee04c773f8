"""EWC: the Fisher diagonal, the penalty in the trained loss, and less forgetting."""

import keras
import numpy as np
import pytest

from layers.callbacks import EWC, diagonal_fisher
from tests import harness

RNG = np.random.default_rng(0)


def softmax_model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(
        optimizer=keras.optimizers.SGD(0.2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


X = RNG.normal(size=(24, 4)).astype("float32")
LABELS = RNG.integers(0, 3, size=24)


def numpy_fisher(model, x, labels):
    """Mean squared per-example gradient of the cross-entropy of a linear softmax model."""
    kernel, bias = (v.numpy().astype(np.float64) for v in model.weights)
    logits = x @ kernel + bias
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    residual = p - np.eye(3)[labels]  # d(-log p_y)/d logits
    kernel_grads = x[:, :, None] * residual[:, None, :]
    return [np.mean(kernel_grads**2, 0), np.mean(residual**2, 0)]


def test_diagonal_fisher_matches_numpy():
    model = softmax_model()
    fisher = diagonal_fisher(model, (X, LABELS), batch_size=10)  # 10 + 10 + 4
    harness.assert_allclose(fisher, numpy_fisher(model, X, LABELS), 1e-6, 1e-5, "Fisher")


def test_penalty_of_two_tasks_matches_numpy():
    model = softmax_model()
    x_b, labels_b = X[::-1].copy(), LABELS[::-1].copy()
    ewc = EWC.consolidate(model, (X, LABELS), ewc_lambda=3.0)
    anchor_a = [v.numpy() for v in model.weights]
    model.fit(X, LABELS, epochs=2, verbose=0)
    ewc.add_task(model, (x_b, labels_b))
    anchor_b = [v.numpy() for v in model.weights]
    model.fit(x_b, (labels_b + 1) % 3, epochs=2, verbose=0)

    weights = [v.numpy() for v in model.weights]
    fisher_a = numpy_fisher(softmax_model(), X, LABELS)  # the same initial weights as task A
    expected = 0.0
    for fisher, anchor in ((fisher_a, anchor_a), (ewc.tasks[1][0], anchor_b)):
        for f, a, w in zip(fisher, anchor, weights, strict=True):
            expected += np.sum(f * (w - a) ** 2)
    np.testing.assert_allclose(float(ewc.penalty(model)), 1.5 * expected, rtol=1e-5)


def test_training_loss_includes_the_penalty_and_compute_loss_is_restored():
    model = softmax_model()
    ewc = EWC.consolidate(model, (X, LABELS), ewc_lambda=50.0)
    model.fit(X, (LABELS + 1) % 3, epochs=3, verbose=0)
    # A zero learning rate keeps the weights fixed, so the reported loss is loss + penalty.
    model.compile(
        optimizer=keras.optimizers.SGD(0.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    plain = model.evaluate(X, LABELS, batch_size=24, verbose=0)
    history = model.fit(
        X, LABELS, batch_size=24, epochs=1, verbose=0, callbacks=[ewc],
        validation_data=(X, LABELS),
    )  # fmt: skip
    penalty = float(ewc.penalty(model))
    assert penalty > 0.1
    np.testing.assert_allclose(history.history["loss"][0], plain + penalty, rtol=1e-5)
    np.testing.assert_allclose(history.history["val_loss"][0], plain, rtol=1e-5)
    assert "compute_loss" not in model.__dict__
    after = model.fit(X, LABELS, batch_size=24, epochs=1, verbose=0)
    np.testing.assert_allclose(after.history["loss"][0], plain, rtol=1e-5)


def two_tasks():
    """Task A constrains w1 only; task B constrains w1 + w2, so both fit when w2 moves alone."""
    a, b = RNG.normal(size=(2, 64)).astype("float32")
    x_a = np.stack([a, 0.01 * RNG.normal(size=64)], 1).astype("float32")
    y_a = (a + 0.3 * RNG.normal(size=64))[:, None].astype("float32")  # noise: a non-zero Fisher
    x_b = np.stack([b, b], 1).astype("float32")
    return (x_a, y_a), (x_b, (3.0 * b)[:, None].astype("float32"))


def test_ewc_reduces_forgetting_of_task_a():
    task_a, task_b = two_tasks()

    def train(use_ewc):
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((2,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
        )
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        model.fit(*task_a, batch_size=8, epochs=3, verbose=0)
        callbacks = [EWC.consolidate(model, task_a, ewc_lambda=10.0)] if use_ewc else []
        model.fit(*task_b, batch_size=8, epochs=5, verbose=0, callbacks=callbacks)
        return model.evaluate(*task_a, verbose=0), model.evaluate(*task_b, verbose=0)

    forgetful_a, forgetful_b = train(False)
    ewc_a, ewc_b = train(True)
    assert ewc_a < 0.5 * forgetful_a
    assert ewc_b < 0.05  # task B is still learned, through w2


def test_harness():
    holder = {}

    def model_fn():
        holder["model"] = harness._regression_model()
        holder["model"].compile(optimizer=keras.optimizers.AdamW(0.01), loss="mse")
        return holder["model"]

    def callback_fn():
        x, y = harness._regression_problem(seed=1)
        return EWC.consolidate(holder["model"], (x, y), ewc_lambda=10.0)

    model, history, ewc = harness.run_callback_test(callback_fn, model_fn=model_fn)
    assert float(ewc.penalty(model)) > 0


def test_xla_mixed_precision_and_mirrored_strategy():
    def check(jit):
        model = softmax_model()
        ewc = EWC.consolidate(model, (X, LABELS), ewc_lambda=50.0)
        for variable in model.trainable_variables:
            variable.assign(variable + 0.5)
        model.compile(
            optimizer=keras.optimizers.SGD(0.0),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=jit,
        )
        plain = model.evaluate(X, LABELS, batch_size=24, verbose=0)
        history = model.fit(X, LABELS, batch_size=24, epochs=1, verbose=0, callbacks=[ewc])
        np.testing.assert_allclose(
            history.history["loss"][0], plain + float(ewc.penalty(model)), rtol=2e-3
        )

    check(jit=True)
    with harness.dtype_policy("mixed_float16"):
        check(jit=False)
    harness.run_in_mirrored_strategy(lambda strategy: check(jit=False))


def test_bad_arguments():
    with pytest.raises(ValueError, match="ewc_lambda=-1"):
        EWC(ewc_lambda=-1)
    model = softmax_model()
    ewc = EWC.consolidate(model, (X, LABELS))
    other = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="Received: shapes"):
        ewc.penalty(other)
    with pytest.raises(ValueError, match="batch_size=0"):
        diagonal_fisher(model, (X, LABELS), batch_size=0)
    with pytest.raises(ValueError, match=r"`data` must be an `\(x, y\)` tuple"):
        diagonal_fisher(model, X)
    uncompiled = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="loss=None"):
        diagonal_fisher(uncompiled, (X, LABELS))
