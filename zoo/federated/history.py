"""`FederatedHistory`: what a federated run returns (per-round metrics and the final weights)."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class FederatedHistory:
    """Per-round results of a federated run, read from Flower's `History`.

    Attributes:
        rounds: one dict per round `r = 1..num_rounds` with `round`, the example-weighted
            client averages `fit_<metric>` (training, last local epoch), `loss` and
            `<metric>` (clients' evaluation of the global model), and `centralized_loss`,
            `centralized_<metric>` when the strategy evaluates on the server.
        weights: the final global weights, one array per model weight.
        flower: Flower's own `flwr.server.History`.

    Example:

    ```python
    history = simulate(model_fn, shards, num_rounds=5)
    print([r["accuracy"] for r in history.rounds])
    ```
    """

    rounds: list[dict]
    weights: list[np.ndarray]
    flower: object = None

    def metric(self, name: str) -> list[float]:
        """The values of `name` per round (`nan` where a round has none)."""
        return [float(r.get(name, float("nan"))) for r in self.rounds]

    @classmethod
    def from_flower(cls, history, num_rounds: int, weights) -> FederatedHistory:
        """Collects Flower's `History` into one dict per round."""
        rounds = [{"round": r} for r in range(1, num_rounds + 1)]

        def put(series: dict, prefix: str = "") -> None:
            for name, values in series.items():
                for server_round, value in values:
                    if 1 <= server_round <= num_rounds:
                        rounds[server_round - 1][prefix + name] = float(value)

        put(history.metrics_distributed_fit, "fit_")
        put({"loss": history.losses_distributed})
        put(history.metrics_distributed)
        put({"loss": history.losses_centralized}, "centralized_")
        put(history.metrics_centralized, "centralized_")
        return cls(rounds=rounds, weights=list(weights), flower=history)
