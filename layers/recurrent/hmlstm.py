"""Hierarchical multiscale LSTM (Chung, Ahn, Bengio 2017)."""

from __future__ import annotations

import keras
from keras import ops

from layers.serialization import serialize
from layers.validation import check_bool, check_positive_float, check_positive_ints


def hmlstm_update(c, h, f, i, o, g, z_below, z_previous):
    """The COPY / UPDATE / FLUSH rule of one HM-LSTM level, written as a blend.

    With `z_previous` (this level's boundary at `t - 1`) and `z_below` (the lower level's
    boundary at `t`):

    - FLUSH (`z_previous = 1`): `c = i * g`, the segment ended, start afresh.
    - UPDATE (`z_previous = 0, z_below = 1`): `c = f * c + i * g`, the LSTM update.
    - COPY (`z_previous = 0, z_below = 0`): `c` and `h` are kept.

    Outside COPY `h = o * tanh(c)`. Blending with the (0/1) boundaries instead of branching
    lets the straight-through gradient reach the boundary detectors.

    Returns:
        `(c_new, h_new)`.
    """
    flush = z_previous
    update = (1.0 - z_previous) * z_below
    copy = (1.0 - z_previous) * (1.0 - z_below)
    c_new = flush * (i * g) + update * (f * c + i * g) + copy * c
    h_new = copy * h + (1.0 - copy) * (o * ops.tanh(c_new))
    return c_new, h_new


def straight_through_boundary(pre_activation, slope):
    """A 0/1 boundary: `round(hard_sigmoid(slope * x))` forward, the hard sigmoid's gradient back.

    The paper's hard sigmoid is `max(0, min(1, (slope * x + 1) / 2))`.
    """
    soft = ops.clip((slope * pre_activation + 1.0) / 2.0, 0.0, 1.0)
    return soft + ops.stop_gradient(ops.round(soft) - soft)


