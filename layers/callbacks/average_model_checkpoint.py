"""Checkpoints of a model's averaged weights (TensorFlow Addons' `AverageModelCheckpoint`)."""

from __future__ import annotations

import keras

from layers.validation import check_bool


def _inner_optimizer(optimizer):
    # A mixed-precision loss-scale wrapper averages nothing itself.
    while hasattr(optimizer, "inner_optimizer"):
        optimizer = optimizer.inner_optimizer
    return optimizer


def has_weight_average(optimizer) -> bool:
    """Whether `AverageModelCheckpoint` can read averaged weights from `optimizer`."""
    optimizer = _inner_optimizer(optimizer)
    return hasattr(optimizer, "assign_average_vars") or bool(getattr(optimizer, "use_ema", False))


class AverageModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """`ModelCheckpoint` that saves the optimizer's averaged weights instead of the raw ones.

    TensorFlow Addons' `tfa.callbacks.AverageModelCheckpoint` on Keras 3. At every save the
    model's trainable weights are replaced by their average, taken from the optimizer:

    - an optimizer with `assign_average_vars(var_list)` (TFA's `MovingAverage` and
      `StochasticAverage` wrappers had it, and keras-zoo's averaging optimizers should),
    - or any Keras optimizer built with `use_ema=True` (its exponential moving average:
      `keras.optimizers.Adam(use_ema=True, ema_momentum=0.99)`).

    A `keras.optimizers.LossScaleOptimizer` is looked through. Any other optimizer raises a
    `TypeError` when the callback is attached to the model.

    Args:
        update_weights: if `True`, the averaged weights stay in the model after each save
            (training continues from them); if `False`, the model gets its own weights back
            after each save, and only the file holds the average.
        filepath: where to save, as for `keras.callbacks.ModelCheckpoint` (`.keras`, or
            `.weights.h5` with `save_weights_only=True`; may hold `{epoch}` and metric names).
        monitor: metric for `save_best_only`. Defaults to `"val_loss"`.
        verbose: verbosity. Defaults to `0`.
        save_best_only: only keep the best model by `monitor`. Defaults to `False`.
        save_weights_only: save only the weights. Defaults to `False`.
        mode: `"auto"`, `"min"` or `"max"`. Defaults to `"auto"`.
        save_freq: `"epoch"` or a number of batches. Defaults to `"epoch"`.
        **kwargs: further `ModelCheckpoint` arguments (`initial_value_threshold`).

    Example:

    ```python
    model.compile(keras.optimizers.SGD(0.1, use_ema=True), "mse")
    model.fit(x, y, epochs=5, callbacks=[AverageModelCheckpoint(False, "average.keras")])
    ```

    Like TFA's, with `update_weights=True` the average is written into the model at every
    save, even when `save_best_only` then skips the file.
    """

    def __init__(
        self,
        update_weights: bool,
        filepath: str,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq="epoch",
        **kwargs,
    ):
        self.update_weights = check_bool("update_weights", update_weights)
        super().__init__(
            filepath,
            monitor=monitor,
            verbose=verbose,
            save_best_only=save_best_only,
            save_weights_only=save_weights_only,
            mode=mode,
            save_freq=save_freq,
            **kwargs,
        )

    def set_model(self, model):
        super().set_model(model)
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and not has_weight_average(optimizer):
            raise TypeError(
                "`AverageModelCheckpoint` needs an optimizer that keeps averaged weights: one "
                "with `assign_average_vars` (a moving-average or SWA optimizer wrapper) or a "
                "Keras optimizer with `use_ema=True`. "
                f"Received: optimizer={type(optimizer).__name__}"
            )

    def _assign_average(self):
        optimizer = _inner_optimizer(self.model.optimizer)
        variables = self.model.trainable_variables
        if hasattr(optimizer, "assign_average_vars"):
            optimizer.assign_average_vars(variables)
        else:
            optimizer._overwrite_model_variables_with_average_value(variables)

    def _save_model(self, epoch, batch, logs):
        if self.update_weights:
            self._assign_average()
            return super()._save_model(epoch, batch, logs)
        own_weights = self.model.get_weights()
        self._assign_average()
        try:
            return super()._save_model(epoch, batch, logs)
        finally:
            self.model.set_weights(own_weights)
