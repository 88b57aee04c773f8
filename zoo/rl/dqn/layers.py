"""Small Keras layers of the DQN heads: dueling aggregation and the C51 expected value."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_zoo")
class DuelingAggregate(keras.layers.Layer):
    """`Q = V + A - mean_a A` from a value stream and an advantage stream.

    Works on plain values (`V: (batch, 1)`, `A: (batch, n_actions)`) and on per-atom logits
    (`V: (batch, 1, n_atoms)`, `A: (batch, n_actions, n_atoms)`); the mean is over actions.

    Example:

    ```python
    DuelingAggregate()([np.array([[1.0]]), np.array([[1.0, 3.0]])])  # [[0.0, 2.0]]
    ```

    Reference: Wang et al., "Dueling Network Architectures for Deep Reinforcement Learning"
    (2016), equation (9).
    """

    def call(self, inputs):
        value, advantage = inputs
        return value + advantage - ops.mean(advantage, axis=1, keepdims=True)

    def compute_output_shape(self, input_shapes):
        return input_shapes[1]


@keras.saving.register_keras_serializable(package="keras_zoo")
class CategoricalExpectation(keras.layers.Layer):
    """Expected value `sum_i softmax(logits)_i z_i` over the last axis of per-atom logits.

    Args:
        support: the atoms `z` (a list of floats).

    Example:

    ```python
    CategoricalExpectation([0.0, 1.0])(np.zeros((1, 2, 2), "float32"))  # [[0.5, 0.5]]
    ```

    Reference: Bellemare et al., "A Distributional Perspective on Reinforcement Learning" (2017).
    """

    def __init__(self, support, **kwargs):
        super().__init__(**kwargs)
        self.support = [float(v) for v in support]

    def call(self, logits):
        support = ops.convert_to_tensor(self.support, logits.dtype)
        return ops.sum(ops.softmax(logits, axis=-1) * support, axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape[:-1]

    def get_config(self) -> dict:
        return {**super().get_config(), "support": self.support}
