"""The callback that makes `fit` train with DP-SGD's private step."""

from __future__ import annotations

import types

import keras

from layers.privacy.private_step import check_private_model, private_train_step


@keras.saving.register_keras_serializable(package="keras_zoo")
class PrivateTraining(keras.callbacks.Callback):
    """Trains with DP-SGD's private step (Abadi et al. 2016) for the duration of `fit`.

    On `on_train_begin` it checks that the model can be trained privately (compiled with a
    `DPOptimizer`, one loss, no batch normalisation, one replica) and replaces the model
    instance's `train_step` with `private_train_step`: per-example gradients clipped (by ghost
    clipping for Dense and Conv2D models, otherwise vectorised with `tf.vectorized_map`) and
    noised by the optimizer. The train function is traced
    again, with or without `jit_compile`; `on_train_end` restores the model's own step.
    Evaluation and prediction are untouched. A `DPOptimizer` used without this callback raises
    an error instead of applying ordinary gradients.

    Example:

    ```python
    model.compile(optimizer=make_private(keras.optimizers.SGD(0.1), 1.0, 1.1), loss="mse")
    model.fit(x, y, batch_size=256, callbacks=[PrivateTraining()])
    ```
    """

    def __init__(self):
        super().__init__()
        self._installed = None
        self._own_train_step = None

    def on_train_begin(self, logs=None):
        model = self.model
        check_private_model(model)
        self._own_train_step = model.__dict__.get("train_step")
        self._installed = types.MethodType(private_train_step, model)
        model.train_step = self._installed
        # A train function traced before (this fit's, or an earlier one's) is the ordinary step.
        model.make_train_function(force=True)

    def on_train_end(self, logs=None):
        model = self.model
        if self._installed is None:
            return
        if model.__dict__.get("train_step") is self._installed:
            if self._own_train_step is None:
                del model.train_step
            else:
                model.train_step = self._own_train_step
        self._installed = None
        model.make_train_function(force=True)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
