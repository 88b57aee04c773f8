"""Federated learning on digits with Flower: accuracy per round and round time, 10 clients.

Learning figures: scikit-learn's digits (1,437 training images) split over 10 simulated
clients, IID and with Dirichlet label skew alpha=0.1 (`zoo.federated.partition`); FedAvg and
FedProx (mu=0.1) train `mlp_digits` for `--rounds` rounds of `--local-epochs` local epochs
with Flower's simulation engine (Ray, `--cpus` client processes); the global model's accuracy
on the held-out 360 images after every round is read from the server's centralised evaluation.
Centralised training of the same model on all the training data for as many epochs as a
client trains in total (`rounds * local_epochs`) is the reference, accuracy per epoch.

Round time: the FedAvg IID run's wall time per round (fit and evaluate on all 10 clients,
aggregation and server-side evaluation), median over rounds 2.. (round 1 starts the client
processes), next to the same work done directly in one process (10 `KerasClient.fit` and
`evaluate` calls, warm), measured right after the simulation. Their ratio is Flower's
overhead (message passing, Ray, serialisation) net of the parallelism of `--cpus` workers.

Run:

    .venv/bin/python -m benchmarks.bench_federated [--rounds 10] [--local-epochs 1] [--cpus 2]
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import zoo  # noqa: E402
from zoo.federated import KerasClient, get_weights, make_strategy, partition  # noqa: E402
from zoo.federated.simulation import (  # noqa: E402
    centralized_evaluation,
    client_app,
    run,
    server_app,
)

NUM_CLIENTS = 10
MODEL_FN = functools.partial(zoo.create, "mlp_digits")


def digits():
    data = zoo.datasets.load_digits(dtype="float32")
    return (data.train.x.reshape(-1, 64), data.train.y), (data.test.x.reshape(-1, 64), data.test.y)


def federated(shards, test, strategy_name, rounds, local_epochs, cpus, start):
    """Accuracy after each round (round 0 = the start) and the wall time of each round."""
    stamps = []
    evaluate = centralized_evaluation(MODEL_FN(), test)

    def timed_evaluate(server_round, weights, config):
        stamps.append(time.perf_counter())
        return evaluate(server_round, weights, config)

    strategy = make_strategy(
        strategy_name,
        min_clients=len(shards),
        local_epochs=local_epochs,
        proximal_mu=0.1,
        initial_weights=start,
        evaluate_fn=timed_evaluate,
    )
    result = {}
    run(server_app(strategy, rounds, result), client_app(MODEL_FN, shards), len(shards), cpus=cpus)
    history = result["history"].flower
    accuracy = [value for _, value in history.metrics_centralized["accuracy"]]
    return accuracy, list(np.diff(stamps))


def centralized(train, test, epochs, start):
    keras.utils.set_random_seed(0)
    model = MODEL_FN()
    model.set_weights(start)
    accuracy = [model.evaluate(*test, verbose=0, return_dict=True)["accuracy"]]
    for _ in range(epochs):
        model.fit(*train, epochs=1, batch_size=32, verbose=0)
        accuracy.append(model.evaluate(*test, verbose=0, return_dict=True)["accuracy"])
    return accuracy


def direct_round_time(shards, start, local_epochs, repeats=3):
    """The same work as one round, done directly in this process: 10 fits and evaluates."""
    clients = [KerasClient(MODEL_FN(), shard, local_epochs=local_epochs) for shard in shards]
    times = []
    for _ in range(repeats + 1):  # the first pass traces the functions
        begin = time.perf_counter()
        for client in clients:
            weights, _, _ = client.fit(start, {})
            client.evaluate(weights, {})
        times.append(time.perf_counter() - begin)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--local-epochs", type=int, default=1)
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    train, test = digits()
    keras.utils.set_random_seed(0)
    start = get_weights(MODEL_FN())
    splits = {
        "IID": partition(*train, NUM_CLIENTS, seed=0),
        "alpha=0.1": partition(*train, NUM_CLIENTS, alpha=0.1, seed=0),
    }
    curves, round_times = {}, None
    for split, shards in splits.items():
        for strategy in ("fedavg", "fedprox"):
            accuracy, times = federated(
                shards, test, strategy, args.rounds, args.local_epochs, args.cpus, start
            )
            curves[f"{strategy} {split}"] = accuracy
            if round_times is None:
                round_times = times
                direct = direct_round_time(splits["IID"], start, args.local_epochs)
            print(f"{strategy} {split}: " + " ".join(f"{a:.3f}" for a in accuracy), flush=True)
    curves["centralised"] = centralized(train, test, args.rounds * args.local_epochs, start)
    print("\n| round | " + " | ".join(curves) + " |")
    print("|---" * (len(curves) + 1) + "|")
    for r in range(args.rounds + 1):
        print(f"| {r} | " + " | ".join(f"{c[r]:.3f}" for c in curves.values()) + " |")
    flower = statistics.median(round_times[1:])
    print(
        f"\nround time, {NUM_CLIENTS} simulated clients, {args.cpus} Ray workers: "
        f"median {flower:.2f} s (rounds 2-{args.rounds}; round 1 {round_times[0]:.2f} s); "
        f"the same fits and evaluations directly in one process: {direct:.2f} s; "
        f"ratio {flower / direct:.2f}"
    )


if __name__ == "__main__":
    main()
