"""TensorFlow Addons' callbacks on Keras 3: `TimeStopping` and `AverageModelCheckpoint` in
real `fit` runs (the shared callback checks), their TFA behaviour and bad input."""

import os
import tempfile

import keras
import numpy as np
import pytest

from layers.callbacks import AverageModelCheckpoint, TimeStopping
from tests import harness


def test_time_stopping_shared_checks_and_stop(capsys):
    model, history, callback = harness.run_callback_test(
        lambda: TimeStopping(seconds=0, verbose=1), epochs=3
    )
    assert history.epoch == [0] and callback.stopped_epoch == 0
    assert "Timed stopping at epoch 1 after training for 0:00:00" in capsys.readouterr().out
    assert callback.get_config() == {"seconds": 0, "verbose": 1}


def test_time_stopping_lets_short_training_finish(capsys):
    x, y = np.ones((8, 6), "float32"), np.ones((8, 1), "float32")
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    callback = TimeStopping(verbose=1)
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[callback])
    assert history.epoch == [0, 1, 2] and callback.stopped_epoch is None
    assert capsys.readouterr().out == ""
    assert TimeStopping().get_config() == {"seconds": 86400, "verbose": 0}


def _ema_model(use_ema=True):
    model = harness._regression_model()
    model.compile(
        optimizer=keras.optimizers.SGD(0.05, use_ema=use_ema, ema_momentum=0.9), loss="mse"
    )
    return model


class RecordingAverage(keras.optimizers.SGD):
    """An optimizer with TFA's `assign_average_vars`: the average is the weights times 0.5."""

    def assign_average_vars(self, var_list):
        for variable in var_list:
            variable.assign(variable * 0.5)


@pytest.mark.parametrize("update_weights", [True, False])
def test_average_model_checkpoint_shared_checks(update_weights):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "average.keras")
        model, _, _ = harness.run_callback_test(
            lambda: AverageModelCheckpoint(update_weights, path, monitor="loss"),
            model_fn=_ema_model,
        )
        saved = keras.saving.load_model(path).get_weights()
    average = [v.numpy() for v in model.optimizer._model_variables_moving_average]
    # The file holds the moving average of the last epoch (fit then writes it into the model).
    for saved_weight, average_weight in zip(saved, average, strict=True):
        np.testing.assert_allclose(saved_weight, average_weight, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("update_weights", [True, False])
def test_average_model_checkpoint_with_assign_average_vars(update_weights):
    x, y = harness._regression_problem()
    model = harness._regression_model()
    model.compile(
        optimizer=RecordingAverage(0.0, name="recording_average"), loss="mse"
    )  # no training: fixed weights
    before = model.get_weights()
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "average.weights.h5")
        callback = AverageModelCheckpoint(update_weights, path, save_weights_only=True)
        model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[callback])
        model.load_weights(path)
        saved = model.get_weights()
    for weight, kept in zip(saved, before, strict=True):
        np.testing.assert_allclose(weight, kept * 0.5, rtol=1e-6)


def test_average_model_checkpoint_restores_own_weights_without_update():
    x, y = harness._regression_problem()
    model = harness._regression_model()
    model.compile(optimizer=RecordingAverage(0.0, name="recording_average"), loss="mse")
    before = model.get_weights()
    with tempfile.TemporaryDirectory() as directory:
        callback = AverageModelCheckpoint(False, os.path.join(directory, "a.keras"))
        model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[callback])
    for weight, kept in zip(model.get_weights(), before, strict=True):
        np.testing.assert_allclose(weight, kept)
    with tempfile.TemporaryDirectory() as directory:
        callback = AverageModelCheckpoint(True, os.path.join(directory, "a.keras"))
        model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[callback])
    np.testing.assert_allclose(model.get_weights()[0], before[0] * 0.25, rtol=1e-6)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="Received: seconds=-1"):
        TimeStopping(seconds=-1)
    with pytest.raises(ValueError, match="Received: verbose=-1"):
        TimeStopping(verbose=-1)
    with pytest.raises(TypeError, match="Received: update_weights='yes'"):
        AverageModelCheckpoint("yes", "a.keras")
    with pytest.raises(ValueError, match="must end in `.keras`"):
        AverageModelCheckpoint(True, "a.txt")
    model = _ema_model(use_ema=False)
    x, y = harness._regression_problem()
    with pytest.raises(TypeError, match="Received: optimizer=SGD"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[AverageModelCheckpoint(True, "a.keras")])
