"""FedProx's proximal term as a loss term added to a Keras model's training loss."""

from __future__ import annotations

import keras
import numpy as np

from layers.callbacks.loss_terms import LossTermCallback
from layers.validation import check_non_negative_float


@keras.saving.register_keras_serializable(package="keras_zoo")
class ProximalTerm(LossTermCallback):
    """Adds FedProx's `mu / 2 * ||w - w_global||^2` to the training loss during `fit`.

    Li et al. 2020, "Federated Optimization in Heterogeneous Networks" (arXiv:1812.06127).
    Flower's `FedProx` strategy only sends `proximal_mu` in the fit config; the client adds
    this term, which keeps local training close to the round's global weights `w_global`
    (the trainable weights when `fit` begins). The sum runs over all trainable weights.
    `mu=0` is plain FedAvg local training.

    Args:
        mu: the proximal coefficient, >= 0.

    Example:

    ```python
    model.fit(x, y, epochs=1, callbacks=[ProximalTerm(mu=0.1)])
    ```
    """

    def __init__(self, mu: float):
        super().__init__()
        self.mu = check_non_negative_float("mu", mu, allow_numpy=True)
        self._anchors = None

    def on_train_begin(self, logs=None):
        self._anchors = [
            keras.ops.convert_to_tensor(np.asarray(keras.ops.convert_to_numpy(w)))
            for w in self.model.trainable_weights
        ]
        if self.mu > 0:
            self.add_loss_term()

    def on_train_end(self, logs=None):
        self.remove_loss_term()

    def loss_term(self, model, x, y, y_pred, sample_weight):
        squares = [
            keras.ops.sum(keras.ops.square(keras.ops.cast(w, "float32") - a))
            for w, a in zip(model.trainable_weights, self._anchors, strict=True)
        ]
        return 0.5 * self.mu * keras.ops.sum(keras.ops.stack(squares))

    def get_config(self):
        return {"mu": self.mu}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
