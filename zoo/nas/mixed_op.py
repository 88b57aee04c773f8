"""`MixedOp`: the continuous relaxation of one cell edge (Liu et al. 2019, eq. 2)."""

from __future__ import annotations

import keras

from layers.validation import check_positive_int
from zoo.nas.ops import check_op_name, check_stride, make_op


@keras.saving.register_keras_serializable(package="keras_zoo")
class MixedOp(keras.layers.Layer):
    """One edge of a DARTS cell: every candidate operation, mixed by architecture weights.

    `op(x, weights)` is `sum_i weights[i] * op.ops[i](x)`; with softmax weights it is the
    paper's eq. 2, with a one-hot vector it is exactly one operation's output (a zero weight
    contributes an exact zero). The weights come from outside (the search model's softmax of
    its architecture parameters), so one set of parameters drives every edge of its kind.

    Args:
        op_names: names of the candidate operations, from `zoo.nas.ops.OP_NAMES`; `ops[i]` is
            the layer of `op_names[i]`.
        channels: channels of the edge's input and output.
        stride: 1, or 2 on the edges that leave a reduction cell's inputs. Defaults to `1`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Example:

    ```python
    op = MixedOp(["skip_connect", "sep_conv_3x3"], channels=16)
    y = op(x, keras.ops.softmax(alpha))  # alpha: (2,)
    ```

    Reference:
        Liu, Simonyan and Yang, "DARTS: Differentiable Architecture Search", ICLR 2019.
    """

    def __init__(self, op_names, channels: int, stride: int = 1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(op_names, str) or not list(op_names):
            raise ValueError(
                f"`op_names` must be a non-empty list of operation names. "
                f"Received: op_names={op_names!r}"
            )
        self.op_names = [check_op_name(name) for name in op_names]
        if len(set(self.op_names)) != len(self.op_names):
            raise ValueError(f"`op_names` repeats a name. Received: op_names={op_names!r}")
        self.channels = check_positive_int("channels", channels)
        self.stride = check_stride(stride)
        self.ops = [
            make_op(name, channels, stride, name=name, dtype=self.dtype_policy)
            for name in self.op_names
        ]

    def build(self, x_shape, weights_shape=None):
        for op in self.ops:
            if not op.built:
                op.build(tuple(x_shape))

    def call(self, x, weights, training=None):
        weights = keras.ops.cast(weights, x.dtype)
        total = None
        for i, op in enumerate(self.ops):
            term = weights[i] * _call(op, x, training)
            total = term if total is None else total + term
        return total

    def compute_output_shape(self, x_shape, weights_shape=None):
        return self.ops[-1].compute_output_shape(tuple(x_shape))

    def get_config(self):
        return {
            **super().get_config(),
            "op_names": list(self.op_names),
            "channels": self.channels,
            "stride": self.stride,
        }


def _call(layer, x, training):
    """Calls `layer`, passing `training` only to the layers that take it."""
    if isinstance(layer, keras.layers.Layer) and "training" in layer._call_signature.parameters:
        return layer(x, training=training)
    return layer(x)
