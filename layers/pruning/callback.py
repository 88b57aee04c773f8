"""`PruningCallback`: advances the pruning schedule and keeps pruned weights at zero."""

from __future__ import annotations

import keras

from layers.pruning.wrapper import PruneLowMagnitude


def pruned_layers(model: keras.Model) -> list[PruneLowMagnitude]:
    """The `PruneLowMagnitude` wrappers of `model`, nested models included."""
    return [layer for layer in model._flatten_layers() if isinstance(layer, PruneLowMagnitude)]


@keras.saving.register_keras_serializable(package="keras_zoo")
class PruningCallback(keras.callbacks.Callback):
    """Updates the masks of a pruned model along its schedule and re-applies them every batch.

    After each training batch, every `PruneLowMagnitude` layer recomputes its mask when its
    `PolynomialSparsity` schedule says so (Zhu and Gupta 2017: every `frequency` steps from
    `begin_step` to `end_step`) and multiplies the mask into its kernel, so weights the
    optimizer moved away from zero are zero again before the next forward pass. The step is the
    optimizer's `iterations`, so resuming from a checkpoint resumes the schedule.

    Example:

    ```python
    pruned = prune_low_magnitude(model, 0.8, PolynomialSparsity(end_step=400, frequency=50))
    pruned.compile("adam", "sparse_categorical_crossentropy")
    pruned.fit(x, y, epochs=4, callbacks=[PruningCallback()])
    ```

    Reference:
        Zhu and Gupta, "To prune, or not to prune: exploring the efficacy of pruning for model
        compression", 2017. https://arxiv.org/abs/1710.01878
    """

    def get_config(self) -> dict:
        return {}

    def _update(self) -> None:
        step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        for layer in self._layers:
            layer.update_mask(step)
            layer.apply_mask()

    def on_train_begin(self, logs=None):
        self._layers = pruned_layers(self.model)
        if not self._layers:
            raise ValueError(
                "PruningCallback needs a model with PruneLowMagnitude layers "
                "(see prune_low_magnitude). Received: a model with none"
            )
        self._update()

    def on_train_batch_end(self, batch, logs=None):
        self._update()
