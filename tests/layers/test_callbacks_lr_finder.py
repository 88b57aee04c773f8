"""LRFinder: the exponential sweep, per-batch losses, restoring the model, the suggestion."""

import keras
import numpy as np
import pytest

from layers.callbacks import LRFinder, suggest_learning_rate
from tests import harness

RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 6)).astype("float32")
Y = (X @ RNG.normal(size=(6, 1))).astype("float32")


def linear_model(learning_rate=0.01):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate, momentum=0.9), loss="mse")
    return model


def test_harness():
    harness.run_callback_test(lambda: LRFinder(1e-4, 1e-2, steps=5, verbose=0), epochs=2)


class RecordBatches(keras.callbacks.Callback):
    """Records, before each batch, the learning rate and the full-batch loss about to be seen."""

    def __init__(self):
        super().__init__()
        self.learning_rates, self.losses = [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.learning_rates.append(float(self.model.optimizer.learning_rate.numpy()))
        prediction = self.model(X, training=False).numpy()
        self.losses.append(float(np.mean((prediction - Y) ** 2)))


def test_sweep_losses_restoration_and_plot(tmp_path):
    model = linear_model()
    before = [v.numpy() for v in model.variables]
    path = str(tmp_path / "range.png")
    finder = LRFinder(1e-3, 1.0, steps=10, smoothing=0.5, plot_path=path, verbose=0)
    record = RecordBatches()
    # The finder goes first, so the recorder sees the rate it set for the batch.
    model.fit(X, Y, batch_size=32, epochs=20, verbose=0, callbacks=[finder, record])

    expected_lrs = 1e-3 * 1000.0 ** (np.arange(10) / 9)
    np.testing.assert_allclose(finder.learning_rates, expected_lrs, rtol=1e-6)
    np.testing.assert_allclose(record.learning_rates, expected_lrs, rtol=1e-6)
    # Full-batch training: each recorded loss is the loss at the weights before that batch.
    np.testing.assert_allclose(finder.losses, record.losses, rtol=1e-5)
    smoothed, average = [], 0.0
    for step, loss in enumerate(finder.losses):
        average = 0.5 * average + 0.5 * loss
        smoothed.append(average / (1 - 0.5 ** (step + 1)))
    np.testing.assert_allclose(finder.smoothed_losses, smoothed, rtol=1e-6)
    assert len(record.learning_rates) == 10  # stopped after `steps` batches

    harness.assert_allclose(model.variables, before, 0, 0, "weights restored")
    assert int(model.optimizer.iterations.numpy()) == 0
    assert all(np.all(v.numpy() == 0) for v in model.optimizer.variables[2:])  # momentum
    np.testing.assert_allclose(float(model.optimizer.learning_rate.numpy()), 0.01, rtol=1e-6)
    assert finder.suggested_learning_rate == suggest_learning_rate(
        finder.learning_rates, finder.smoothed_losses
    )
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_stops_on_divergence():
    model = linear_model()
    finder = LRFinder(1e-2, 1e3, steps=50, smoothing=0.0, verbose=0)
    model.fit(X, Y, batch_size=32, epochs=50, verbose=0, callbacks=[finder])
    assert finder.diverged
    assert len(finder.losses) < 50
    assert finder.losses[-1] > 4 * min(finder.losses)
    assert finder.suggested_learning_rate < finder.learning_rates[-1]


def test_suggestion_is_the_steepest_descent_in_log_lr():
    lrs = np.logspace(-4, 0, 21)
    losses = np.array([1.0] * 10 + [0.9, 0.5, 0.45, 0.44, 0.43, 0.5, 0.8, 1.2, 2.0, 3.0, 5.0])
    # Central differences over a step h in log(lr): index 10 gives (0.5 - 1.0) / 2h, the most
    # negative; index 11 gives (0.45 - 0.9) / 2h.
    assert suggest_learning_rate(lrs, losses) == pytest.approx(lrs[10])
    # The first 10% of points are skipped: a steep start there does not count.
    early = losses.copy()
    early[1] = 0.0
    assert suggest_learning_rate(lrs, early) == pytest.approx(lrs[10])


def test_schedule_is_refused():
    model = linear_model(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9))
    with pytest.raises(ValueError, match="ExponentialDecay"):
        model.fit(X, Y, verbose=0, callbacks=[LRFinder(1e-3, 1.0, 5)])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"min_lr": 0.0, "max_lr": 1.0, "steps": 5}, "min_lr=0.0"),
        ({"min_lr": 1.0, "max_lr": 0.1, "steps": 5}, "max_lr=0.1"),
        ({"min_lr": 1e-3, "max_lr": 1.0, "steps": 2}, "steps=2"),
        ({"min_lr": 1e-3, "max_lr": 1.0, "steps": 5, "smoothing": 1.0}, "smoothing=1.0"),
        ({"min_lr": 1e-3, "max_lr": 1.0, "steps": 5, "divergence_factor": 1.0}, "factor=1.0"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LRFinder(**kwargs)
