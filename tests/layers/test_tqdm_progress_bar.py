"""`TQDMProgressBar` (TensorFlow Addons' tqdm callback) in real `fit`/`evaluate` runs: the bars'
text against TFA's output for the same model, unknown steps, its options and bad input."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import layers.callbacks.tqdm_progress_bar as tqdm_progress_bar
from layers.callbacks import TQDMProgressBar
from tests import harness

FULL_BAR = "██████████"

# TFA 0.23's TQDMProgressBar on TF 2.15 printed these final epoch lines for `_fit` below
# (same data, zero initial weights, SGD(0.1), batch_size=4, shuffle=False).
TFA_EPOCH_LINES = [
    f"4/4{FULL_BAR} ETA: 00:00s - loss: 1.3117 - mae: 1.0444 - val_loss: 0.1946 - val_mae: 0.3786",
    f"4/4{FULL_BAR} ETA: 00:00s - loss: 0.2139 - mae: 0.4028 - val_loss: 0.1823 - val_mae: 0.3503",
]


def _data():
    x = np.linspace(0.0, 1.0, 48, dtype="float32").reshape(16, 3)
    return x, x.sum(axis=1, keepdims=True)


def _model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(keras.optimizers.SGD(0.1), "mse", metrics=["mae"])
    return model


def _lines(stderr: str) -> list[str]:
    """The bars' successive states (tqdm redraws a line after a carriage return)."""
    lines = stderr.replace("\x1b[A", "\n").replace("\r", "\n").split("\n")
    return [line for line in lines if line.strip()]


def _fit(callback, x=None, **kwargs):
    data_x, data_y = _data()
    model = _model()
    if x is None:
        kwargs.update(y=data_y, batch_size=4, shuffle=False)
    history = model.fit(
        data_x if x is None else x, epochs=2, verbose=0, callbacks=[callback], **kwargs
    )
    return model, history


def test_fit_prints_tfa_text(capsys):
    x, y = _data()
    _, history = _fit(TQDMProgressBar(), validation_data=(x, y))
    captured = capsys.readouterr()
    assert captured.out == "Epoch 1/2\nEpoch 2/2\n"
    lines = _lines(captured.err)
    for line in TFA_EPOCH_LINES:
        assert line in lines
    # The shown values are the epoch's logs.
    assert f"loss: {history.history['loss'][1]:0.4f}" in TFA_EPOCH_LINES[1]
    # The bar over the epochs starts at 0 and reaches 100%; the first step refreshes its bar.
    assert lines[0].startswith("Training:   0%|") and " 0/2 ETA: ?s," in lines[0]
    assert any(
        line.startswith("Training: 100%|" + FULL_BAR + " 2/2 ETA: 00:00s,") for line in lines
    )
    assert lines[1] == "0/4           ETA: ?s - "
    # TFA showed the same after the first step.
    assert lines[2].startswith("1/4██▌        ETA: ")
    assert lines[2].endswith(" - loss: 0.1691 - mae: 0.3511")
    assert not any("val_loss" in line and not line.startswith("4/4") for line in lines)


def test_evaluate_shows_its_results_and_predict_shows_nothing(capsys):
    x, y = _data()
    model, _ = _fit(TQDMProgressBar())
    capsys.readouterr()
    callback = TQDMProgressBar(metrics_format="{name}={value:.3f}", metrics_separator=", ")
    loss, mae = model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[callback])
    captured = capsys.readouterr()
    lines = _lines(captured.err)
    assert captured.out == "" and lines[0] == "0/4           ETA: ?s - Evaluating"
    assert lines[-1] == f"4/4{FULL_BAR} ETA: 00:00s - loss={loss:.3f}, mae={mae:.3f}"
    model.predict(x, batch_size=4, verbose=0, callbacks=[callback])
    assert capsys.readouterr().err == ""


def test_unknown_steps_counts_then_learns_the_epoch_length(capsys):
    x, y = _data()
    dataset = tf.data.Dataset.from_generator(
        lambda: ((x[i : i + 4], y[i : i + 4]) for i in range(0, 16, 4)),
        output_signature=(tf.TensorSpec((None, 3)), tf.TensorSpec((None, 1))),
    )
    _, history = _fit(TQDMProgressBar(), x=dataset)
    lines = _lines(capsys.readouterr().err)
    epoch_lines = [line for line in lines if not line.startswith("Training")]
    assert epoch_lines[0] == "0/?           ETA: ?s - "
    assert epoch_lines[1].startswith("1/?           ETA: ")
    finals = [line for line in epoch_lines if line.startswith(f"4/4{FULL_BAR} ETA: 00:00s - ")]
    assert finals[0].endswith(
        f"loss: {history.history['loss'][0]:0.4f} - mae: {history.history['mae'][0]:0.4f}"
    )
    # The second epoch knows its length from the first.
    assert "0/4           ETA: ?s - " in epoch_lines
    assert any(line.startswith("Training: 100%|") for line in lines)


def test_update_per_second_limits_refreshes(capsys, monkeypatch):
    class FrozenClock:
        @staticmethod
        def time():
            return 1000.0

    monkeypatch.setattr(tqdm_progress_bar, "time", FrozenClock)
    _fit(TQDMProgressBar(update_per_second=1, show_overall_progress=False))
    lines = _lines(capsys.readouterr().err)
    shown = {line.split()[0] for line in lines}
    assert "1/4██▌" in shown and not any(s.startswith(("2/4", "3/4")) for s in shown)
    assert not any(line.startswith("Training") for line in lines)


def test_hidden_bars(capsys):
    _fit(TQDMProgressBar(show_epoch_progress=False))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert all(line.startswith("Training") for line in _lines(captured.err))
    _fit(TQDMProgressBar(show_epoch_progress=False, show_overall_progress=False))
    assert capsys.readouterr() == ("", "")


def test_shared_callback_checks():
    harness.run_callback_test(TQDMProgressBar, epochs=1)


def test_config_round_trip_and_format_metrics():
    callback = TQDMProgressBar(
        metrics_separator=" | ", update_per_second=4, leave_epoch_progress=False
    )
    config = callback.get_config()
    assert config["metrics_format"] == "{name}: {value:0.4f}" and config["update_per_second"] == 4
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(callback))
    assert isinstance(restored, TQDMProgressBar) and restored.get_config() == config
    logs = {"loss": np.float32(0.5), "batch": 3, "size": 4, "acc": 0.25, "matrix": np.ones(2)}
    assert callback.format_metrics(logs) == "loss: 0.5000 | acc: 0.2500"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"metrics_separator": 1}, TypeError, "Received: metrics_separator=1"),
        ({"epoch_bar_format": None}, TypeError, "Received: epoch_bar_format=None"),
        ({"update_per_second": 0}, ValueError, "Received: update_per_second=0"),
        ({"update_per_second": 2.5}, ValueError, "Received: update_per_second=2.5"),
        ({"show_epoch_progress": 1}, TypeError, "Received: show_epoch_progress=1"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        TQDMProgressBar(**kwargs)
