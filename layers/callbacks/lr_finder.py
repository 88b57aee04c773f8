"""The learning-rate range test (LR finder) as a `model.fit` callback."""

from __future__ import annotations

import math

import keras
import numpy as np


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"`{name}` must be a positive number. Received: {name}={value!r}")
    return float(value)


def suggest_learning_rate(learning_rates, smoothed_losses, skip_start: float = 0.1) -> float:
    """The learning rate where the smoothed loss falls fastest against log(learning rate).

    Args:
        learning_rates: the increasing learning rates of the range test.
        smoothed_losses: the smoothed loss recorded at each of them.
        skip_start: fraction of the first points left out, where the bias-corrected moving
            average still rests on a handful of batches. Defaults to `0.1`.
    """
    lrs = np.asarray(learning_rates, np.float64)
    losses = np.asarray(smoothed_losses, np.float64)
    if len(lrs) < 3:
        raise ValueError(
            "At least 3 recorded steps are needed to suggest a learning rate. "
            f"Received: {len(lrs)} step(s)"
        )
    slopes = np.gradient(losses, np.log(lrs))
    start = min(int(len(lrs) * skip_start), len(lrs) - 3)
    return float(lrs[start + int(np.argmin(slopes[start:]))])


class LRFinder(keras.callbacks.Callback):
    """The learning-rate range test: one short run with an exponentially growing learning rate.

    The learning rate goes from `min_lr` to `max_lr` geometrically over `steps` training
    batches. After each batch the callback records that batch's loss and an exponentially
    smoothed, bias-corrected loss; it stops training after `steps` batches or as soon as the
    smoothed loss exceeds `divergence_factor` times its minimum (or is not finite). At the end
    of training the model's weights, the optimizer's state and its learning rate are put back
    as they were, `suggested_learning_rate` holds the rate at which the smoothed loss falls
    fastest (steepest negative slope against log(lr)), and the loss-vs-learning-rate plot is
    written to `plot_path` as PNG when one is given (or later with `save_plot`).

    Give `fit` enough epochs to run `steps` batches; the callback stops it early. The
    optimizer must have a float learning rate (not a schedule).

    Args:
        min_lr: the first learning rate.
        max_lr: the last learning rate, greater than `min_lr`.
        steps: number of training batches over which the rate grows, at least 3.
        smoothing: weight of the previous value in the loss's exponential moving average.
            Defaults to `0.98`.
        divergence_factor: stop once the smoothed loss exceeds this multiple of its minimum.
            Defaults to `4.0`.
        plot_path: where to save the PNG plot at the end of training, or `None` for no plot.
            Defaults to `None`.
        verbose: print the suggested rate at the end. Defaults to `1`.

    Example:

    ```python
    finder = LRFinder(min_lr=1e-5, max_lr=1.0, steps=100, plot_path="lr_range.png")
    model.fit(x_train, y_train, epochs=10, callbacks=[finder])
    model.optimizer.learning_rate = finder.suggested_learning_rate
    ```

    Reference: Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017.
    """

    def __init__(
        self,
        min_lr: float,
        max_lr: float,
        steps: int,
        smoothing: float = 0.98,
        divergence_factor: float = 4.0,
        plot_path: str | None = None,
        verbose: int = 1,
    ):
        super().__init__()
        self.min_lr = _check_positive("min_lr", min_lr)
        self.max_lr = _check_positive("max_lr", max_lr)
        if not self.max_lr > self.min_lr:
            raise ValueError(
                f"`max_lr` must be greater than `min_lr` (min_lr={min_lr!r}). "
                f"Received: max_lr={max_lr!r}"
            )
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 3:
            raise ValueError(f"`steps` must be an integer >= 3. Received: steps={steps!r}")
        if isinstance(smoothing, bool) or not isinstance(smoothing, int | float):
            raise ValueError(f"`smoothing` must be in [0, 1). Received: smoothing={smoothing!r}")
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"`smoothing` must be in [0, 1). Received: smoothing={smoothing!r}")
        if _check_positive("divergence_factor", divergence_factor) <= 1.0:
            raise ValueError(
                "`divergence_factor` must be greater than 1. "
                f"Received: divergence_factor={divergence_factor!r}"
            )
        if plot_path is not None and not isinstance(plot_path, str):
            raise ValueError(f"`plot_path` must be a string or None. Received: {plot_path!r}")
        self.steps = steps
        self.smoothing = float(smoothing)
        self.divergence_factor = float(divergence_factor)
        self.plot_path = plot_path
        self.verbose = verbose
        self._reset()

    def _reset(self) -> None:
        self.learning_rates: list[float] = []
        self.losses: list[float] = []
        self.smoothed_losses: list[float] = []
        self.suggested_learning_rate: float | None = None
        self.diverged = False
        self._average = 0.0
        self._best = math.inf

    def learning_rate_at(self, step: int) -> float:
        """The learning rate used for training batch `step` (0-based)."""
        return self.min_lr * (self.max_lr / self.min_lr) ** (step / (self.steps - 1))

    def on_train_begin(self, logs=None):
        self._reset()
        optimizer = self.model.optimizer
        inner = getattr(optimizer, "inner_optimizer", optimizer)
        if isinstance(inner._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            raise ValueError(
                "LRFinder sets the learning rate itself and needs an optimizer built with a float "
                f"learning rate. Received: a {type(inner._learning_rate).__name__} schedule"
            )
        if not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        self._saved_weights = [keras.ops.convert_to_numpy(v) for v in self.model.variables]
        self._saved_optimizer = [keras.ops.convert_to_numpy(v) for v in optimizer.variables]
        self._saved_learning_rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))

    def on_epoch_begin(self, epoch, logs=None):
        # The loss metric is a running mean that restarts every epoch.
        self._previous_total = 0.0
        self._previous_count = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = self.learning_rate_at(len(self.learning_rates))

    def on_train_batch_end(self, batch, logs=None):
        loss = self._batch_loss()
        step = len(self.learning_rates)
        self.learning_rates.append(self.learning_rate_at(step))
        self.losses.append(loss)
        self._average = self.smoothing * self._average + (1.0 - self.smoothing) * loss
        smoothed = self._average / (1.0 - self.smoothing ** (step + 1))
        self.smoothed_losses.append(smoothed)
        self._best = min(self._best, smoothed)
        if not math.isfinite(smoothed) or smoothed > self.divergence_factor * self._best:
            self.diverged = True
            self.model.stop_training = True
        if step + 1 >= self.steps:
            self.model.stop_training = True

    def _batch_loss(self) -> float:
        """This batch's loss, recovered from the running total and count of the loss metric."""
        tracker = next(m for m in self.model.metrics if m.name == "loss")
        total = float(keras.ops.convert_to_numpy(tracker.total))
        count = float(keras.ops.convert_to_numpy(tracker.count))
        loss = (total - self._previous_total) / max(count - self._previous_count, 1e-12)
        self._previous_total, self._previous_count = total, count
        return loss

    def on_train_end(self, logs=None):
        for variable, value in zip(self.model.variables, self._saved_weights, strict=True):
            variable.assign(value)
        optimizer = self.model.optimizer
        for variable, value in zip(optimizer.variables, self._saved_optimizer, strict=True):
            variable.assign(value)
        optimizer.learning_rate = self._saved_learning_rate
        usable = self._usable_points()
        if usable >= 3:
            self.suggested_learning_rate = suggest_learning_rate(
                self.learning_rates[:usable], self.smoothed_losses[:usable]
            )
        if self.plot_path is not None:
            self.save_plot(self.plot_path)
        if self.verbose:
            print(
                f"LRFinder: {len(self.learning_rates)} steps, "
                f"{'diverged' if self.diverged else 'did not diverge'}; "
                f"suggested learning rate: {self.suggested_learning_rate}"
            )

    def _usable_points(self) -> int:
        # The step that triggered the divergence stop is left out of the suggestion.
        return len(self.learning_rates) - (1 if self.diverged else 0)

    def save_plot(self, path: str) -> str:
        """Saves smoothed (and raw) loss against learning rate, log scale, as a PNG at `path`."""
        if not self.learning_rates:
            raise ValueError("No steps recorded yet; run `fit` with this callback first.")
        # The object-oriented Agg canvas draws without pyplot and leaves the global backend alone.
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=(6, 4))
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        axes.plot(self.learning_rates, self.losses, alpha=0.3, label="loss")
        axes.plot(self.learning_rates, self.smoothed_losses, label="smoothed loss")
        if self.suggested_learning_rate is not None:
            axes.axvline(
                self.suggested_learning_rate,
                color="red",
                linestyle="--",
                label=f"suggested {self.suggested_learning_rate:.2e}",
            )
        axes.set_xscale("log")
        axes.set_xlabel("learning rate")
        axes.set_ylabel("training loss")
        axes.legend()
        figure.tight_layout()
        figure.savefig(path, format="png")
        return path
