"""The elastic inverted residual block of Once-for-All: one set of weights, many sub-blocks."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from layers.convolution import SqueezeExcite
from layers.validation import check_positive_float, check_positive_int, check_positive_ints


def check_kernel_choices(kernel_choices) -> tuple[int, ...]:
    """Sorted, distinct, odd kernel sizes."""
    kernels = tuple(sorted(set(check_positive_ints("kernel_choices", kernel_choices))))
    if any(k % 2 == 0 for k in kernels):
        raise ValueError(
            "`kernel_choices` must be odd kernel sizes. "
            f"Received: kernel_choices={kernel_choices!r}"
        )
    return kernels


@keras.saving.register_keras_serializable(package="keras_zoo")
class ElasticInvertedResidual(keras.layers.Layer):
    """An inverted residual block whose kernel size and expand ratio are chosen per call.

    The block holds the weights of its largest version: a 1x1 expansion to
    `channels * max(expand_choices)` hidden channels, a `max(kernel_choices)` depthwise kernel,
    an optional squeeze-excite gate and a linear 1x1 projection, each followed by batch
    normalization (as `layers.InvertedResidual`, whose weights an extracted block takes).

    - **Elastic kernel**: a smaller kernel is the centre of the next larger one, multiplied by a
      learned `k^2 x k^2` kernel transformation matrix shared by the channels (initialised to
      the identity), as in the paper's Figure 3. The small kernel is zero-padded to the largest
      size, which gives the same "same"-padded convolution.
    - **Elastic width**: an expand ratio `e` keeps the first `channels * e` hidden channels
      (the others are masked to zero, which equals removing them, since the depthwise
      convolution and batch normalization are per channel). `sort_channels()` reorders the
      hidden channels by the L1 norm of their projection weights, as the paper does before
      shrinking the width, so the kept channels are the most important ones.

    Args:
        filters: output channels.
        strides: depthwise stride. Defaults to `1`.
        kernel_choices: odd depthwise kernel sizes. Defaults to `(3, 5, 7)`.
        expand_choices: expand ratios. Defaults to `(3, 4, 6)`.
        se_ratio: squeeze-excite bottleneck relative to the input channels, or `None`.
            Defaults to `None`.
        activation: activation after the expansion and depthwise convolutions.
            Defaults to `"relu6"`.
        norm_momentum: batch normalization momentum. Defaults to `0.99`.
        **kwargs: base layer arguments.

    Example:

    ```python
    block = ElasticInvertedResidual(16)
    y = block(x, kernel_index=0, hidden_channels=3 * x.shape[-1])  # kernel 3, expand 3
    ```

    Reference:
        Cai, Gan, Wang, Zhang and Han, "Once-for-All: Train One Network and Specialize it for
        Efficient Deployment", ICLR 2020. https://arxiv.org/abs/1908.09791
    """

    def __init__(
        self,
        filters: int,
        strides: int = 1,
        kernel_choices=(3, 5, 7),
        expand_choices=(3, 4, 6),
        se_ratio: float | None = None,
        activation="relu6",
        norm_momentum: float = 0.99,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_positive_int("filters", filters)
        self.strides = check_positive_int("strides", strides)
        self.kernel_choices = check_kernel_choices(kernel_choices)
        self.expand_choices = tuple(
            sorted(set(check_positive_ints("expand_choices", expand_choices)))
        )
        self.se_ratio = check_positive_float("se_ratio", se_ratio, allow_none=True)
        self.activation = keras.activations.get(activation)
        self.norm_momentum = norm_momentum

    def build(self, input_shape):
        channels = input_shape[-1]
        self.channels = channels
        self.hidden = channels * max(self.expand_choices)
        self.max_kernel = max(self.kernel_choices)
        common = {"dtype": self.dtype_policy}
        norm = {"momentum": self.norm_momentum, "epsilon": 1e-3, **common}
        self.expand = keras.layers.Conv2D(self.hidden, 1, use_bias=False, name="expand", **common)
        self.expand_norm = keras.layers.BatchNormalization(name="expand_norm", **norm)
        self.expand.build(input_shape)
        self.expand_norm.build((None, None, None, self.hidden))
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel",
            shape=(self.max_kernel, self.max_kernel, self.hidden, 1),
            initializer="glorot_uniform",
        )
        self.transforms = {}
        for k in self.kernel_choices[:-1]:
            self.transforms[k] = self.add_weight(
                name=f"transform_{k}", shape=(k * k, k * k), initializer="identity"
            )
        self.depthwise_norm = keras.layers.BatchNormalization(name="depthwise_norm", **norm)
        self.depthwise_norm.build((None, None, None, self.hidden))
        self.squeeze_excite = None
        if self.se_ratio is not None:
            self.squeeze_excite = SqueezeExcite(
                squeeze_channels=max(1, int(channels * self.se_ratio)),
                name="squeeze_excite",
                **common,
            )
            self.squeeze_excite.build((None, None, None, self.hidden))
        self.project = keras.layers.Conv2D(
            self.filters, 1, use_bias=False, name="project", **common
        )
        self.project_norm = keras.layers.BatchNormalization(name="project_norm", **norm)
        self.project.build((None, None, None, self.hidden))
        self.project_norm.build((None, None, None, self.filters))
        self.residual = self.strides == 1 and channels == self.filters
        super().build(input_shape)

    def kernels(self) -> list:
        """The depthwise kernel of every kernel choice (unpadded), in `kernel_choices` order."""
        kernel = ops.convert_to_tensor(self.depthwise_kernel)
        result = {self.max_kernel: kernel}
        for k in reversed(self.kernel_choices[:-1]):
            start = (kernel.shape[0] - k) // 2
            centre = kernel[start : start + k, start : start + k]  # (k, k, hidden, 1)
            flat = ops.transpose(ops.reshape(centre, (k * k, self.hidden)))
            flat = ops.matmul(flat, ops.convert_to_tensor(self.transforms[k]))
            kernel = ops.reshape(ops.transpose(flat), (k, k, self.hidden, 1))
            result[k] = kernel
        return [result[k] for k in self.kernel_choices]

    def _padded_kernels(self):
        padded = []
        for k, kernel in zip(self.kernel_choices, self.kernels(), strict=True):
            pad = (self.max_kernel - k) // 2
            padded.append(ops.pad(kernel, ((pad, pad), (pad, pad), (0, 0), (0, 0))))
        return ops.stack(padded)

    def call(self, inputs, kernel_index, hidden_channels, training=None):
        """Runs the sub-block: kernel `kernel_choices[kernel_index]`, `hidden_channels` wide."""
        x = self.activation(self.expand_norm(self.expand(inputs), training=training))
        kernel = ops.take(self._padded_kernels(), kernel_index, axis=0)
        x = ops.depthwise_conv(x, kernel, strides=self.strides, padding="same")
        x = self.activation(self.depthwise_norm(x, training=training))
        mask = ops.cast(ops.arange(self.hidden) < hidden_channels, x.dtype)
        x = x * mask
        if self.squeeze_excite is not None:
            x = self.squeeze_excite(x)
        x = self.project_norm(self.project(x), training=training)
        return inputs + x if self.residual else x

    def sort_channels(self) -> None:
        """Reorders the hidden channels by decreasing L1 norm of their projection weights."""
        importance = np.abs(self.project.kernel.numpy()).sum(axis=(0, 1, 3))
        order = np.argsort(-importance, kind="stable")
        self.expand.kernel.assign(self.expand.kernel.numpy()[..., order])
        self.depthwise_kernel.assign(self.depthwise_kernel.numpy()[:, :, order])
        for norm in (self.expand_norm, self.depthwise_norm):
            for variable in norm.weights:
                variable.assign(variable.numpy()[order])
        if self.squeeze_excite is not None:
            squeeze, excite = self.squeeze_excite.squeeze, self.squeeze_excite.excite
            squeeze.kernel.assign(squeeze.kernel.numpy()[order])
            excite.kernel.assign(excite.kernel.numpy()[:, order])
            excite.bias.assign(excite.bias.numpy()[order])
        self.project.kernel.assign(self.project.kernel.numpy()[:, :, order])

    def sub_block_weights(self, kernel_size: int, expand: int) -> dict:
        """The weights of the sub-block, keyed by `layers.InvertedResidual` sublayer name."""
        n = self.channels * expand
        kernel = self.kernels()[self.kernel_choices.index(kernel_size)]
        weights = {
            "expand": [self.expand.kernel.numpy()[..., :n]],
            "expand_norm": [v.numpy()[:n] for v in self.expand_norm.weights],
            "depthwise": [ops.convert_to_numpy(kernel)[:, :, :n]],
            "depthwise_norm": [v.numpy()[:n] for v in self.depthwise_norm.weights],
            "project": [self.project.kernel.numpy()[:, :, :n]],
            "project_norm": [v.numpy() for v in self.project_norm.weights],
        }
        if self.squeeze_excite is not None:
            squeeze, excite = self.squeeze_excite.squeeze, self.squeeze_excite.excite
            weights["squeeze_excite"] = [
                squeeze.kernel.numpy()[:n],
                squeeze.bias.numpy(),
                excite.kernel.numpy()[:, :n],
                excite.bias.numpy()[:n],
            ]
        return weights

    def compute_output_shape(self, input_shape):
        size = [None if s is None else -(-s // self.strides) for s in input_shape[1:3]]
        return (input_shape[0], *size, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "strides": self.strides,
            "kernel_choices": self.kernel_choices,
            "expand_choices": self.expand_choices,
            "se_ratio": self.se_ratio,
            "activation": keras.activations.serialize(self.activation),
            "norm_momentum": self.norm_momentum,
        }
