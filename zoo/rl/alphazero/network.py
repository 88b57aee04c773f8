"""`PolicyValueNetwork`: AlphaZero's residual convolutional network with a policy head
(logits over the game's actions) and a value head (tanh, the expected result for the player to
move)."""

from __future__ import annotations

import keras

from layers.validation import check_non_negative_float, check_positive_int, check_positive_ints
from zoo.models.backbone import Backbone


@keras.saving.register_keras_serializable(package="keras_zoo")
class PolicyValueNetwork(Backbone):
    """A small AlphaZero network: a conv stem, `blocks` residual blocks, two heads.

    Each residual block is conv 3x3 - batch norm - ReLU - conv 3x3 - batch norm, plus the skip
    connection and a ReLU. The policy head is conv 1x1 (2 filters) - BN - ReLU - dense to the
    action logits; the value head is conv 1x1 (1 filter) - BN - ReLU - dense `value_units` -
    ReLU - dense 1 - tanh. Every kernel carries L2 regularisation `l2`.

    Args:
        board_shape: the encoded board `(rows, cols, planes)`.
        action_size: number of actions (policy logits).
        filters: convolution width. Defaults to `32`.
        blocks: residual blocks. Defaults to `2`.
        value_units: hidden units of the value head. Defaults to `32`.
        l2: L2 weight on every kernel. Defaults to `1e-4`.

    Returns (when called): `{"policy_logits": (batch, action_size), "value": (batch, 1)}`.

    Reference: Silver et al., "Mastering the game of Go without human knowledge", Nature 550
    (2017), methods (neural network architecture), used unchanged by AlphaZero (2018).

    Example:

    ```python
    network = PolicyValueNetwork(board_shape=(6, 7, 2), action_size=7)
    outputs = network(np.zeros((1, 6, 7, 2), "float32"))
    outputs["policy_logits"].shape, outputs["value"].shape  # (1, 7), (1, 1)
    ```
    """

    def __init__(
        self,
        board_shape,
        action_size: int,
        filters: int = 32,
        blocks: int = 2,
        value_units: int = 32,
        l2: float = 1e-4,
        **kwargs,
    ):
        board_shape = check_positive_ints("board_shape", tuple(board_shape))
        if len(board_shape) != 3:
            raise ValueError(
                f"`board_shape` must be (rows, cols, planes). Received: board_shape={board_shape}"
            )
        check_positive_int("action_size", action_size)
        check_positive_int("filters", filters)
        check_positive_int("blocks", blocks)
        check_positive_int("value_units", value_units)
        check_non_negative_float("l2", l2)
        dtype = self.dtype_policy_from(kwargs)
        regularizer = keras.regularizers.L2(l2) if l2 else None

        def conv(x, width, kernel, name):
            x = keras.layers.Conv2D(
                width,
                kernel,
                padding="same",
                use_bias=False,
                kernel_regularizer=regularizer,
                dtype=dtype,
                name=f"{name}_conv",
            )(x)
            return keras.layers.BatchNormalization(dtype=dtype, name=f"{name}_bn")(x)

        def dense(x, units, name, activation=None):
            return keras.layers.Dense(
                units, activation=activation, kernel_regularizer=regularizer, dtype=dtype, name=name
            )(x)

        inputs = keras.Input(board_shape, name="board")
        x = keras.layers.ReLU(dtype=dtype)(conv(inputs, filters, 3, "stem"))
        for i in range(blocks):
            y = keras.layers.ReLU(dtype=dtype)(conv(x, filters, 3, f"block{i}_a"))
            y = conv(y, filters, 3, f"block{i}_b")
            x = keras.layers.ReLU(dtype=dtype)(keras.layers.Add(dtype=dtype)([x, y]))
        p = keras.layers.ReLU(dtype=dtype)(conv(x, 2, 1, "policy"))
        p = dense(keras.layers.Flatten(dtype=dtype)(p), action_size, "policy_logits")
        v = keras.layers.ReLU(dtype=dtype)(conv(x, 1, 1, "value"))
        v = dense(keras.layers.Flatten(dtype=dtype)(v), value_units, "value_hidden", "relu")
        v = dense(v, 1, "value", "tanh")
        super().__init__(
            inputs=inputs, outputs={"policy_logits": p, "value": v}, dtype=dtype, **kwargs
        )
