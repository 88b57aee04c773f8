"""Adaptive average and max pooling with TensorFlow Addons' semantics (equal bins).

Keras 3 has layers of the same names, but `keras.layers.AdaptiveMaxPooling1D/2D/3D` (3.15)
kills the process with a floating point exception when an output size is 1 (TFA's usual
global-pooling use), so these layers are what `tfa.layers` maps to.
"""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_choice


def _check_output_size(output_size, rank: int) -> tuple[int, ...]:
    sizes = (output_size,) * rank if isinstance(output_size, int) else output_size
    ok = isinstance(sizes, list | tuple) and len(sizes) == rank
    if not ok or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes):
        raise ValueError(
            f"`output_size` must be a positive integer or {rank} of them. "
            f"Received: output_size={output_size!r}"
        )
    return tuple(sizes)


class _AdaptivePooling(keras.layers.Layer):
    """Cuts each spatial axis into `output_size` equal bins and reduces each bin."""

    rank = 0
    reduce = None

    def __init__(self, output_size, data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.output_size = _check_output_size(output_size, self.rank)
        data_format = data_format or keras.config.image_data_format()
        self.data_format = check_choice(
            "data_format", data_format, ("channels_last", "channels_first")
        )

    def _spatial_axes(self):
        first = 1 if self.data_format == "channels_last" else 2
        return list(range(first, first + self.rank))

    def build(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"`{type(self).__name__}` takes {self.rank + 2}-D inputs. "
                f"Received: shape={input_shape}"
            )
        for axis, bins in zip(self._spatial_axes(), self.output_size, strict=True):
            size = input_shape[axis]
            if size is None or size % bins:
                raise ValueError(
                    f"Each spatial size must be known and divisible by its `output_size` (TFA "
                    f"splits into equal bins): axis {axis} has size {size}. "
                    f"Received: output_size={self.output_size}"
                )

    def call(self, inputs):
        shape = list(inputs.shape)
        shape[0] = ops.shape(inputs)[0]
        split, reduce_axes = [], []
        for axis, size in enumerate(shape):
            if axis in self._spatial_axes():
                bins = self.output_size[self._spatial_axes().index(axis)]
                split += [bins, size // bins]
                reduce_axes.append(len(split) - 1)
            else:
                split.append(size)
        reduce = ops.mean if type(self).reduce == "mean" else ops.max
        return reduce(ops.reshape(inputs, split), axis=tuple(reduce_axes))

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, bins in zip(self._spatial_axes(), self.output_size, strict=True):
            shape[axis] = bins
        return tuple(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "output_size": self.output_size,
            "data_format": self.data_format,
        }


_DOC = """{kind} pooling of {rank}-D signals into `output_size` equal bins per axis.

    TensorFlow Addons' `{name}`: each spatial axis is cut into `output_size` equal parts (its
    size must be divisible, as TFA's `tf.split` requires) and each part is {verb}.

    Args:
        output_size: an int or {rank} ints, the number of bins per spatial axis.
        data_format: `"channels_last"` or `"channels_first"`; `None` uses Keras's setting.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:

    ```python
    y = {name}({example})(keras.random.normal({shape}))
    ```
    """


def _make(name: str, rank: int, reduce: str, example: str, shape: str):
    doc = _DOC.format(
        kind="Average" if reduce == "mean" else "Max",
        rank=rank,
        name=name,
        verb="averaged" if reduce == "mean" else "reduced to its maximum",
        example=example,
        shape=shape,
    )
    cls = type(name, (_AdaptivePooling,), {"rank": rank, "reduce": reduce, "__doc__": doc})
    cls.__module__ = __name__
    cls.__qualname__ = name
    return keras.saving.register_keras_serializable(package="keras_zoo")(cls)


AdaptiveAveragePooling1D = _make("AdaptiveAveragePooling1D", 1, "mean", "4", "(2, 12, 3)")
AdaptiveMaxPooling1D = _make("AdaptiveMaxPooling1D", 1, "max", "4", "(2, 12, 3)")
AdaptiveAveragePooling2D = _make("AdaptiveAveragePooling2D", 2, "mean", "(2, 3)", "(2, 8, 9, 3)")
AdaptiveMaxPooling2D = _make("AdaptiveMaxPooling2D", 2, "max", "(2, 3)", "(2, 8, 9, 3)")
AdaptiveAveragePooling3D = _make(
    "AdaptiveAveragePooling3D", 3, "mean", "(1, 2, 2)", "(2, 4, 6, 6, 3)"
)
AdaptiveMaxPooling3D = _make("AdaptiveMaxPooling3D", 3, "max", "(1, 2, 2)", "(2, 4, 6, 6, 3)")
