"""Flower strategies by name, with the fit config and metric averaging our clients expect."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from flwr.common import ndarrays_to_parameters
from flwr.server import strategy as flower_strategies

from layers.validation import (
    check_choice,
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
    check_unit_interval,
)
from zoo.federated.shape_check import RejectMismatchedShapes

STRATEGIES = ("fedavg", "fedprox", "fedadam", "fedyogi")


def weighted_average(results) -> dict[str, float]:
    """Flower metrics aggregation: each metric averaged over clients, weighted by examples.

    Args:
        results: `(num_examples, metrics)` pairs, as Flower passes them.

    Returns:
        A dict of the averaged metrics (a metric missing from a client is averaged over the
        clients that have it).

    Example:

    ```python
    weighted_average([(10, {"accuracy": 1.0}), (30, {"accuracy": 0.0})])  # {"accuracy": 0.25}
    ```
    """
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    for num_examples, metrics in results:
        for name, value in metrics.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                totals[name] = totals.get(name, 0.0) + num_examples * float(value)
                counts[name] = counts.get(name, 0) + num_examples
    return {name: totals[name] / counts[name] for name in totals if counts[name] > 0}


def make_strategy(
    name: str = "fedavg",
    *,
    min_clients: int = 2,
    fraction_fit: float = 1.0,
    fraction_evaluate: float = 1.0,
    local_epochs: int = 1,
    batch_size: int = 32,
    proximal_mu: float = 0.01,
    server_learning_rate: float = 0.01,
    initial_weights: list[np.ndarray] | None = None,
    evaluate_fn: Callable | None = None,
    accept_failures: bool = True,
    weight_names=None,
):
    """A Flower strategy (FedAvg, FedProx, FedAdam, FedYogi) configured for `KerasClient`.

    Every round sends `local_epochs` and `batch_size` in the fit config; FedProx also sends
    `proximal_mu`, which `KerasClient` turns into `ProximalTerm`. Client metrics are averaged
    weighted by examples. References: FedAvg (McMahan et al. 2017, arXiv:1602.05629), FedProx
    (Li et al. 2020, arXiv:1812.06127), FedAdam/FedYogi (Reddi et al. 2021, "Adaptive
    Federated Optimization", arXiv:2003.00295).

    Args:
        name: one of `STRATEGIES`. Defaults to `"fedavg"`.
        min_clients: the fewest clients that must be available, and that must fit and
            evaluate, for a round to run. Defaults to `2`.
        fraction_fit: the fraction of clients sampled for training each round. Defaults to 1.
        fraction_evaluate: the fraction sampled for evaluation. Defaults to 1.
        local_epochs: client epochs per round. Defaults to `1`.
        batch_size: client batch size. Defaults to `32`.
        proximal_mu: FedProx's `mu` (used by `"fedprox"`). Defaults to `0.01`.
        server_learning_rate: the server optimizer's rate `eta` (FedAdam, FedYogi).
            Defaults to `0.01`.
        initial_weights: the global model's starting weights; required by FedAdam/FedYogi,
            otherwise Flower asks one client. Defaults to `None`.
        evaluate_fn: Flower's centralised evaluation `(round, weights, config) -> (loss,
            metrics)`. Defaults to `None`.
        accept_failures: aggregate a round even if some clients failed. Defaults to `True`.
        weight_names: the model's weight names, for the message when a client's update has
            the wrong shapes (`RejectMismatchedShapes`). Defaults to `None`.

    Returns:
        A `flwr.server.strategy.Strategy`: the Flower strategy inside
        `RejectMismatchedShapes`, which turns updates of the wrong shapes into failures.

    Example:

    ```python
    strategy = make_strategy("fedprox", min_clients=3, proximal_mu=0.1)
    ```
    """
    check_choice("name", name, STRATEGIES)
    check_positive_int("min_clients", min_clients)
    check_unit_interval("fraction_fit", fraction_fit, include_low=False, include_high=True)
    check_unit_interval("fraction_evaluate", fraction_evaluate, include_low=True, include_high=True)
    check_positive_int("local_epochs", local_epochs)
    check_positive_int("batch_size", batch_size)
    check_non_negative_float("proximal_mu", proximal_mu)
    check_positive_float("server_learning_rate", server_learning_rate)
    if name in ("fedadam", "fedyogi") and initial_weights is None:
        raise ValueError(
            f"Strategy {name!r} needs the global model's starting weights. "
            "Received: initial_weights=None"
        )

    def fit_config(server_round: int) -> dict:
        return {"local_epochs": local_epochs, "batch_size": batch_size, "round": server_round}

    options = dict(
        fraction_fit=fraction_fit,
        fraction_evaluate=fraction_evaluate,
        min_fit_clients=min_clients,
        min_evaluate_clients=min_clients if fraction_evaluate > 0 else 0,
        min_available_clients=min_clients,
        evaluate_fn=evaluate_fn,
        on_fit_config_fn=fit_config,
        on_evaluate_config_fn=lambda server_round: {"batch_size": batch_size},
        accept_failures=accept_failures,
        initial_parameters=(
            None if initial_weights is None else ndarrays_to_parameters(list(initial_weights))
        ),
        fit_metrics_aggregation_fn=weighted_average,
        evaluate_metrics_aggregation_fn=weighted_average,
    )
    if name == "fedavg":
        strategy = flower_strategies.FedAvg(**options)
    elif name == "fedprox":
        strategy = flower_strategies.FedProx(**options, proximal_mu=proximal_mu)
    else:
        optimizer = flower_strategies.FedAdam if name == "fedadam" else flower_strategies.FedYogi
        strategy = optimizer(**options, eta=server_learning_rate, eta_l=server_learning_rate)
    return RejectMismatchedShapes(strategy, weight_names)
