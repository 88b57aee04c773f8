"""`zoo federated server | client`: Flower federated training of a registered model.

One `zoo federated server` and N `zoo federated client --partition K --num-partitions N`
processes, on one machine or several, speak Flower's gRPC protocol (`zoo.federated.processes`).
Every client splits the same data (built-in digits, or `--data` TFRecords) the same way and
trains on its shard; the server aggregates with a Flower strategy, evaluates the global model
on the digits test split each round (built-in digits only) and can save it.
"""

from __future__ import annotations

import argparse
import json

from zoo.cli.arguments import non_negative_float, non_negative_int, positive_float, positive_int

# `zoo.federated.strategies.STRATEGIES`, spelled out so that `zoo --help` need not import Flower.
STRATEGIES = ("fedavg", "fedprox", "fedadam", "fedyogi")


def address(text: str) -> str:
    """An argparse type: `HOST:PORT` with a port in [1, 65535]."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(
            f"an address must be HOST:PORT with a port in [1, 65535]. Received: {text!r}"
        )
    return text


def _model(name: str):
    import zoo

    return zoo.create(name)


def run_server(args: argparse.Namespace) -> int:
    """Serves `--rounds` rounds; prints the per-round metrics as JSON; saves `--output`."""
    from zoo.federated.data import load_arrays
    from zoo.federated.processes import serve
    from zoo.federated.simulation import centralized_evaluation
    from zoo.federated.strategies import make_strategy
    from zoo.federated.weights import get_weights, set_weights

    if args.output is not None and not args.output.endswith(".keras"):
        raise ValueError(f"--output must end with .keras. Received: output={args.output!r}")
    model = _model(args.model)
    evaluate_fn = None
    if args.data is None:
        test = load_arrays(tuple(model.inputs[0].shape[1:]), split="test", seed=args.seed)
        evaluate = centralized_evaluation(model, test, args.batch_size)

        def evaluate_fn(server_round, weights, config):
            loss, metrics = evaluate(server_round, weights, config)
            shown = ", ".join(f"{k}={v:.4f}" for k, v in {"loss": loss, **metrics}.items())
            print(f"round {server_round}/{args.rounds}: test {shown}", flush=True)
            return loss, metrics

    strategy = make_strategy(
        args.strategy,
        min_clients=args.min_clients,
        local_epochs=args.local_epochs,
        batch_size=args.batch_size,
        proximal_mu=args.proximal_mu,
        server_learning_rate=args.server_learning_rate,
        initial_weights=get_weights(model),
        evaluate_fn=evaluate_fn,
        weight_names=[w.path for w in model.weights],
    )
    history = serve(strategy, args.rounds, args.address, round_timeout=args.round_timeout)
    if args.output is not None:
        set_weights(model, history.weights)
        model.save(args.output)
    print(json.dumps({"rounds": history.rounds, "output": args.output}, indent=2))
    return 0


def run_client(args: argparse.Namespace) -> int:
    """Trains this client's shard in the server's rounds until the server ends."""
    from zoo.federated.client import KerasClient
    from zoo.federated.data import client_shard
    from zoo.federated.processes import connect

    if args.partition >= args.num_partitions:
        raise ValueError(
            f"--partition must be less than --num-partitions ({args.num_partitions}). "
            f"Received: partition={args.partition}"
        )
    model = _model(args.model)
    shard = client_shard(
        tuple(model.inputs[0].shape[1:]),
        args.partition,
        args.num_partitions,
        alpha=args.alpha,
        seed=args.seed,
        data=args.data,
        label=args.label,
        features=args.features,
    )
    print(f"client {args.partition}: {len(shard[0])} examples, server {args.server}", flush=True)
    connect(KerasClient(model, shard), args.server, max_wait_time=args.max_wait)
    return 0


def _data_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="TFRecord files (default: built-in digits)")
    p.add_argument("--label", default="label", help="(default: %(default)s)")
    p.add_argument("--features", help="input feature name (default: the only non-label one)")
    p.add_argument(
        "--seed",
        type=non_negative_int("seed"),
        default=0,
        help="seed of the data split; the same on every process (default: %(default)s)",
    )


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Adds the `federated` command group."""
    p = commands.add_parser(
        "federated", help="federated training with Flower (server and client processes)"
    )
    sub = p.add_subparsers(dest="federated_command", metavar="COMMAND", required=True)

    server = sub.add_parser(
        "server",
        help="run a Flower server that aggregates the clients' rounds",
        description="Runs a Flower server for --rounds rounds once --min-clients clients are "
        "connected; prints each round's test metrics (built-in digits) and the per-round "
        "history as JSON.",
    )
    server.add_argument("--model", required=True, help="registered model name (`zoo list`)")
    server.add_argument("--rounds", type=positive_int("rounds"), default=3)
    server.add_argument("--min-clients", type=positive_int("min_clients"), default=2)
    server.add_argument(
        "--address",
        type=address,
        default="0.0.0.0:8080",
        help="HOST:PORT to listen on (default: %(default)s)",
    )
    server.add_argument("--strategy", choices=STRATEGIES, default="fedavg")
    server.add_argument("--local-epochs", type=positive_int("local_epochs"), default=1)
    server.add_argument("--batch-size", type=positive_int("batch_size"), default=32)
    server.add_argument(
        "--proximal-mu",
        type=non_negative_float("proximal_mu"),
        default=0.01,
        help="FedProx's mu (default: %(default)s)",
    )
    server.add_argument(
        "--server-learning-rate",
        type=positive_float("server_learning_rate"),
        default=0.01,
        help="FedAdam/FedYogi's eta (default: %(default)s)",
    )
    server.add_argument(
        "--round-timeout",
        type=positive_float("round_timeout"),
        help="seconds a round waits for its clients (default: no limit)",
    )
    server.add_argument("--output", help="save the final global model to this .keras file")
    _data_arguments(server)
    server.set_defaults(handler=run_server)

    client = sub.add_parser(
        "client",
        help="run a Flower client that trains on one shard of the data",
        description="Connects to a `zoo federated server` and trains its shard --partition of "
        "--num-partitions (IID, or Dirichlet label skew with --alpha) each round.",
    )
    client.add_argument("--model", required=True, help="registered model name (`zoo list`)")
    client.add_argument("--partition", type=non_negative_int("partition"), required=True)
    client.add_argument("--num-partitions", type=positive_int("num_partitions"), required=True)
    client.add_argument(
        "--server",
        type=address,
        default="127.0.0.1:8080",
        help="the server's HOST:PORT (default: %(default)s)",
    )
    client.add_argument(
        "--alpha",
        type=positive_float("alpha"),
        help="Dirichlet label-skew concentration (default: IID)",
    )
    client.add_argument(
        "--max-wait",
        type=positive_float("max_wait"),
        default=60.0,
        help="seconds to keep retrying an absent server (default: %(default)s)",
    )
    _data_arguments(client)
    client.set_defaults(handler=run_client)
