"""`PruneLowMagnitude`: a layer wrapper holding the pruning mask of the wrapped layer's kernel."""

from __future__ import annotations

import keras
import numpy as np

from layers.pruning.masks import magnitude_mask
from layers.pruning.schedule import PolynomialSparsity

PRUNABLE = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)


def kernel_of(layer: keras.layers.Layer):
    """The weight variable pruned in `layer` (the depthwise kernel for depthwise convolutions)."""
    kernel = getattr(layer, "depthwise_kernel", None)
    return layer.kernel if kernel is None else kernel


@keras.saving.register_keras_serializable(package="keras_zoo")
class PruneLowMagnitude(keras.layers.Wrapper):
    """Wraps a Conv2D, DepthwiseConv2D or Dense layer and keeps a magnitude mask of its kernel.

    The mask is a non-trainable weight (saved with the model). `PruningCallback` recomputes it
    along `schedule` and multiplies it into the kernel after every training batch, so the forward
    pass always sees the pruned kernel; `strip_pruning` removes the wrapper.

    Args:
        layer: the layer to prune, or its `keras.saving.serialize_keras_object` dict.
        target_sparsity: final fraction of zero kernel entries, in `[0, 1)`.
        schedule: a `PolynomialSparsity`, or `None` for one step to the target at step 0.
            Defaults to `None`.
        **kwargs: base layer arguments (`name`, ...).

    Example:

    ```python
    pruned = PruneLowMagnitude(keras.layers.Dense(8), target_sparsity=0.5)
    ```

    Reference:
        Zhu and Gupta, "To prune, or not to prune: exploring the efficacy of pruning for model
        compression", 2017. https://arxiv.org/abs/1710.01878
    """

    def __init__(self, layer, target_sparsity: float, schedule=None, **kwargs):
        if isinstance(layer, dict):
            layer = keras.saving.deserialize_keras_object(layer)
        if not isinstance(layer, PRUNABLE):
            raise TypeError(
                "`layer` must be a Conv2D, DepthwiseConv2D or Dense layer. "
                f"Received: layer={layer!r}"
            )
        if not isinstance(target_sparsity, int | float) or not 0.0 <= target_sparsity < 1.0:
            raise ValueError(
                "`target_sparsity` must be in [0, 1). "
                f"Received: target_sparsity={target_sparsity!r}"
            )
        if isinstance(schedule, dict):
            schedule = keras.saving.deserialize_keras_object(schedule)
        if schedule is not None and not isinstance(schedule, PolynomialSparsity):
            raise TypeError(
                f"`schedule` must be a PolynomialSparsity or None. Received: schedule={schedule!r}"
            )
        kwargs.setdefault("name", f"prune_{layer.name}")
        super().__init__(layer, **kwargs)
        self.target_sparsity = float(target_sparsity)
        self.schedule = schedule or PolynomialSparsity(0, 1, self.target_sparsity, 1.0, 1)

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)
        kernel = kernel_of(self.layer)
        self.mask = self.add_weight(
            name="mask",
            shape=kernel.shape,
            initializer="ones",
            trainable=False,
            aggregation="only_first_replica",
        )
        self.built = True

    def call(self, inputs, *args, **kwargs):
        return self.layer(inputs, *args, **kwargs)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def update_mask(self, step: int) -> None:
        """Recomputes the mask for optimizer step `step` if the schedule says so."""
        if self.schedule.should_update(step):
            sparsity = self.schedule(step, self.target_sparsity)
            kernel = keras.ops.convert_to_numpy(kernel_of(self.layer))
            current = keras.ops.convert_to_numpy(self.mask)
            self.mask.assign(magnitude_mask(kernel, sparsity, current))

    def apply_mask(self) -> None:
        """Zeroes the pruned kernel entries."""
        kernel = kernel_of(self.layer)
        kernel.assign(kernel * keras.ops.cast(self.mask, kernel.dtype))

    def sparsity(self) -> float:
        """Fraction of zero entries of the kernel."""
        return float(np.mean(keras.ops.convert_to_numpy(kernel_of(self.layer)) == 0))

    @classmethod
    def from_config(cls, config, custom_objects=None):
        # keras' Wrapper.from_config pops "layer" from the caller's dict; work on a copy.
        return super().from_config(dict(config), custom_objects)

    def get_config(self):
        return {
            **super().get_config(),
            "target_sparsity": self.target_sparsity,
            "schedule": keras.saving.serialize_keras_object(self.schedule),
        }
