"""`RunningMeanStd`: running observation statistics, as a layer that exports with the policy."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from layers.validation import check_positive_float, check_positive_ints


@keras.saving.register_keras_serializable(package="keras_zoo")
class RunningMeanStd(keras.layers.Layer):
    """Normalises inputs with running mean and variance, clipped to `[-clip, clip]`.

    The statistics are non-trainable weights updated outside the graph from NumPy batches with
    `update(batch)` (Chan et al.'s parallel merge of mean and variance), so they are saved with
    checkpoints and travel inside an exported policy. Calling the layer only normalises.

    Args:
        shape: the shape of one observation (without the batch axis).
        epsilon: added to the variance before the square root, and the initial count.
            Defaults to `1e-8`.
        clip: normalised values are clipped to `[-clip, clip]`. Defaults to `10.0`.

    Example:

    ```python
    norm = RunningMeanStd((3,))
    norm.update(np.random.randn(64, 3) * 5 + 2)
    normalised = norm(np.ones((1, 3), "float32"))
    ```

    Reference: Chan, Golub and LeVeque, "Updating formulae and a pairwise algorithm for
    computing sample variances" (1979).
    """

    def __init__(self, shape, epsilon: float = 1e-8, clip: float = 10.0, **kwargs):
        super().__init__(**kwargs)
        shape = tuple(shape)
        if shape:  # `()` normalises scalars
            shape = tuple(int(s) for s in check_positive_ints("shape", shape, allow_numpy=True))
        self.shape = shape
        self.epsilon = check_positive_float("epsilon", epsilon, allow_numpy=True)
        self.clip = check_positive_float("clip", clip, allow_numpy=True)
        # Statistics stay float32 whatever the dtype policy: they accumulate over many batches.
        self.mean = self.add_weight(
            shape, initializer="zeros", trainable=False, name="mean", dtype="float32"
        )
        self.var = self.add_weight(
            shape, initializer="ones", trainable=False, name="var", dtype="float32"
        )
        self.count = self.add_weight(
            (),
            initializer=keras.initializers.Constant(self.epsilon),
            trainable=False,
            name="count",
            dtype="float32",
        )

    def update(self, batch) -> None:
        """Merges the statistics of `batch` (shape `(n,) + shape`) into the running ones."""
        batch = np.asarray(batch, dtype=np.float64).reshape((-1,) + self.shape)
        batch_mean, batch_var, batch_count = batch.mean(0), batch.var(0), batch.shape[0]
        mean = np.asarray(self.mean, np.float64)
        var = np.asarray(self.var, np.float64)
        count = float(self.count)
        delta = batch_mean - mean
        total = count + batch_count
        new_mean = mean + delta * batch_count / total
        m2 = var * count + batch_var * batch_count + delta**2 * count * batch_count / total
        self.mean.assign(new_mean.astype("float32"))
        self.var.assign((m2 / total).astype("float32"))
        self.count.assign(np.float32(total))

    def call(self, inputs):
        mean = ops.cast(self.mean, inputs.dtype)
        std = ops.cast(ops.sqrt(self.var + self.epsilon), inputs.dtype)
        return ops.clip((inputs - mean) / std, -self.clip, self.clip)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"shape": list(self.shape), "epsilon": self.epsilon, "clip": self.clip})
        return config
