"""`simulate`: many virtual Flower clients training a Keras model in one machine (Ray)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

import keras
from flwr.client import ClientApp
from flwr.common import parameters_to_ndarrays
from flwr.compat.common.recorddict_compat import arrayrecord_to_parameters
from flwr.server import LegacyContext, ServerApp, ServerConfig
from flwr.server.workflow import DefaultWorkflow
from flwr.server.workflow.constant import MAIN_PARAMS_RECORD

from layers.validation import check_positive_int
from zoo.federated.client import KerasClient, scalar_metrics
from zoo.federated.dp_fedavg import client_mods, with_differential_privacy
from zoo.federated.history import FederatedHistory
from zoo.federated.secagg import CLIENT_MODS
from zoo.federated.strategies import make_strategy
from zoo.federated.weights import get_weights, set_weights

# Clients built in this process, by (run token, partition id): a Ray actor keeps its clients
# (model and traced train function) from round to round instead of rebuilding them.
_CLIENTS: dict[tuple[str, int], KerasClient] = {}


def limit_tensorflow_threads(threads: int) -> None:
    """Caps TensorFlow's op threads in this process (no-op once TensorFlow has started)."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow's runtime is already initialised in this process
        pass


def client_app(
    model_fn: Callable[[], keras.Model],
    partitions: Sequence,
    *,
    test_partitions: Sequence | None = None,
    local_epochs: int = 1,
    batch_size: int = 32,
    mods: Sequence = (),
    threads: int = 1,
) -> ClientApp:
    """A Flower `ClientApp` whose node `partition-id` = k trains on `partitions[k]`.

    Args:
        model_fn: returns a new compiled Keras model (called once per client and process).
        partitions: one `(x, y)` training shard per client (`partition(...)`'s result).
        test_partitions: one `(x, y)` evaluation shard per client; defaults to the training
            shards.
        local_epochs: default local epochs (the strategy's fit config overrides it).
        batch_size: default batch size (the strategy's config overrides it).
        mods: Flower client mods, e.g. `[secaggplus_mod]` or `[fixedclipping_mod]`.
        threads: TensorFlow threads per client process. Defaults to `1`.

    Returns:
        A `flwr.client.ClientApp`.

    Example:

    ```python
    app = client_app(lambda: zoo.create("mlp_digits"), partition(x, y, 10))
    ```
    """
    token = uuid.uuid4().hex
    partitions = list(partitions)
    tests = list(test_partitions) if test_partitions is not None else None
    if tests is not None and len(tests) != len(partitions):
        raise ValueError(
            f"`test_partitions` must have one shard per client ({len(partitions)}). "
            f"Received: len(test_partitions)={len(tests)}"
        )

    def client_fn(context):
        partition_id = int(context.node_config["partition-id"])
        key = (token, partition_id)
        if key not in _CLIENTS:
            limit_tensorflow_threads(threads)
            _CLIENTS[key] = KerasClient(
                model_fn(),
                partitions[partition_id],
                None if tests is None else tests[partition_id],
                local_epochs=local_epochs,
                batch_size=batch_size,
            )
        return _CLIENTS[key].to_client()

    return ClientApp(client_fn=client_fn, mods=list(mods))


def server_app(
    strategy, num_rounds: int, result: dict, *, fit_workflow: Callable | None = None
) -> ServerApp:
    """A Flower `ServerApp` running `strategy` for `num_rounds` with Flower's default workflow.

    Args:
        strategy: a `flwr.server.strategy.Strategy` (e.g. from `make_strategy`).
        num_rounds: how many rounds.
        result: a dict that receives `history` (a `FederatedHistory`) when the run ends.
        fit_workflow: the fit round's workflow, e.g. `SecAggPlusWorkflow(...)`; defaults to
            Flower's plain one.

    Returns:
        A `flwr.server.ServerApp`.

    Example:

    ```python
    result = {}
    app = server_app(make_strategy("fedavg"), 3, result)
    ```
    """
    check_positive_int("num_rounds", num_rounds)
    app = ServerApp()

    @app.main()
    def main(grid, context) -> None:
        legacy = LegacyContext(
            context=context, config=ServerConfig(num_rounds=num_rounds), strategy=strategy
        )
        DefaultWorkflow(fit_workflow=fit_workflow)(grid, legacy)
        record = legacy.state.array_records[MAIN_PARAMS_RECORD]
        weights = parameters_to_ndarrays(arrayrecord_to_parameters(record, keep_input=True))
        result["history"] = FederatedHistory.from_flower(legacy.history, num_rounds, weights)

    return app


