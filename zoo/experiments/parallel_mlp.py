"""Many small independent MLPs trained as one Keras model (one `fit` for a whole sweep).

Training hundreds of tiny networks one `fit` at a time spends nearly all of its time in
per-step overhead. `ParallelDense` holds `members` independent dense layers as one batched
kernel; a stack of them is `members` independent MLPs that see the same inputs. Their losses
add, no parameter is shared, and Adam's update is per parameter, so each member trains as it
would alone (the mean over members only rescales the gradient, which Adam ignores).
"""

from __future__ import annotations

import keras
import numpy as np

from layers.validation import check_positive_int


@keras.saving.register_keras_serializable(package="keras_zoo")
class ParallelDense(keras.layers.Layer):
    """`members` independent `Dense` layers applied side by side.

    Input `(batch, features)` (the same input for every member) or `(batch, members,
    features)`; output `(batch, members, units)`.

    Args:
        members: independent layers (>= 1).
        units: outputs of each.
        activation: activation name or callable. Defaults to None (linear).
        kernel_initializer: Defaults to `"he_uniform"`.
        bias_initializer: Defaults to `"zeros"`.

    Example:

    ```python
    x = keras.Input((1,))
    h = ParallelDense(members=8, units=16, activation="relu")(x)  # (batch, 8, 16)
    y = ParallelDense(members=8, units=1)(h)  # 8 independent one-hidden-layer MLPs
    ```
    """

    def __init__(
        self,
        members: int,
        units: int,
        activation=None,
        kernel_initializer="he_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.members = check_positive_int("members", members)
        self.units = check_positive_int("units", units)
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        if len(input_shape) == 3 and input_shape[1] != self.members:
            raise ValueError(
                f"The input's member axis must have {self.members} entries. "
                f"Received: input_shape={input_shape}"
            )
        if len(input_shape) not in (2, 3):
            raise ValueError(
                f"ParallelDense expects (batch, features) or (batch, members, features) inputs. "
                f"Received: input_shape={input_shape}"
            )
        features = input_shape[-1]
        self.shared_input = len(input_shape) == 2
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.members, features, self.units),
            initializer=self._per_member(self.kernel_initializer),
        )
        self.bias = self.add_weight(
            name="bias", shape=(self.members, self.units), initializer=self.bias_initializer
        )

    def _per_member(self, initializer):
        """Initialises each member's kernel with its own fan-in and fan-out and its own draw.

        An unseeded Keras initializer repeats its values when called again, so each member gets
        a copy seeded from NumPy's generator (which `keras.utils.set_random_seed` seeds).
        """
        config = initializer.get_config()

        def initialize(shape, dtype=None):
            parts = []
            for _ in range(shape[0]):
                member = initializer
                if "seed" in config:
                    seeded = {**config, "seed": int(np.random.randint(2**31 - 1))}
                    member = initializer.__class__.from_config(seeded)
                parts.append(member(shape[1:], dtype=dtype))
            return keras.ops.stack(parts)

        return initialize

    def call(self, inputs):
        equation = "bi,mio->bmo" if self.shared_input else "bmi,mio->bmo"
        outputs = keras.ops.einsum(equation, inputs, self.kernel) + self.bias
        return outputs if self.activation is None else self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.members, self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "members": self.members,
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }
