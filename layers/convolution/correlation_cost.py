"""FlowNet's correlation layer, written with `keras.ops` (no custom op)."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_choice, check_non_negative_int, check_positive_int


def _is_shape_or_tensor(value) -> bool:
    """A shape (tuple, list, `TensorShape`) or a tensor-like with a `shape`; not a number."""
    return isinstance(value, list | tuple) or hasattr(value, "shape") or hasattr(value, "rank")


@keras.saving.register_keras_serializable(package="keras_zoo")
class CorrelationCost(keras.layers.Layer):
    """Correlates patches of two feature maps over a grid of displacements (FlowNetC).

    TensorFlow Addons' `CorrelationCost`, without its custom CUDA/C++ op: for each output
    position (a patch centre every `stride_1` pixels) and each
    displacement `(dy, dx)` on the grid `{-r, ..., r} * stride_2` with
    `r = max_displacement // stride_2`, the output is the mean over the `kernel_size`²
    patch and the channels of `a[p] * b[p + (dy, dx)]`. Output channel `(dy + r) * (2r + 1) +
    (dx + r)` holds displacement `(dy, dx)` (rows, then columns), so there are `(2r + 1)²`
    channels; the output is `(batch, out_h, out_w, (2r + 1)²)` channels-last, with
    `out_h = ceil((height + 2 * pad - 2 * border) / stride_1)` (likewise `out_w`) and
    `border = max_displacement + (kernel_size - 1) // 2`.

    The numbers are those of TFA's CPU kernel, which centres output row `i` on input row
    `(i - pad) * stride_1 + border` (zeros outside the input): with `stride_1 > 1` the padding
    counts in strides, not pixels. TFA's `compute_output_shape` has an operator-precedence slip
    (`h + 2 * (pad - border) // stride_1`); this layer reports the shape it returns.

    Args:
        kernel_size: patch size (odd). FlowNetC uses 1.
        max_displacement: largest displacement, in pixels.
        stride_1: stride between patch centres in `a`.
        stride_2: stride between displacements.
        pad: zero padding on each side of both inputs.
        data_format: `"channels_last"` or `"channels_first"` (inputs and output).
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    a, b = keras.random.normal((2, 24, 32, 16)), keras.random.normal((2, 24, 32, 16))
    layer = CorrelationCost(1, 4, 1, 2, 4, "channels_last")
    cost = layer([a, b])  # (2, 24, 32, 25)
    ```

    Reference:
        Dosovitskiy et al., "FlowNet: Learning Optical Flow with Convolutional Networks",
        ICCV 2015. https://arxiv.org/abs/1504.06852
    """

    def __init__(
        self,
        kernel_size: int,
        max_displacement: int,
        stride_1: int,
        stride_2: int,
        pad: int,
        data_format: str,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        if kernel_size % 2 == 0:
            raise ValueError(f"`kernel_size` must be odd. Received: kernel_size={kernel_size}")
        self.max_displacement = check_non_negative_int("max_displacement", max_displacement)
        self.stride_1 = check_positive_int("stride_1", stride_1)
        self.stride_2 = check_positive_int("stride_2", stride_2)
        self.pad = check_non_negative_int("pad", pad)
        self.data_format = check_choice(
            "data_format", data_format, ("channels_last", "channels_first")
        )

    @property
    def _radius(self) -> int:
        return self.max_displacement // self.stride_2

    @property
    def _border(self) -> int:
        return self.max_displacement + (self.kernel_size - 1) // 2

    def _spatial(self, shape):
        return (shape[1], shape[2]) if self.data_format == "channels_last" else (shape[2], shape[3])

    def _output_hw(self, height, width):
        def size(n):
            if n is None:
                return None
            span = n + 2 * self.pad - 2 * self._border
            return -(-span // self.stride_1)

        return size(height), size(width)

    def _check(self, shapes):
        pair = isinstance(shapes, list | tuple) and len(shapes) == 2
        if not pair or not all(_is_shape_or_tensor(s) for s in shapes):
            raise ValueError(
                f"`CorrelationCost` takes a list of two tensors `[a, b]`. Received: {shapes!r}"
            )
        a, b = (tuple(s.shape) if hasattr(s, "shape") else tuple(s) for s in shapes)
        if len(a) != 4 or a[1:] != b[1:]:
            raise ValueError(
                f"`CorrelationCost` needs two 4-D inputs of the same shape. Received: {a} and {b}"
            )
        if any(d is None for d in a[1:]):
            raise ValueError(f"The height, width and channels must be known. Received: {a}")
        out_h, out_w = self._output_hw(*self._spatial(a))
        if out_h < 1 or out_w < 1:
            raise ValueError(
                f"The inputs ({a}) are too small for max_displacement={self.max_displacement}, "
                f"kernel_size={self.kernel_size} and pad={self.pad}."
            )

    def build(self, input_shape):
        self._check(input_shape)

    def call(self, inputs):
        self._check(inputs)
        a, b = inputs
        if self.data_format == "channels_first":
            a, b = ops.transpose(a, (0, 2, 3, 1)), ops.transpose(b, (0, 2, 3, 1))
        md, k, s1, s2 = self.max_displacement, self.kernel_size, self.stride_1, self.stride_2
        height, width = a.shape[1], a.shape[2]
        out_h, out_w = self._output_hw(height, width)
        # TFA's CPU kernel places patch centre `i` at `(i - pad) * stride_1 + border` of the
        # unpadded input (zeros outside): the padding is in units of `stride_1`.
        before = self.pad * s1
        span_h, span_w = (out_h - 1) * s1 + k, (out_w - 1) * s1 + k
        after_h = max(0, span_h + 2 * md - before - height)
        after_w = max(0, span_w + 2 * md - before - width)
        padding = [[0, 0], [before, after_h], [before, after_w], [0, 0]]
        a, b = ops.pad(a, padding), ops.pad(b, padding)
        a_region = a[:, md : md + span_h, md : md + span_w, :]
        costs = []
        for dy in range(-self._radius, self._radius + 1):
            for dx in range(-self._radius, self._radius + 1):
                oy, ox = md + dy * s2, md + dx * s2
                b_region = b[:, oy : oy + span_h, ox : ox + span_w, :]
                product = ops.mean(a_region * b_region, axis=-1, keepdims=True)
                costs.append(ops.average_pool(product, k, strides=s1, padding="valid"))
        output = ops.concatenate(costs, axis=-1)
        if self.data_format == "channels_first":
            output = ops.transpose(output, (0, 3, 1, 2))
        return output

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        shape = input_shape[0]
        out_h, out_w = self._output_hw(*self._spatial(shape))
        channels = (2 * self._radius + 1) ** 2
        if self.data_format == "channels_first":
            return (shape[0], channels, out_h, out_w)
        return (shape[0], out_h, out_w, channels)

    def get_config(self):
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "max_displacement": self.max_displacement,
            "stride_1": self.stride_1,
            "stride_2": self.stride_2,
            "pad": self.pad,
            "data_format": self.data_format,
        }
