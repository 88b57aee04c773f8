"""DP-FedAvg: Flower's fixed-clipping differential-privacy wrappers around our strategies.

McMahan et al. 2018, "Learning Differentially Private Recurrent Language Models" (DP-FedAvg,
arXiv:1710.06963): every client's update (its weights minus the round's global weights) is
clipped to L2 norm `clipping_norm`, and Gaussian noise of standard deviation
`noise_multiplier * clipping_norm / num_sampled_clients` is added to the average. Server-side
clipping clips on the server; client-side clipping clips on the clients (their update never
leaves unclipped) with Flower's `fixedclipping_mod`, which must then be among the `ClientApp`'s
mods (`client_mods("client")`). The privacy spent per round can be accounted with
`zoo.federated.compute_epsilon` (sampling rate = sampled clients / all clients).
"""

from __future__ import annotations

from flwr.client.mod import fixedclipping_mod
from flwr.server.strategy import (
    DifferentialPrivacyClientSideFixedClipping,
    DifferentialPrivacyServerSideFixedClipping,
)

from layers.validation import (
    check_choice,
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
)

CLIPPING_SIDES = ("server", "client")


def with_differential_privacy(
    strategy,
    *,
    noise_multiplier: float,
    clipping_norm: float,
    num_sampled_clients: int,
    side: str = "server",
):
    """Wraps a Flower strategy in DP-FedAvg with fixed clipping.

    Args:
        strategy: a `flwr.server.strategy.Strategy`, e.g. `make_strategy("fedavg")`.
        noise_multiplier: Gaussian noise std in units of `clipping_norm / num_sampled_clients`;
            `0` clips without noise.
        clipping_norm: the L2 bound of each client's update, > 0.
        num_sampled_clients: clients sampled per round.
        side: `"server"` clips on the server; `"client"` clips on the clients (add
            `client_mods("client")` to the `ClientApp`). Defaults to `"server"`.

    Returns:
        Flower's `DifferentialPrivacyServerSideFixedClipping` or
        `DifferentialPrivacyClientSideFixedClipping` around `strategy`.

    Example:

    ```python
    strategy = with_differential_privacy(make_strategy("fedavg", min_clients=10),
                                         noise_multiplier=1.0, clipping_norm=1.0,
                                         num_sampled_clients=10)
    ```
    """
    check_non_negative_float("noise_multiplier", noise_multiplier, allow_numpy=True)
    check_positive_float("clipping_norm", clipping_norm, allow_numpy=True)
    check_positive_int("num_sampled_clients", num_sampled_clients)
    check_choice("side", side, CLIPPING_SIDES)
    wrapper = (
        DifferentialPrivacyServerSideFixedClipping
        if side == "server"
        else DifferentialPrivacyClientSideFixedClipping
    )
    return wrapper(
        strategy,
        noise_multiplier=float(noise_multiplier),
        clipping_norm=float(clipping_norm),
        num_sampled_clients=num_sampled_clients,
    )


def client_mods(side: str) -> tuple:
    """The `ClientApp` mods DP-FedAvg needs: `(fixedclipping_mod,)` for client-side clipping.

    Args:
        side: `"server"` or `"client"`, as given to `with_differential_privacy`.

    Returns:
        A tuple of Flower client mods (empty for server-side clipping).

    Example:

    ```python
    app = client_app(model_fn, shards, mods=client_mods("client"))
    ```
    """
    check_choice("side", side, CLIPPING_SIDES)
    return (fixedclipping_mod,) if side == "client" else ()
