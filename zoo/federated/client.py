"""`KerasClient`: a Flower client that trains any compiled Keras 3 model on its shard."""

from __future__ import annotations

import keras
import numpy as np
from flwr.client import NumPyClient

from layers.validation import check_positive_int
from zoo.federated.fedprox import ProximalTerm
from zoo.federated.weights import get_weights, set_weights


def scalar_metrics(logs: dict) -> dict[str, float]:
    """Flower metrics (plain floats) from Keras logs (last value of each history list)."""
    metrics = {}
    for name, value in logs.items():
        value = value[-1] if isinstance(value, list) else value
        value = np.asarray(keras.ops.convert_to_numpy(value))
        if value.size == 1:
            metrics[name] = float(value.reshape(()))
    return metrics


class KerasClient(NumPyClient):
    """A Flower `NumPyClient` around a compiled Keras model and one client's data.

    Each round the server's weights replace the model's (shapes checked, see
    `zoo.federated.weights.set_weights`), the model trains `local_epochs` epochs on the
    shard with `fit`, and the new weights go back with the number of examples (FedAvg's
    weight) and the last epoch's metrics. The fit config may set `local_epochs`, `batch_size`
    and `proximal_mu` (sent by Flower's `FedProx`; adds `ProximalTerm(mu)` to the loss).
    The optimizer's state (moments, step count) is reset to its initial values before every
    round, so a round's update depends only on the global weights and the shard.

    McMahan et al. 2017, "Communication-Efficient Learning of Deep Networks from Decentralized
    Data" (FedAvg, arXiv:1602.05629).

    Args:
        model: a compiled Keras model.
        train: the client's training data, `(x, y)` arrays.
        test: the client's evaluation data, `(x, y)`; defaults to `train`.
        local_epochs: epochs of local training per round (overridden by the fit config's
            `local_epochs`). Defaults to `1`.
        batch_size: batch size (overridden by the config's `batch_size`). Defaults to `32`.
        callbacks: more Keras callbacks for local `fit`. Defaults to none.
        verbose: Keras verbosity of local `fit`/`evaluate`. Defaults to `0`.

    Example:

    ```python
    client = KerasClient(zoo.create("mlp_digits"), (x_i, y_i), local_epochs=2)
    flwr.client.start_client(server_address="127.0.0.1:8080", client=client.to_client())
    ```
    """

    def __init__(
        self,
        model: keras.Model,
        train,
        test=None,
        *,
        local_epochs: int = 1,
        batch_size: int = 32,
        callbacks=None,
        verbose: int = 0,
    ):
        if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
            raise ValueError(f"`model` must be compiled. Received: model={model.name!r}")
        self.model = model
        self.train = self._check_data("train", train)
        self.test = self.train if test is None else self._check_data("test", test)
        self.local_epochs = check_positive_int("local_epochs", local_epochs)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.callbacks = list(callbacks or [])
        self.verbose = verbose
        optimizer = model.optimizer
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        self._initial_optimizer_state = [np.array(v.numpy()) for v in optimizer.variables]

    @staticmethod
    def _check_data(name: str, data):
        if not isinstance(data, list | tuple) or len(data) != 2 or len(data[0]) != len(data[1]):
            raise ValueError(
                f"`{name}` must be an (x, y) pair with one label per example. "
                f"Received: {name} of type {type(data).__name__}"
            )
        if len(data[0]) == 0:
            raise ValueError(f"`{name}` has no examples. Received: len({name}[0])=0")
        return tuple(data)

    def get_parameters(self, config):
        """The model's weights as NumPy arrays."""
        return get_weights(self.model)

    def set_parameters(self, parameters) -> None:
        """Sets the model's weights; raises `ValueError` naming a weight whose shape differs."""
        set_weights(self.model, parameters)

    def _reset_optimizer(self) -> None:
        for variable, value in zip(
            self.model.optimizer.variables, self._initial_optimizer_state, strict=True
        ):
            variable.assign(value)

    def fit(self, parameters, config):
        """Trains on the shard from `parameters`; returns `(weights, num_examples, metrics)`."""
        self.set_parameters(parameters)
        self._reset_optimizer()
        callbacks = list(self.callbacks)
        mu = float(config.get("proximal_mu", 0.0))
        if mu > 0:
            callbacks.append(ProximalTerm(mu))
        x, y = self.train
        history = self.model.fit(
            x,
            y,
            epochs=int(config.get("local_epochs", self.local_epochs)),
            batch_size=int(config.get("batch_size", self.batch_size)),
            callbacks=callbacks,
            verbose=self.verbose,
        )
        return get_weights(self.model), len(x), scalar_metrics(history.history)

    def evaluate(self, parameters, config):
        """Evaluates `parameters` on the client's test data: `(loss, num_examples, metrics)`."""
        self.set_parameters(parameters)
        x, y = self.test
        logs = self.model.evaluate(
            x,
            y,
            batch_size=int(config.get("batch_size", self.batch_size)),
            verbose=self.verbose,
            return_dict=True,
        )
        metrics = scalar_metrics(logs)
        return float(metrics.pop("loss")), len(x), metrics
