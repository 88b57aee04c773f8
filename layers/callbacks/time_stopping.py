"""Stop `fit` once a time budget is spent (TensorFlow Addons' `TimeStopping`)."""

from __future__ import annotations

import datetime
import numbers
import time

import keras

from layers.validation import check_non_negative_int


class TimeStopping(keras.callbacks.Callback):
    """Stops training at the end of the first epoch that ends after `seconds` of training.

    The clock starts at `on_train_begin`; the check runs at each epoch end, so the epoch in
    progress always finishes. TensorFlow Addons' `tfa.callbacks.TimeStopping`, with the same
    arguments, attribute (`stopped_epoch`, 0-based, `None` if training was not cut) and message.

    Args:
        seconds: non-negative time budget in seconds. Defaults to `86400` (one day).
        verbose: non-negative int; above 0, prints when training was stopped. Defaults to `0`.

    Example:

    ```python
    model.fit(x, y, epochs=1000, callbacks=[TimeStopping(seconds=3600, verbose=1)])
    ```
    """

    def __init__(self, seconds=86400, verbose: int = 0):
        super().__init__()
        if not isinstance(seconds, numbers.Real) or isinstance(seconds, bool) or seconds < 0:
            raise ValueError(
                f"`seconds` must be a non-negative number. Received: seconds={seconds!r}"
            )
        self.seconds = seconds
        self.verbose = check_non_negative_int("verbose", verbose)
        self.stopped_epoch = None
        self.stopping_time = None

    def on_train_begin(self, logs=None):
        self.stopped_epoch = None
        self.stopping_time = time.time() + self.seconds

    def on_epoch_end(self, epoch, logs=None):
        if time.time() >= self.stopping_time:
            self.model.stop_training = True
            self.stopped_epoch = epoch

    def on_train_end(self, logs=None):
        if self.stopped_epoch is not None and self.verbose > 0:
            budget = datetime.timedelta(seconds=self.seconds)
            print(f"Timed stopping at epoch {self.stopped_epoch + 1} after training for {budget}")

    def get_config(self):
        return {"seconds": self.seconds, "verbose": self.verbose}
