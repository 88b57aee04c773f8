"""BatchNormalization on TensorFlow's fused kernel (`FusedBatchNormV3`) for 4-D inputs."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from layers.validation import check_bool, check_positive_float, check_unit_interval

# Keras 3 has no `fused` option: its BatchNormalization is `ops.moments` plus elementwise ops,
# which on CPU costs a Conv-4 training step about 40% of its speed. These are the cases the
# fused kernel takes; everything else runs `keras.layers.BatchNormalization.call`.
_FUSED_DTYPES = ("float32", "float16", "bfloat16")
# cuDNN refuses a smaller epsilon (tf.keras 2 fell back to the unfused path below it too).
_MIN_FUSED_EPSILON = 1.001e-5


@keras.saving.register_keras_serializable(package="keras_zoo")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` computed by TensorFlow's fused batch-norm kernel.

    The same layer as Keras's (a subclass: same arguments, weights, weight order and
    `isinstance` checks), whose 4-D inputs are normalised by one `tf.raw_ops.FusedBatchNormV3`
    (forward) and `FusedBatchNormGradV3` (backward) instead of `keras.ops.moments` and a chain
    of elementwise ops. On CPU this is what tf.keras 2's `fused=True` was: a Conv-4 training
    step on 28x28 images runs 1.6-1.7x faster. Training mode normalises with the batch
    statistics and updates the moving ones as Keras does,
    `moving = moving * momentum + batch * (1 - momentum)`, with the biased batch variance (the
    kernel's Bessel-corrected output times `(n - 1) / n`, `n` the values per channel), so
    outputs, gradients and moving statistics match `BatchNormalization` to float rounding;
    `unbiased_moving_variance=True` averages the unbiased variance instead (PyTorch's
    `BatchNorm2d`, tf.keras 2's fused layer). Inference (and `trainable=False`) normalises with
    the moving statistics. Under `mixed_float16` the kernel reads and writes float16 and
    accumulates in float32, with float32 weights. Second derivatives (MAML's meta-gradient)
    are TensorFlow's registered gradient of `FusedBatchNormGradV3`, exact (checked against
    finite differences); Keras's layer on TensorFlow gets them slightly wrong, because
    `tf.nn.moments` stops the gradient of the mean inside the variance, which is harmless to
    first derivatives only.

    The fused kernel is TensorFlow-only and runs when all of these hold: the TensorFlow
    backend, 4-D inputs normalised over the last axis (NHWC) or axis 1 (NCHW), float32,
    float16 or bfloat16 inputs, no mask, `renorm=False`, `synchronized=False` and
    `epsilon >= 1.001e-5` (cuDNN's minimum). Otherwise the layer is
    `keras.layers.BatchNormalization` (with `unbiased_moving_variance` still honoured).

    Args:
        axis: the normalised (features) axis: `-1` (or 3) for channels-last images, `1` for
            channels-first. Defaults to `-1`.
        momentum: momentum of the moving statistics, in [0, 1]. Defaults to `0.99`.
        epsilon: added to the variance, positive. Defaults to `1e-3`.
        unbiased_moving_variance: average the unbiased (n / (n - 1)) batch variance into
            `moving_variance`, as PyTorch does; the normalisation itself always uses the biased
            one. Not with `renorm` or `synchronized`. Defaults to `False` (Keras 3's update).
        **kwargs: every other `keras.layers.BatchNormalization` argument (`center`, `scale`,
            initializers, regularizers, constraints, `renorm`, `synchronized`) and base layer
            arguments (`name`, `dtype`, ...).

    Example:

    ```python
    x = keras.Input((28, 28, 1))
    y = FusedBatchNormalization(momentum=0.9)(keras.layers.Conv2D(64, 3)(x))
    ```

    Reference:
        Ioffe and Szegedy, "Batch Normalization: Accelerating Deep Network Training by
        Reducing Internal Covariate Shift", ICML 2015. https://arxiv.org/abs/1502.03167
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        unbiased_moving_variance: bool = False,
        **kwargs,
    ):
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise ValueError(f"`axis` must be an integer. Received: axis={axis!r}")
        check_unit_interval("momentum", momentum, include_low=True, include_high=True)
        check_positive_float("epsilon", epsilon)
        check_bool("unbiased_moving_variance", unbiased_moving_variance)
        super().__init__(axis=axis, momentum=momentum, epsilon=epsilon, **kwargs)
        if unbiased_moving_variance and (self.renorm or self.synchronized):
            raise ValueError(
                "`unbiased_moving_variance=True` does not combine with `renorm` or "
                f"`synchronized`. Received: renorm={self.renorm}, "
                f"synchronized={self.synchronized}"
            )
        self.unbiased_moving_variance = unbiased_moving_variance

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"`axis` {self.axis} is out of range for {rank}-D inputs. "
                f"Received: axis={self.axis}, input_shape={tuple(input_shape)}"
            )
        if input_shape[self.axis] is None:
            raise ValueError(
                f"The normalised axis {self.axis} of the inputs must have a known size. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        super().build(input_shape)

    def call(self, inputs, training=None, mask=None):
        data_format = self._fused_data_format(inputs, mask)
        if data_format is None:
            if self.unbiased_moving_variance and training and self.trainable:
                return self._unfused_unbiased_training(inputs, mask)
            return super().call(inputs, training=training, mask=mask)
        float32 = lambda value: ops.cast(value, "float32")  # noqa: E731
        channels = inputs.shape[self.axis]
        scale = float32(self.gamma) if self.scale else ops.ones((channels,), "float32")
        offset = float32(self.beta) if self.center else ops.zeros((channels,), "float32")
        if training and self.trainable:
            empty = tf.constant([], tf.float32)
            outputs, mean, variance = tf.raw_ops.FusedBatchNormV3(
                x=inputs,
                scale=scale,
                offset=offset,
                mean=empty,
                variance=empty,
                epsilon=self.epsilon,
                data_format=data_format,
                is_training=True,
            )[:3]
            # The kernel's batch variance is Bessel-corrected, n / (n - 1): TensorFlow's CPU
            # kernel and XLA's (both tested), as cuDNN's running variance is.
            count = ops.cast(ops.size(inputs), "float32") / channels
            if not self.unbiased_moving_variance:
                variance = variance * ((count - 1.0) / ops.maximum(count, 1.0))
            self._update_moving_statistics(ops.stop_gradient(mean), ops.stop_gradient(variance))
        else:
            outputs = tf.raw_ops.FusedBatchNormV3(
                x=inputs,
                scale=scale,
                offset=offset,
                mean=float32(self.moving_mean),
                variance=float32(self.moving_variance),
                epsilon=self.epsilon,
                data_format=data_format,
                is_training=False,
            )[0]
        return ops.cast(outputs, self.compute_dtype)

    def _fused_data_format(self, inputs, mask) -> str | None:
        """The kernel's data format ("NHWC", "NCHW") when it takes `inputs`, else `None`."""
        rank = len(inputs.shape)
        if (
            keras.backend.backend() != "tensorflow"
            or rank != 4
            or mask is not None
            or self.renorm
            or self.synchronized
            or self.epsilon < _MIN_FUSED_EPSILON
            or keras.backend.standardize_dtype(inputs.dtype) not in _FUSED_DTYPES
        ):
            return None
        return {3: "NHWC", 1: "NCHW"}.get(self.axis % rank)

    def _update_moving_statistics(self, mean, variance):
        momentum = self.momentum
        moving_mean = ops.cast(self.moving_mean, mean.dtype)
        moving_variance = ops.cast(self.moving_variance, variance.dtype)
        self.moving_mean.assign(moving_mean * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(moving_variance * momentum + variance * (1.0 - momentum))

    def _unfused_unbiased_training(self, inputs, mask):
        """Keras's training branch with the unbiased variance averaged into the moving one."""
        compute_dtype = keras.backend.result_type(inputs.dtype, "float32")
        x = ops.cast(inputs, compute_dtype)
        mean, variance = self._moments(x, mask)
        if mask is None:
            count = ops.cast(ops.size(x), compute_dtype) / x.shape[self.axis]
        else:
            count = ops.sum(ops.cast(mask, compute_dtype))
        correction = count / ops.maximum(count - 1.0, 1.0)
        self._update_moving_statistics(
            ops.stop_gradient(mean), ops.stop_gradient(variance * correction)
        )
        gamma = ops.cast(self.gamma, compute_dtype) if self.scale else None
        beta = ops.cast(self.beta, compute_dtype) if self.center else None
        outputs = ops.batch_normalization(
            x, mean, variance, axis=self.axis, offset=beta, scale=gamma, epsilon=self.epsilon
        )
        return ops.cast(outputs, self.compute_dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "unbiased_moving_variance": self.unbiased_moving_variance}
