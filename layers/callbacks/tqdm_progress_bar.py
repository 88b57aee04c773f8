"""`fit` and `evaluate` progress shown with tqdm bars (TensorFlow Addons' `TQDMProgressBar`)."""

from __future__ import annotations

import time

import keras
from tqdm.auto import tqdm

from layers.validation import check_bool, check_positive_int

DEFAULT_OVERALL_BAR_FORMAT = (
    "{l_bar}{bar} {n_fmt}/{total_fmt} ETA: {remaining}s,  {rate_fmt}{postfix}"
)
DEFAULT_EPOCH_BAR_FORMAT = "{n_fmt}/{total_fmt}{bar} ETA: {remaining}s - {desc}"
IGNORED_LOG_KEYS = ("batch", "size")


def _check_str(name: str, value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"`{name}` must be a string. Received: {name}={value!r}")
    return value


@keras.saving.register_keras_serializable(package="keras_zoo")
class TQDMProgressBar(keras.callbacks.Callback):
    """Shows training progress as two tqdm bars: one over the epochs, one over each epoch's steps.

    Pass it to `fit` with `verbose=0`, so that it replaces Keras's own progress bar. Each epoch
    prints `Epoch i/N` and gets its own bar, whose description holds the running metrics
    (refreshed at most `update_per_second` times a second) and, once the epoch ends, the
    epoch's logs, validation metrics included. `evaluate` called outside `fit` gets one bar
    described `Evaluating` that ends with the evaluation's results; `predict` shows nothing.
    When the number of steps is unknown (a generator, a dataset of unknown cardinality) the
    first epoch counts steps without a total and the later epochs use the count it learnt.
    The bars are `tqdm.auto` bars (widgets in a notebook, text on `sys.stderr` elsewhere).

    TensorFlow Addons' `tfa.callbacks.TQDMProgressBar`, with the same arguments and defaults.

    Args:
        metrics_separator: string between two metrics. Defaults to `" - "`.
        overall_bar_format: tqdm `bar_format` of the bar over the epochs. Defaults to
            `"{l_bar}{bar} {n_fmt}/{total_fmt} ETA: {remaining}s,  {rate_fmt}{postfix}"`.
        epoch_bar_format: tqdm `bar_format` of the bar over one epoch's steps (the metrics are
            its `{desc}`). Defaults to `"{n_fmt}/{total_fmt}{bar} ETA: {remaining}s - {desc}"`.
        metrics_format: format of one metric, given `name` and `value`. Defaults to
            `"{name}: {value:0.4f}"`.
        update_per_second: positive int, the most refreshes of the epoch bar per second.
            Defaults to `10`.
        leave_epoch_progress: bool, keep each finished epoch bar on screen. Defaults to `True`.
        leave_overall_progress: bool, keep the finished bar over the epochs on screen.
            Defaults to `True`.
        show_epoch_progress: bool, show the epoch bars (and the `Epoch i/N` lines). Defaults
            to `True`.
        show_overall_progress: bool, show the bar over the epochs. Defaults to `True`.

    Example:

    ```python
    model.fit(x, y, epochs=10, verbose=0, callbacks=[TQDMProgressBar()])
    ```
    """

    def __init__(
        self,
        metrics_separator: str = " - ",
        overall_bar_format: str = DEFAULT_OVERALL_BAR_FORMAT,
        epoch_bar_format: str = DEFAULT_EPOCH_BAR_FORMAT,
        metrics_format: str = "{name}: {value:0.4f}",
        update_per_second: int = 10,
        leave_epoch_progress: bool = True,
        leave_overall_progress: bool = True,
        show_epoch_progress: bool = True,
        show_overall_progress: bool = True,
    ):
        super().__init__()
        self.metrics_separator = _check_str("metrics_separator", metrics_separator)
        self.overall_bar_format = _check_str("overall_bar_format", overall_bar_format)
        self.epoch_bar_format = _check_str("epoch_bar_format", epoch_bar_format)
        self.metrics_format = _check_str("metrics_format", metrics_format)
        self.update_per_second = check_positive_int("update_per_second", update_per_second)
        self.leave_epoch_progress = check_bool("leave_epoch_progress", leave_epoch_progress)
        self.leave_overall_progress = check_bool("leave_overall_progress", leave_overall_progress)
        self.show_epoch_progress = check_bool("show_epoch_progress", show_epoch_progress)
        self.show_overall_progress = check_bool("show_overall_progress", show_overall_progress)
        self.update_interval = 1.0 / update_per_second
        self.overall_progress_tqdm = None
        self.epoch_progress_tqdm = None
        self.is_training = False
        self._total_steps = None
        self._pending_steps = 0
        self._last_update_time = 0.0

    def format_metrics(self, logs=None) -> str:
        """Formats the scalar entries of `logs` with `metrics_format`, joined by the separator.

        Args:
            logs: dict of metric names to values; `batch`, `size` and non-scalar entries are
                left out.

        Returns:
            The string shown as the epoch bar's description.
        """
        parts = []
        for name, value in (logs or {}).items():
            if name in IGNORED_LOG_KEYS:
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            parts.append(self.metrics_format.format(name=name, value=number))
        return self.metrics_separator.join(parts)

    # The bar over one epoch's steps (also the `evaluate` bar).

    def _open_steps_bar(self, description: str = ""):
        if not self.show_epoch_progress:
            return
        self.epoch_progress_tqdm = tqdm(
            total=self._total_steps,
            desc=description,
            bar_format=self.epoch_bar_format,
            leave=self.leave_epoch_progress,
            dynamic_ncols=True,
            unit="steps",
        )
        self._pending_steps = 0
        self._last_update_time = 0.0  # the first step refreshes the bar

    def _advance_steps_bar(self, logs):
        bar = self.epoch_progress_tqdm
        if bar is None:
            return
        self._pending_steps += 1
        now = time.time()
        if now - self._last_update_time >= self.update_interval:
            bar.set_description_str(self.format_metrics(logs), refresh=False)
            bar.update(self._pending_steps)
            self._pending_steps = 0
            self._last_update_time = now

    def _close_steps_bar(self, logs) -> int:
        """Shows the final logs on a full bar, closes it and returns the steps it counted."""
        bar = self.epoch_progress_tqdm
        if bar is None:
            return 0
        steps = bar.n + self._pending_steps
        if bar.total is None:
            bar.total = steps
        bar.set_description_str(self.format_metrics(logs), refresh=False)
        bar.miniters = 0
        bar.mininterval = 0
        bar.update(max(steps, bar.total) - bar.n)
        bar.close()
        self.epoch_progress_tqdm = None
        return steps

    # fit

    def on_train_begin(self, logs=None):
        self.is_training = True
        self._total_steps = self.params.get("steps")
        if self.show_overall_progress:
            self.overall_progress_tqdm = tqdm(
                total=self.params.get("epochs"),
                desc="Training",
                bar_format=self.overall_bar_format,
                leave=self.leave_overall_progress,
                dynamic_ncols=True,
                unit="epochs",
            )

    def on_epoch_begin(self, epoch, logs=None):
        if self.show_epoch_progress:
            print(f"Epoch {epoch + 1}/{self.params.get('epochs')}")
        self._open_steps_bar()

    def on_train_batch_end(self, batch, logs=None):
        self._advance_steps_bar(logs)

    def on_epoch_end(self, epoch, logs=None):
        steps = self._close_steps_bar(logs)
        if self._total_steps is None and steps:
            self._total_steps = steps  # the length of an epoch, learnt from the first one
        if self.overall_progress_tqdm is not None:
            self.overall_progress_tqdm.update(1)

    def on_train_end(self, logs=None):
        self.is_training = False
        if self.overall_progress_tqdm is not None:
            self.overall_progress_tqdm.close()
            self.overall_progress_tqdm = None

    # evaluate (validation inside fit shows no bar of its own: its metrics end the epoch bar)

    def on_test_begin(self, logs=None):
        if not self.is_training:
            self._total_steps = self.params.get("steps")
            self._open_steps_bar("Evaluating")

    def on_test_batch_end(self, batch, logs=None):
        if not self.is_training:
            self._advance_steps_bar(logs)

    def on_test_end(self, logs=None):
        if not self.is_training:
            self._close_steps_bar(logs)

    def get_config(self):
        return {
            "metrics_separator": self.metrics_separator,
            "overall_bar_format": self.overall_bar_format,
            "epoch_bar_format": self.epoch_bar_format,
            "metrics_format": self.metrics_format,
            "update_per_second": self.update_per_second,
            "leave_epoch_progress": self.leave_epoch_progress,
            "leave_overall_progress": self.leave_overall_progress,
            "show_epoch_progress": self.show_epoch_progress,
            "show_overall_progress": self.show_overall_progress,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