def run(
    server: ServerApp,
    client: ClientApp,
    num_clients: int,
    *,
    cpus: int = 2,
    cpus_per_client: float = 1.0,
    verbose: bool = False,
) -> None:
    """Runs Flower's simulation engine (Ray backend) on `num_clients` virtual nodes.

    Args:
        server: the `ServerApp`.
        client: the `ClientApp`.
        num_clients: the number of virtual SuperNodes.
        cpus: CPUs Ray may use. Defaults to `2`.
        cpus_per_client: CPUs reserved per client actor (`cpus / cpus_per_client` clients run
            at once). Defaults to `1.0`.
        verbose: Flower's debug logging. Defaults to `False`.

    Example:

    ```python
    run(server_app(strategy, 3, result), client_app(model_fn, shards), len(shards))
    ```
    """
    from flwr.simulation import run_simulation

    check_positive_int("num_clients", num_clients)
    check_positive_int("cpus", cpus)
    backend_config = {
        "client_resources": {"num_cpus": float(cpus_per_client), "num_gpus": 0.0},
        "init_args": {"num_cpus": cpus, "num_gpus": 0},
    }
    run_simulation(
        server_app=server,
        client_app=client,
        num_supernodes=num_clients,
        backend_config=backend_config,
        verbose_logging=verbose,
    )


