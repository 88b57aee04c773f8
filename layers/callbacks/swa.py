"""Stochastic weight averaging (SWA) as a `model.fit` callback."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import tensorflow as tf

from layers.callbacks.batch_norm_statistics import recompute_batch_norm_statistics

# The running average lives on the model under this attribute so that `model.save_weights` (and
# therefore `keras.callbacks.BackupAndRestore`) stores and restores it with the model's weights.
STATE_ATTRIBUTE = "_keras_zoo_swa_state"


class SWAState(keras.layers.Layer):
    """The running average of a model's trainable weights and the number of models averaged.

    Not part of the model's graph: `SWA` attaches it to the model outside Keras's layer tracking,
    where Keras's weight saving still finds it.
    """

    def __init__(self, variables, **kwargs):
        super().__init__(trainable=False, **kwargs)
        self.count = self.add_weight(
            shape=(), initializer="zeros", dtype="float32", trainable=False, name="count"
        )
        self.averages = [
            self.add_weight(
                shape=v.shape, initializer="zeros", dtype=v.dtype, trainable=False, name=f"avg_{i}"
            )
            for i, v in enumerate(variables)
        ]
        self.built = True


def _validate_bn_data(bn_data) -> None:
    if bn_data is None or isinstance(bn_data, tf.data.Dataset | np.ndarray | tf.Tensor):
        return
    if isinstance(bn_data, tuple | list | dict) and bn_data:
        return
    raise TypeError(
        "`bn_data` must be None, a NumPy array (or a structure of them), an `(x, ...)` tuple or a "
        f"`tf.data.Dataset`. Received: bn_data of type {type(bn_data).__name__}"
    )


class SWA(keras.callbacks.Callback):
    """Stochastic weight averaging: trains as usual, ends with the average of late weights.

    From epoch `start_epoch` (0-based, as Keras counts epochs) on, the model's trainable weights
    at the end of every epoch join an equally weighted running average. When training ends the
    average replaces the weights. When `bn_data` is given, BatchNormalization moving statistics
    are then recomputed for the averaged weights in one pass over `bn_data`, as exact averages
    over that data (see `recompute_batch_norm_statistics`); without it the statistics are the
    last epoch's.

    The running average and its count are stored on the model (outside its layers), so
    `model.save_weights` and `keras.callbacks.BackupAndRestore` checkpoint them: a fit that is
    interrupted and resumed with `BackupAndRestore` ends with the same average as an
    uninterrupted one. A whole-model `.keras` checkpoint does not carry them.

    Args:
        start_epoch: first epoch (0-based) whose final weights are averaged.
        swa_learning_rate: constant learning rate set on the optimizer at the beginning of
            `start_epoch` and kept afterwards, or `None` to leave the learning rate alone (for
            example when a cyclical schedule already provides the SWA phase). Needs an optimizer
            built with a float learning rate. Defaults to `None`.
        bn_data: data for the BatchNormalization re-estimation: a NumPy array of inputs, an
            `(x, ...)` tuple, or a `tf.data.Dataset` of inputs or `(x, y, ...)` tuples; arrays
            are split into batches of 32. `None` skips it. Defaults to `None`.

    Example:

    ```python
    swa = SWA(start_epoch=15, swa_learning_rate=0.01, bn_data=x_train)
    model.fit(x_train, y_train, epochs=20, callbacks=[swa])
    # The model now holds the average of the weights after epochs 15-19.
    ```

    Reference: Izmailov et al., "Averaging Weights Leads to Wider Optima and Better
    Generalization", UAI 2018.
    """

    def __init__(self, start_epoch: int, swa_learning_rate: float | None = None, bn_data=None):
        super().__init__()
        if isinstance(start_epoch, bool) or not isinstance(start_epoch, int) or start_epoch < 0:
            raise ValueError(
                "`start_epoch` must be a non-negative integer. "
                f"Received: start_epoch={start_epoch!r}"
            )
        if swa_learning_rate is not None and (
            isinstance(swa_learning_rate, bool)
            or not isinstance(swa_learning_rate, int | float)
            or not swa_learning_rate > 0
        ):
            raise ValueError(
                "`swa_learning_rate` must be None or a positive number. "
                f"Received: swa_learning_rate={swa_learning_rate!r}"
            )
        _validate_bn_data(bn_data)
        self.start_epoch = start_epoch
        self.swa_learning_rate = swa_learning_rate
        self.bn_data = bn_data
        self._training = False

    # The state is created when fit hands over the model, before any `on_train_begin`, so that
    # `BackupAndRestore.on_train_begin` restores it whatever the order of the callbacks.
    def set_model(self, model):
        super().set_model(model)
        if model.built:
            self._attach_state()

    def _attach_state(self) -> SWAState:
        state = SWAState(self.model.trainable_variables, name="swa_state")
        # object.__setattr__ keeps the state out of the model's layers and weights.
        object.__setattr__(self.model, STATE_ATTRIBUTE, state)
        return state

    def _detach_state(self) -> None:
        if STATE_ATTRIBUTE in self.model.__dict__:
            object.__delattr__(self.model, STATE_ATTRIBUTE)

    @property
    def state(self) -> SWAState | None:
        """The running average attached to the model, or `None` outside of training."""
        return self.model.__dict__.get(STATE_ATTRIBUTE) if self.model is not None else None

    @property
    def averaged_epochs(self) -> int:
        """How many epochs' weights are in the current average."""
        return int(self.state.count.numpy()) if self.state is not None else 0

    def on_train_begin(self, logs=None):
        self._training = True
        if self.state is None:
            self._attach_state()
        if self.swa_learning_rate is not None and isinstance(
            _inner_optimizer(self.model.optimizer)._learning_rate,
            keras.optimizers.schedules.LearningRateSchedule,
        ):
            raise ValueError(
                "`swa_learning_rate` needs an optimizer with a float learning rate, but this "
                "optimizer uses a LearningRateSchedule. Pass swa_learning_rate=None and make the "
                "schedule provide the SWA phase. "
                f"Received: swa_learning_rate={self.swa_learning_rate}"
            )

    def on_epoch_begin(self, epoch, logs=None):
        if self.swa_learning_rate is not None and epoch >= self.start_epoch:
            self.model.optimizer.learning_rate = self.swa_learning_rate

    def on_epoch_end(self, epoch, logs=None):
        if epoch < self.start_epoch:
            return
        state = self.state
        count = state.count.numpy() + 1.0
        for average, variable in zip(state.averages, self.model.trainable_variables, strict=True):
            # Incremental mean: after n updates, the average equals the mean of the n weights.
            average.assign(average + (keras.ops.convert_to_tensor(variable) - average) / count)
        state.count.assign(count)

    def on_train_end(self, logs=None):
        self._training = False
        state = self.state
        if state is None:
            return
        if state.count.numpy() == 0:
            warnings.warn(
                f"SWA averaged no weights: training ended before start_epoch={self.start_epoch}.",
                stacklevel=2,
            )
        else:
            for variable, average in zip(
                self.model.trainable_variables, state.averages, strict=True
            ):
                variable.assign(average)
            if self.bn_data is not None:
                recompute_batch_norm_statistics(self.model, self.bn_data)
        self._detach_state()

    # `evaluate` and `predict` also call `set_model`; their state is dropped when they finish.
    def on_test_end(self, logs=None):
        if not self._training:
            self._detach_state()

    def on_predict_end(self, logs=None):
        if not self._training:
            self._detach_state()


def _inner_optimizer(optimizer):
    """The optimizer that owns the learning rate (unwraps `LossScaleOptimizer`)."""
    return getattr(optimizer, "inner_optimizer", optimizer)
