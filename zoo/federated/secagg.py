"""Secure aggregation of `KerasClient` updates with Flower's SecAgg+.

Bell et al. 2020, "Secure Single-Server Aggregation with (Poly)Logarithmic Overhead"
(SecAgg+; Bonawitz et al. 2017 is SecAgg). Each client quantises its weighted update, adds a
private mask and pairwise masks shared with its neighbours, and uploads only the masked integer
vector; the server learns the sum (so the FedAvg aggregate) once the masks cancel, and rebuilds
the masks of clients that drop out from secret shares held by the others, as long as at least
`reconstruction_threshold` of a client's neighbours answer. Flower implements the protocol;
this module wires its two halves to ours: `CLIENT_MODS` on the `ClientApp` and
`secagg_workflow(...)` as the `ServerApp`'s fit workflow.
"""

from __future__ import annotations

from flwr.client.mod import secaggplus_mod
from flwr.server.workflow import SecAggPlusWorkflow

from layers.validation import check_positive_float, check_positive_int

# The client mods that answer the SecAgg+ stages around `KerasClient.fit`.
CLIENT_MODS = (secaggplus_mod,)


def secagg_workflow(
    num_shares: int | float = 1.0,
    reconstruction_threshold: int | float = 0.5,
    *,
    clipping_range: float = 8.0,
    quantization_range: int = 2**22,
    max_weight: float = 1000.0,
    timeout: float | None = None,
) -> SecAggPlusWorkflow:
    """Flower's SecAgg+ server workflow, for `server_app(..., fit_workflow=...)`.

    Args:
        num_shares: shares each client's secret is split into (an int, or a fraction of the
            sampled clients). Defaults to `1.0` (every sampled client).
        reconstruction_threshold: shares needed to rebuild a dropped client's mask (an int, or
            a fraction of `num_shares`); a round completes while at least this many of each
            client's neighbours answer. Defaults to `0.5`.
        clipping_range: weights are clipped to `[-clipping_range, clipping_range]` before
            quantisation. Defaults to `8.0`.
        quantization_range: integer levels of the quantisation. Defaults to `2**22`.
        max_weight: the largest example count of a client (its FedAvg weight); larger counts
            overflow. Defaults to `1000.0`.
        timeout: seconds to wait for replies at each stage; `None` waits. Defaults to `None`.

    Returns:
        A `flwr.server.workflow.SecAggPlusWorkflow`.

    Example:

    ```python
    app = server_app(make_strategy("fedavg"), 3, result, fit_workflow=secagg_workflow(3, 2))
    clients = client_app(model_fn, shards, mods=CLIENT_MODS)
    ```
    """
    for name, value in (
        ("num_shares", num_shares),
        ("reconstruction_threshold", reconstruction_threshold),
    ):
        if isinstance(value, int) and not isinstance(value, bool):
            check_positive_int(name, value)
        else:
            check_positive_float(name, value)
    check_positive_float("clipping_range", clipping_range)
    check_positive_int("quantization_range", quantization_range)
    check_positive_float("max_weight", max_weight)
    return SecAggPlusWorkflow(
        num_shares=num_shares,
        reconstruction_threshold=reconstruction_threshold,
        clipping_range=clipping_range,
        quantization_range=quantization_range,
        max_weight=max_weight,
        timeout=timeout,
    )