def simulate(
    model_fn: Callable[[], keras.Model],
    partitions: Sequence,
    num_rounds: int,
    strategy: str = "fedavg",
    *,
    test_partitions: Sequence | None = None,
    test_data=None,
    local_epochs: int = 1,
    batch_size: int = 32,
    fraction_fit: float = 1.0,
    min_clients: int | None = None,
    proximal_mu: float = 0.01,
    server_learning_rate: float = 0.01,
    initial_weights=None,
    secure_aggregation=None,
    differential_privacy: dict | None = None,
    cpus: int = 2,
    verbose: bool = False,
) -> FederatedHistory:
    """Federated training of `model_fn()` over `partitions` with Flower's simulation engine.

    Each shard is one virtual client (`KerasClient`); the server runs a Flower strategy
    (`make_strategy`) from the weights of one `model_fn()` model built here.

    Args:
        model_fn: returns a new compiled Keras model; must be picklable (a module-level
            function or a lambda over picklable values), it runs in Ray's worker processes.
        partitions: one `(x, y)` shard per client, e.g. from `partition(...)`.
        num_rounds: federated rounds.
        strategy: `"fedavg"`, `"fedprox"`, `"fedadam"` or `"fedyogi"`. Defaults to
            `"fedavg"`.
        test_partitions: per-client evaluation shards; defaults to the training shards.
        test_data: `(x, y)` held-out data evaluated on the server each round (gives
            `centralized_loss` and `centralized_<metric>`). Defaults to `None`.
        local_epochs: client epochs per round. Defaults to `1`.
        batch_size: client batch size. Defaults to `32`.
        fraction_fit: fraction of clients sampled each round. Defaults to `1.0`.
        min_clients: the fewest clients per round; defaults to every sampled client.
        proximal_mu: FedProx's `mu`. Defaults to `0.01`.
        server_learning_rate: FedAdam/FedYogi's server rate. Defaults to `0.01`.
        initial_weights: the global model's starting weights (e.g. a pretrained model's
            `get_weights(model)`); defaults to those of a new `model_fn()` model.
        secure_aggregation: a SecAgg+ workflow from `zoo.federated.secagg.secagg_workflow`
            (the clients get `secaggplus_mod`); `None` aggregates in the clear. Defaults to
            `None`.
        differential_privacy: DP-FedAvg with fixed clipping: the keyword arguments of
            `zoo.federated.dp_fedavg.with_differential_privacy` other than `strategy` and
            `num_sampled_clients` (`noise_multiplier`, `clipping_norm`, optional `side`).
            Defaults to `None`.
        cpus: CPUs for Ray (one client runs per CPU). Defaults to `2`.
        verbose: Flower's debug logging. Defaults to `False`.

    Returns:
        A `FederatedHistory` (per-round metrics and the final global weights).

    Example:

    ```python
    digits = zoo.datasets.load_digits(dtype="float32")
    shards = partition(digits.train.x.reshape(-1, 64), digits.train.y, 10, alpha=0.1)
    history = simulate(lambda: zoo.create("mlp_digits"), shards, num_rounds=5,
                       strategy="fedprox", test_data=(digits.test.x.reshape(-1, 64),
                       digits.test.y))
    ```
    """
    check_positive_int("num_rounds", num_rounds)
    partitions = list(partitions)
    if not partitions:
        raise ValueError("`partitions` must hold at least one client shard. Received: []")
    global_model = model_fn()
    if initial_weights is None:
        initial_weights = get_weights(global_model)
    else:
        set_weights(global_model, initial_weights)  # checks the shapes
        initial_weights = get_weights(global_model)
    if min_clients is None:
        min_clients = max(1, round(fraction_fit * len(partitions)))
    evaluate_fn = None
    if test_data is not None:
        evaluate_fn = centralized_evaluation(global_model, test_data, batch_size)
    flower_strategy = make_strategy(
        strategy,
        min_clients=min_clients,
        fraction_fit=fraction_fit,
        local_epochs=local_epochs,
        batch_size=batch_size,
        proximal_mu=proximal_mu,
        server_learning_rate=server_learning_rate,
        initial_weights=initial_weights,
        evaluate_fn=evaluate_fn,
        weight_names=[w.path for w in global_model.weights],
    )
    mods = list(CLIENT_MODS) if secure_aggregation is not None else []
    if differential_privacy is not None:
        side = differential_privacy.get("side", "server")
        flower_strategy = with_differential_privacy(
            flower_strategy, num_sampled_clients=min_clients, **differential_privacy
        )
        mods += list(client_mods(side))
    result: dict = {}
    run(
        server_app(flower_strategy, num_rounds, result, fit_workflow=secure_aggregation),
        client_app(
            model_fn,
            partitions,
            test_partitions=test_partitions,
            local_epochs=local_epochs,
            batch_size=batch_size,
            mods=mods,
        ),
        len(partitions),
        cpus=cpus,
        verbose=verbose,
    )
    if "history" not in result:
        raise RuntimeError("The Flower simulation ended without finishing its rounds.")
    return result["history"]


def centralized_evaluation(model: keras.Model, test_data, batch_size: int = 32) -> Callable:
    """Flower's `evaluate_fn`: evaluates the global weights on `test_data` with `model`.

    Args:
        model: a compiled model of the same architecture (its weights are overwritten).
        test_data: `(x, y)` arrays.
        batch_size: evaluation batch size. Defaults to `32`.

    Returns:
        `evaluate(server_round, weights, config) -> (loss, metrics)`.

    Example:

    ```python
    strategy = make_strategy("fedavg", evaluate_fn=centralized_evaluation(model, (x, y)))
    ```
    """
    x, y = test_data

    def evaluate(server_round, weights, config):
        set_weights(model, weights)
        logs = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
        metrics = scalar_metrics(logs)
        return float(metrics.pop("loss")), metrics

    return evaluate
