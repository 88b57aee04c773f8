"""Real Flower processes: a server and clients speaking Flower's gRPC protocol.

Flower 1.42 still ships the process-level entry points `flwr.server.start_server` and
`flwr.client.start_client` (deprecated in favour of SuperLink/SuperNode with `flwr run`, which
needs an app project); they run a server and clients as plain processes on any hosts with no
project packaging, which is what `zoo federated server|client` uses.
"""

from __future__ import annotations

import logging

from flwr.common import parameters_to_ndarrays

from layers.validation import check_positive_int
from zoo.federated.client import KerasClient
from zoo.federated.history import FederatedHistory


class _HideDeprecationBanner(logging.Filter):
    """Drops Flower's multi-line banner about the legacy start functions (documented above)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "DEPRECATED FEATURE" not in record.getMessage()


def _quiet_deprecation() -> None:
    """Hides Flower's deprecation banner for the legacy start functions, once per process."""
    logger = logging.getLogger("flwr")
    if not any(isinstance(f, _HideDeprecationBanner) for f in logger.filters):
        logger.addFilter(_HideDeprecationBanner())


def serve(
    strategy, num_rounds: int, address: str = "0.0.0.0:8080", round_timeout: float | None = None
) -> FederatedHistory:
    """Runs a Flower server until `num_rounds` rounds are done; returns their history.

    Args:
        strategy: a `flwr.server.strategy.Strategy` (e.g. `make_strategy(...)`); its
            `min_available_clients` is how many clients the first round waits for.
        num_rounds: federated rounds.
        address: `HOST:PORT` to listen on. Defaults to `"0.0.0.0:8080"`.
        round_timeout: seconds a round waits for its clients; `None` waits. Defaults to `None`.

    Returns:
        A `FederatedHistory` with the final global weights.

    Example:

    ```python
    history = serve(make_strategy("fedavg", min_clients=3), num_rounds=5,
                    address="127.0.0.1:8080")
    ```
    """
    from flwr.server import Server, ServerConfig, SimpleClientManager, start_server

    check_positive_int("num_rounds", num_rounds)
    _quiet_deprecation()
    server = Server(client_manager=SimpleClientManager(), strategy=strategy)
    history = start_server(
        server_address=address,
        server=server,
        config=ServerConfig(num_rounds=num_rounds, round_timeout=round_timeout),
    )
    weights = parameters_to_ndarrays(server.parameters)
    return FederatedHistory.from_flower(history, num_rounds, weights)


def connect(
    client: KerasClient, address: str = "127.0.0.1:8080", max_wait_time: float | None = 60.0
) -> None:
    """Connects `client` to a Flower server and serves its rounds until the server ends.

    Args:
        client: a `KerasClient`.
        address: the server's `HOST:PORT`. Defaults to `"127.0.0.1:8080"`.
        max_wait_time: seconds to keep retrying while the server is not up yet; `None`
            retries forever. Defaults to `60.0`.

    Example:

    ```python
    connect(KerasClient(model, (x, y)), "127.0.0.1:8080")
    ```
    """
    from flwr.client import start_client

    _quiet_deprecation()
    start_client(
        server_address=address,
        client=client.to_client(),
        insecure=True,
        max_wait_time=max_wait_time,
    )
