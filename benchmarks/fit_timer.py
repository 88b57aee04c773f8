"""Per-step and per-epoch times of `model.fit`, as the comparison benchmarks take them."""

from __future__ import annotations

import time


def fit_timer():
    """A Keras 3 callback holding the milliseconds of every step (`steps`) and epoch (`epochs`).

    A step runs from `on_train_batch_begin` to `on_train_batch_end`; an epoch from the end of
    the previous one (or `on_train_begin`) to its own end, so it holds iterator creation.
    """
    import keras

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.steps: list[float] = []
            self.epochs: list[float] = []

        def on_train_begin(self, logs=None):
            self.mark = time.perf_counter()

        def on_train_batch_begin(self, batch, logs=None):
            self.begin = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.steps.append((time.perf_counter() - self.begin) * 1000)

        def on_epoch_end(self, epoch, logs=None):
            now = time.perf_counter()
            self.epochs.append((now - self.mark) * 1000)
            self.mark = now

    return Timer()
