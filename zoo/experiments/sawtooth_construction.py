"""Telgarsky's construction: a ReLU network of depth k and width 2 that computes the sawtooth.

On [0, 1] the tent map is `2 relu(x) - 4 relu(x - 1/2)`, so each hidden layer of two ReLU units
(biases 0 and -1/2) applies one more tent map to the previous layer's tent; k such layers give
the sawtooth's 2^k pieces exactly with `mlp_parameter_count(k, 2)` parameters, while one hidden
layer needs 2^k - 1 units (a width-w layer draws at most w + 1 pieces).
"""

from __future__ import annotations

import keras
import numpy as np

from layers.validation import check_positive_int


def constructed_sawtooth_network(k: int) -> keras.Sequential:
    """The depth-`k`, width-2 ReLU network that equals `sawtooth(x, k)` on [0, 1].

    Args:
        k: tent-map compositions (hidden layers).

    Returns:
        A `keras.Sequential` from `(batch, 1)` to `(batch, 1)` with the weights set.

    Example:

    ```python
    net = constructed_sawtooth_network(3)
    net.predict(np.array([[0.0625]]))  # [[0.5]] = sawtooth(0.0625, 3)
    ```
    """
    check_positive_int("k", k)
    model = keras.Sequential(
        [keras.Input((1,))]
        + [keras.layers.Dense(2, activation="relu", name=f"tent_{i}") for i in range(k)]
        + [keras.layers.Dense(1, name="output")],
        name=f"telgarsky_sawtooth_{k}",
    )
    bias = np.array([0.0, -0.5])
    tent_out = np.array([[2.0], [-4.0]])
    model.get_layer("tent_0").set_weights([np.array([[1.0, 1.0]]), bias])
    for i in range(1, k):
        model.get_layer(f"tent_{i}").set_weights([np.tile(tent_out, (1, 2)), bias])
    model.get_layer("output").set_weights([tent_out, np.zeros(1)])
    return model
