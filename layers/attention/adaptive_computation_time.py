"""Adaptive Computation Time: a step layer repeated until a learned halting unit says stop."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_zoo")
class AdaptiveComputationTime(keras.layers.Layer):
    """Applies a step layer repeatedly, with a learned per-position number of steps (ACT).

    Starting from `s_0 = inputs`, step `n` computes `s_n = layer(s_{n-1})` and a halting
    probability `h_n = sigmoid(w . s_n + b)` for every position (every vector along the last
    axis, as in the Universal Transformer). A position halts at the first step `N` where
    `h_1 + ... + h_N >= 1 - epsilon`, or at `max_steps`; its remainder is
    `R = 1 - (h_1 + ... + h_{N-1})`. The output is the mean-field state
    `h_1 s_1 + ... + h_{N-1} s_{N-1} + R s_N` (Graves 2016, eq. 6-11). Once a position halts its
    state is copied forward unchanged, so later steps of a transformer block still attend to it
    (Dehghani et al. 2019); the loop stops as soon as every position has halted.

    The ponder cost `time_penalty * mean(N + R)` over all positions is added with `add_loss`;
    its gradient flows through `R` and pushes towards fewer steps.

    Args:
        layer: the step layer, a `keras.layers.Layer` mapping a tensor to one of the same
            shape (e.g. a `TransformerEncoderBlock`), or its serialized config. Its weights are
            shared across steps.
        max_steps: the most steps any position takes. Defaults to `8`.
        epsilon: halting threshold slack, so a position can halt after one step. Defaults to
            `0.01`.
        time_penalty: weight of the ponder cost (`tau` in the paper). Defaults to `0.01`.
        halting_bias: initial bias of the halting unit; positive values start with short
            ponder times. Defaults to `1.0` (the Universal Transformer's choice).
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Call arguments:
        inputs: a tensor shaped `(batch, ..., features)`.
        training: passed to the step layer.
        return_ponder: also return a dict with the per-position `"steps"` (`N`) and
            `"remainders"` (`R`), float32 tensors shaped like `inputs` without the last axis.
            Defaults to `False`.
        **layer_kwargs: passed to the step layer at every step (e.g. `padding_mask`).

    Example:

    ```python
    block = TransformerEncoderBlock(num_heads=4, intermediate_dim=256)
    universal = AdaptiveComputationTime(block, max_steps=6, time_penalty=0.01)
    y = universal(x)  # x: (batch, length, 64); the ponder cost is in universal.losses
    ```

    References:
        Graves, "Adaptive Computation Time for Recurrent Neural Networks", 2016,
        arXiv:1603.08983, section 2.
        Dehghani et al., "Universal Transformers", ICLR 2019, section 2.2.
    """

    def __init__(
        self,
        layer: keras.layers.Layer,
        max_steps: int = 8,
        epsilon: float = 0.01,
        time_penalty: float = 0.01,
        halting_bias: float = 1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(layer, dict):
            layer = keras.saving.deserialize_keras_object(layer)
        if not isinstance(layer, keras.layers.Layer):
            raise TypeError(f"`layer` must be a keras.layers.Layer. Received: layer={layer!r}")
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps <= 0:
            raise ValueError(
                f"`max_steps` must be a positive integer. Received: max_steps={max_steps!r}"
            )
        if isinstance(epsilon, bool) or not isinstance(epsilon, int | float) or not 0 < epsilon < 1:
            raise ValueError(f"`epsilon` must be in (0, 1). Received: epsilon={epsilon!r}")
        if (
            isinstance(time_penalty, bool)
            or not isinstance(time_penalty, int | float)
            or time_penalty < 0
        ):
            raise ValueError(
                "`time_penalty` must be a non-negative number. "
                f"Received: time_penalty={time_penalty!r}"
            )
        self.layer = layer
        self.max_steps = max_steps
        self.epsilon = epsilon
        self.time_penalty = time_penalty
        if isinstance(halting_bias, bool) or not isinstance(halting_bias, int | float):
            raise TypeError(
                f"`halting_bias` must be a number. Received: halting_bias={halting_bias!r}"
            )
        self.halting_bias = halting_bias
        self.halting = keras.layers.Dense(
            1,
            activation="sigmoid",
            bias_initializer=keras.initializers.Constant(float(halting_bias)),
            dtype=self.dtype_policy,
            name="halting",
        )

    def build(self, input_shape):
        # Weights must exist before the loop: variables cannot be created inside it.
        if not self.layer.built:
            self.layer.build(input_shape)
        self.halting.build(input_shape)

    def call(self, inputs, training=None, return_ponder=False, **layer_kwargs):
        state = ops.cast(inputs, self.compute_dtype)
        per_position = ops.zeros(ops.shape(inputs)[:-1], "float32")
        threshold = 1.0 - self.epsilon

        def body(step, state, running, cumulative, steps, remainders, output):
            stepped = ops.cast(self.layer(state, training=training, **layer_kwargs), state.dtype)
            state = ops.where(running[..., None], stepped, state)
            halt = ops.cast(ops.squeeze(self.halting(state), -1), "float32")
            at_limit = step + 1 >= self.max_steps
            halts_now = ops.logical_and(
                running, ops.logical_or(cumulative + halt >= threshold, at_limit)
            )
            continues = ops.logical_and(running, ops.logical_not(halts_now))
            weight = ops.where(halts_now, 1.0 - cumulative, ops.where(continues, halt, 0.0))
            output = output + weight[..., None] * ops.cast(state, "float32")
            remainders = ops.where(halts_now, 1.0 - cumulative, remainders)
            steps = steps + ops.cast(running, "float32")
            cumulative = cumulative + ops.where(continues, halt, 0.0)
            return step + 1, state, continues, cumulative, steps, remainders, output

        def cond(step, state, running, *rest):
            return ops.any(running)

        loop_vars = (
            ops.convert_to_tensor(0, "int32"),
            state,
            ops.ones_like(per_position, "bool"),
            per_position,
            per_position,
            per_position,
            ops.zeros_like(state, "float32"),
        )
        *_, steps, remainders, output = ops.while_loop(
            cond, body, loop_vars, maximum_iterations=self.max_steps
        )
        self.add_loss(self.time_penalty * ops.mean(steps + remainders))
        output = ops.cast(output, self.compute_dtype)
        if return_ponder:
            return output, {"steps": steps, "remainders": remainders}
        return output

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "layer": keras.saving.serialize_keras_object(self.layer),
            "max_steps": self.max_steps,
            "epsilon": self.epsilon,
            "time_penalty": self.time_penalty,
            "halting_bias": self.halting_bias,
        }
