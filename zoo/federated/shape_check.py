"""A strategy wrapper that turns client updates of the wrong shapes into named failures."""

from __future__ import annotations

from logging import WARNING

import numpy as np
from flwr.common import parameters_to_ndarrays
from flwr.common.logger import log
from flwr.server.strategy import Strategy


class RejectMismatchedShapes(Strategy):
    """Checks every client's weights against the global model's shapes before aggregation.

    A result whose arrays differ in number or shape from the round's global weights is moved
    to the round's failures with a `ValueError` naming the weight and both shapes (also
    logged, and kept in `rejected`), so it never reaches the average: the wrapped strategy
    aggregates the rest when it accepts failures, and otherwise keeps the global model.

    Args:
        strategy: the Flower strategy to wrap.
        weight_names: the global model's weight names (`[w.path for w in model.weights]`),
            used in messages; defaults to `weight <index>`.

    Attributes:
        shapes: the shapes of the round's global weights, recorded by `configure_fit`
            (`None` before the first round: nothing is checked).
        rejected: the messages of the updates rejected so far.

    Example:

    ```python
    strategy = RejectMismatchedShapes(FedAvg(), [w.path for w in model.weights])
    ```
    """

    def __init__(self, strategy: Strategy, weight_names=None):
        super().__init__()
        self.strategy = strategy
        self.weight_names = None if weight_names is None else list(weight_names)
        self.rejected: list[str] = []
        self.shapes = None

    def __repr__(self) -> str:
        return f"RejectMismatchedShapes({self.strategy!r})"

    def __getattr__(self, name):
        # Attributes of the wrapped strategy (e.g. `proximal_mu`, `min_fit_clients`).
        if name == "strategy":
            raise AttributeError(name)
        return getattr(self.strategy, name)

    def initialize_parameters(self, client_manager):
        return self.strategy.initialize_parameters(client_manager)

    def configure_fit(self, server_round, parameters, client_manager):
        self.shapes = [a.shape for a in parameters_to_ndarrays(parameters)]
        return self.strategy.configure_fit(server_round, parameters, client_manager)

    def mismatch(self, arrays) -> str | None:
        """Why `arrays` do not fit the global weights, or `None` when they do."""
        if self.shapes is None:
            return None
        if len(arrays) != len(self.shapes):
            return f"{len(arrays)} arrays were sent for {len(self.shapes)} weights"
        for index, (array, shape) in enumerate(zip(arrays, self.shapes, strict=True)):
            if np.shape(array) != tuple(shape):
                name = self.weight_names[index] if self.weight_names else f"weight {index}"
                return (
                    f"weight `{name}` has shape {tuple(shape)} but the client sent "
                    f"{np.shape(array)}"
                )
        return None

    def aggregate_fit(self, server_round, results, failures):
        kept, failures = [], list(failures)
        for proxy, fit_res in results:
            problem = self.mismatch(parameters_to_ndarrays(fit_res.parameters))
            if problem is None:
                kept.append((proxy, fit_res))
                continue
            client = getattr(proxy, "cid", "?")
            message = f"Round {server_round}: rejected the update of client {client}: {problem}."
            self.rejected.append(message)
            log(WARNING, message)
            failures.append(ValueError(message))
        return self.strategy.aggregate_fit(server_round, kept, failures)

    def configure_evaluate(self, server_round, parameters, client_manager):
        return self.strategy.configure_evaluate(server_round, parameters, client_manager)

    def aggregate_evaluate(self, server_round, results, failures):
        return self.strategy.aggregate_evaluate(server_round, results, failures)

    def evaluate(self, server_round, parameters):
        return self.strategy.evaluate(server_round, parameters)