@keras.saving.register_keras_serializable(package="keras_zoo")
class HMLSTMCell(keras.layers.Layer):
    """One time step of a stack of HM-LSTM levels, for `keras.layers.RNN`.

    States are `[c_1, h_1, ..., c_L, h_L, z_1, ..., z_{L-1}]` (the top level has no boundary
    detector). The output is `concat(h_1, ..., h_L, z_1, ..., z_{L-1})`; `HMLSTM` splits it.

    Args:
        units: sequence of positive integers, the state size of each level, bottom first.
        slope: positive float, the initial slope of the boundary hard sigmoid; a non-trainable
            weight (`boundary_slope`) so that it can be annealed during training. Defaults to
            `1.0`.
        kernel_initializer: initializer of the bottom-up and top-down kernels. Defaults to
            `"glorot_uniform"`.
        recurrent_initializer: initializer of the recurrent kernels. Defaults to `"orthogonal"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        **kwargs: base `Layer` arguments.

    Example:

    ```python
    rnn = keras.layers.RNN(HMLSTMCell((16, 16)), return_sequences=True)
    ```

    Reference:
        Chung, Ahn, Bengio, "Hierarchical Multiscale Recurrent Neural Networks", ICLR 2017.
    """

    def __init__(
        self,
        units,
        slope: float = 1.0,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_positive_ints("units", units)
        self.slope = check_positive_float("slope", slope)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self._config_args = {
            "kernel_initializer": serialize(kernel_initializer),
            "recurrent_initializer": serialize(recurrent_initializer),
            "bias_initializer": serialize(bias_initializer),
        }
        levels = len(self.units)
        self.state_size = [size for u in self.units for size in (u, u)] + [1] * (levels - 1)
        self.output_size = sum(self.units) + levels - 1

    def _gate_width(self, level: int) -> int:
        # f, i, o, g for every level, plus one boundary logit below the top.
        return 4 * self.units[level] + (1 if level < len(self.units) - 1 else 0)

    def build(self, input_shape):
        self.bottom_up, self.recurrent, self.top_down, self.biases = [], [], [], []
        below = input_shape[-1]
        for level, units in enumerate(self.units):
            width = self._gate_width(level)
            self.bottom_up.append(
                self.add_weight(
                    name=f"bottom_up_{level}",
                    shape=(below, width),
                    initializer=self.kernel_initializer,
                )
            )
            self.recurrent.append(
                self.add_weight(
                    name=f"recurrent_{level}",
                    shape=(units, width),
                    initializer=self.recurrent_initializer,
                )
            )
            if level < len(self.units) - 1:
                self.top_down.append(
                    self.add_weight(
                        name=f"top_down_{level}",
                        shape=(self.units[level + 1], width),
                        initializer=self.kernel_initializer,
                    )
                )
            self.biases.append(
                self.add_weight(
                    name=f"bias_{level}", shape=(width,), initializer=self.bias_initializer
                )
            )
            below = units
        self.boundary_slope = self.add_weight(
            name="boundary_slope",
            shape=(),
            initializer=keras.initializers.Constant(self.slope),
            trainable=False,
        )

    def call(self, inputs, states, training=False):
        levels = len(self.units)
        cells = list(states[0 : 2 * levels : 2])
        hiddens = list(states[1 : 2 * levels : 2])
        boundaries = list(states[2 * levels :])
        slope = ops.cast(self.boundary_slope, inputs.dtype)

        new_cells, new_hiddens, new_boundaries = [], [], []
        below, z_below = inputs, None
        for level, units in enumerate(self.units):
            top = level == levels - 1
            bottom_up = ops.matmul(below, self.bottom_up[level])
            pre = ops.matmul(hiddens[level], self.recurrent[level]) + self.biases[level]
            pre = pre + (bottom_up if z_below is None else z_below * bottom_up)
            # The top level has no boundary of its own and so never flushes.
            z_previous = ops.zeros_like(cells[level][:, :1]) if top else boundaries[level]
            if not top:
                pre = pre + z_previous * ops.matmul(hiddens[level + 1], self.top_down[level])
            f, i, o, g = (pre[:, k * units : (k + 1) * units] for k in range(4))
            c_new, h_new = hmlstm_update(
                cells[level],
                hiddens[level],
                ops.sigmoid(f),
                ops.sigmoid(i),
                ops.sigmoid(o),
                ops.tanh(g),
                ops.ones_like(z_previous) if z_below is None else z_below,
                z_previous,
            )
            new_cells.append(c_new)
            new_hiddens.append(h_new)
            if not top:
                z_below = straight_through_boundary(pre[:, 4 * units :], slope)
                new_boundaries.append(z_below)
            below = h_new

        output = ops.concatenate(new_hiddens + new_boundaries, axis=-1)
        new_states = [s for pair in zip(new_cells, new_hiddens, strict=True) for s in pair]
        return output, new_states + new_boundaries

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in self.state_size]

    def get_config(self):
        return {
            **super().get_config(),
            "units": list(self.units),
            "slope": self.slope,
            **self._config_args,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class HMLSTM(keras.layers.Layer):
    """Hierarchical multiscale LSTM: levels that learn where segments end and tick slower above.

    Each level but the top has a boundary detector `z` (0 or 1). A level is updated only when
    the level below reports a boundary, copies its state otherwise, and is flushed (reset and
    its summary sent up) after reporting a boundary itself. Boundaries are discrete in the
    forward pass and trained with the straight-through estimator through a hard sigmoid whose
    slope can be annealed (`BoundarySlopeAnnealing`).

    The output is the concatenation of every level's hidden state (the paper's output module
    gates and mixes them; a `Dense` on top learns the same). With `return_boundaries` the layer
    also returns the boundaries of the levels below the top.

    Args:
        units: sequence of positive integers, the state size of each level, bottom first.
            Defaults to `(64, 64)`.
        slope: positive float, initial slope of the boundary hard sigmoid. Defaults to `1.0`.
        return_sequences: return every step or only the last one. Defaults to `False`.
        return_boundaries: also return the boundaries, `(..., len(units) - 1)`. Defaults to
            `False`.
        go_backwards: process the sequence in reverse. Defaults to `False`.
        kernel_initializer: initializer of the bottom-up and top-down kernels. Defaults to
            `"glorot_uniform"`.
        recurrent_initializer: initializer of the recurrent kernels. Defaults to `"orthogonal"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        **kwargs: base `Layer` arguments.

    Example:

    ```python
    x = np.random.rand(4, 30, 8).astype("float32")
    hidden, boundaries = HMLSTM((32, 32, 32), return_sequences=True, return_boundaries=True)(x)
    # hidden: (4, 30, 96), boundaries: (4, 30, 2)
    ```

    Reference:
        Chung, Ahn, Bengio, "Hierarchical Multiscale Recurrent Neural Networks", ICLR 2017.
    """

    def __init__(
        self,
        units=(64, 64),
        slope: float = 1.0,
        return_sequences: bool = False,
        return_boundaries: bool = False,
        go_backwards: bool = False,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        units = check_positive_ints("units", units)
        if len(units) < 2:
            raise ValueError(
                "`units` must name at least two levels (one level is an LSTM). "
                f"Received: units={units!r}"
            )
        self.return_sequences = check_bool("return_sequences", return_sequences)
        self.return_boundaries = check_bool("return_boundaries", return_boundaries)
        self.go_backwards = check_bool("go_backwards", go_backwards)
        self.cell = HMLSTMCell(
            units,
            slope=slope,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            dtype=kwargs.get("dtype"),
            name="hmlstm_cell",
        )
        self.rnn = keras.layers.RNN(
            self.cell,
            return_sequences=return_sequences,
            go_backwards=go_backwards,
            dtype=kwargs.get("dtype"),
            name="rnn",
        )
        self.supports_masking = True

    @property
    def units(self) -> tuple[int, ...]:
        return self.cell.units

    @property
    def boundary_slope(self):
        """The current slope of the boundary hard sigmoid (a non-trainable variable)."""
        return self.cell.boundary_slope

    def build(self, input_shape):
        self.rnn.build(input_shape)

    def call(self, inputs, mask=None, training=False):
        outputs = self.rnn(inputs, mask=mask, training=training)
        hidden = outputs[..., : sum(self.units)]
        if self.return_boundaries:
            return [hidden, outputs[..., sum(self.units) :]]
        return hidden

    def compute_output_shape(self, input_shape):
        prefix = tuple(input_shape[:2]) if self.return_sequences else (input_shape[0],)
        hidden = (*prefix, sum(self.units))
        if self.return_boundaries:
            return [hidden, (*prefix, len(self.units) - 1)]
        return hidden

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        return [output_mask, output_mask] if self.return_boundaries else output_mask

    def get_config(self):
        cell_config = self.cell.get_config()
        return {
            **super().get_config(),
            "units": list(self.units),
            "slope": self.cell.slope,
            "return_sequences": self.return_sequences,
            "return_boundaries": self.return_boundaries,
            "go_backwards": self.go_backwards,
            "kernel_initializer": cell_config["kernel_initializer"],
            "recurrent_initializer": cell_config["recurrent_initializer"],
            "bias_initializer": cell_config["bias_initializer"],
        }


class BoundarySlopeAnnealing(keras.callbacks.Callback):
    """Raises the boundary slope of every `HMLSTM` in the model at the start of each epoch.

    The paper's slope annealing trick: `slope = min(max_slope, initial + rate * epoch)`, which
    makes the hard sigmoid steeper, and the straight-through estimator less biased, as training
    goes on.

    Args:
        rate: non-negative float, slope increase per epoch. Defaults to `0.04`.
        max_slope: positive float, the cap. Defaults to `5.0`.
        initial: positive float, the slope at epoch 0. Defaults to `1.0`.

    Example:

    ```python
    model.fit(x, y, epochs=50, callbacks=[BoundarySlopeAnnealing(rate=0.04, max_slope=5.0)])
    ```
    """

    def __init__(self, rate: float = 0.04, max_slope: float = 5.0, initial: float = 1.0):
        super().__init__()
        if isinstance(rate, bool) or not isinstance(rate, int | float) or rate < 0:
            raise ValueError(f"`rate` must be a non-negative number. Received: rate={rate!r}")
        self.rate = float(rate)
        self.max_slope = check_positive_float("max_slope", max_slope)
        self.initial = check_positive_float("initial", initial)

    def on_epoch_begin(self, epoch, logs=None):
        slope = min(self.max_slope, self.initial + self.rate * epoch)
        for layer in self.model._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, HMLSTM):
                layer.boundary_slope.assign(slope)
