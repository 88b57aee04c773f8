"""DP-SGD: the private step's cost against a plain step, beside Opacus's; DP-SGD's accuracy.

Speed: for the digits MLP (64-128-10) and a small CNN (two 3x3 convolutions, 16 and 32
channels, global average pooling, 10 classes) on 8x8 inputs at batch 256, four training steps
alternate chunk by chunk (order reversed every round): ours plain (`SGD`), ours private
(`make_private(SGD, l2_norm_clip=1.0, noise_multiplier=1.1)` through `PrivateTraining`'s
private step: ghost clipping, as every trainable weight is in a Dense or Conv2D layer), and,
in a worker process in Opacus's own environment (`benchmarks/dp_peer.py`, `OPACUS_PYTHON`,
default `.venv-opacus/bin/python`), the same torch model with plain SGD and with Opacus's
`PrivacyEngine`. Reported: median milliseconds per step, each library's private/plain ratio,
and the ratio of ratios (Opacus's over ours: above 1 means our private step costs relatively
less). Both sides use the same number of threads (`--threads`, default 2: TensorFlow's intra-
and inter-op pools, torch's threads). `--clock cpu` times each step by its process's CPU time
(all threads) instead of the wall clock: less moved by other jobs on a shared machine, though
it also counts threads spinning while they wait.

Learning (`--learning`): DP-SGD on digits (1,437 training images) at epsilon 1, 3 and 8
(delta 1e-5, RDP), the noise multiplier found for each by bisection on `compute_epsilon`,
against the same MLP trained without privacy; test accuracy.

    python -m benchmarks.bench_dp                 # make bench-dp
    python -m benchmarks.bench_dp --learning      # the accuracy table
    python -m benchmarks.bench_dp --quick         # smoke test
    python -m benchmarks.bench_dp --models cnn --clock cpu
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from benchmarks.peer_worker import PeerWorker
from layers.privacy import PrivateTraining, make_private
from zoo.datasets import load_digits
from zoo.federated.accounting import compute_epsilon

CLIP, NOISE = 1.0, 1.1


def build_model(name: str, seed: int = 0) -> keras.Model:
    """The benchmark's Keras model (the torch twin is `dp_peer.build`)."""
    keras.utils.set_random_seed(seed)
    if name == "mlp":
        layers = [
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10),
        ]
    else:
        layers = [
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10),
        ]
    return keras.Sequential([keras.Input((8, 8, 1)), *layers])


def compiled(name: str, private: bool, jit: bool, noise: float = NOISE, lr: float = 0.1):
    model = build_model(name)
    optimizer = keras.optimizers.SGD(lr)
    if private:
        optimizer = make_private(optimizer, l2_norm_clip=CLIP, noise_multiplier=noise)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile=jit,
    )
    if private:  # what `fit(..., callbacks=[PrivateTraining()])` does at its start
        callback = PrivateTraining()
        callback.set_model(model)
        callback.on_train_begin()
    return model


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def ours_timer(model, x, y, clock: str = "wall"):
    """`steps -> seconds of each of that many train_on_batch steps` (by `CLOCKS[clock]`)."""
    now = CLOCKS[clock]

    def run(steps: int) -> list[float]:
        seconds = []
        for _ in range(steps):
            start = now()
            model.train_on_batch(x, y)
            seconds.append(now() - start)
        return seconds

    return run


def peer_timer(peer: PeerWorker, side: str, clock: str = "wall"):
    return lambda steps: peer.request("time", side=side, steps=steps, clock=clock)["seconds"]


def alternate(timers: dict, rounds: int, chunk: int, warmup: int) -> dict[str, float]:
    """Median seconds per step of each timer, chunks alternating, order reversed each round."""
    for timer in timers.values():
        timer(warmup)
    times = {name: [] for name in timers}
    names = list(timers)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            times[name] += timers[name](chunk)
    return {name: float(np.median(values)) for name, values in times.items()}


def speed(args, peer) -> list[str]:
    rng = np.random.default_rng(0)
    x = rng.random((args.batch, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 10, args.batch)
    lines = [
        "| model | params | XLA | ours plain ms | ours private ms | ours ratio "
        "| Opacus plain ms | Opacus private ms | Opacus ratio | ratio of ratios |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in args.models:
        timers, params = {}, None
        if peer is not None:
            info = peer.request("setup", model=name, batch=args.batch, threads=args.threads)
            timers = {"opacus_plain": peer_timer(peer, "plain", args.clock)}
            timers["opacus_private"] = peer_timer(peer, "private", args.clock)
        for jit in args.jit:
            plain, private = compiled(name, False, jit), compiled(name, True, jit)
            params = plain.count_params()
            if peer is not None and info["params"] != params:
                raise RuntimeError(f"{name}: {params} parameters here, {info['params']} in torch")
            sides = {
                "plain": ours_timer(plain, x, y, args.clock),
                "private": ours_timer(private, x, y, args.clock),
            }
            result = alternate({**sides, **timers}, args.rounds, args.chunk, args.warmup)
            ours = result["private"] / result["plain"]
            cells = [name, str(params), str(jit), f"{1e3 * result['plain']:.2f}"]
            cells += [f"{1e3 * result['private']:.2f}", f"{ours:.2f}x"]
            if peer is not None:
                theirs = result["opacus_private"] / result["opacus_plain"]
                cells += [f"{1e3 * result['opacus_plain']:.2f}"]
                cells += [f"{1e3 * result['opacus_private']:.2f}", f"{theirs:.2f}x"]
                cells += [f"{theirs / ours:.2f}"]
            else:
                cells += ["-"] * 4
            lines.append("| " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    return lines


def noise_for_epsilon(target: float, rate: float, steps: int, delta: float) -> float:
    """The smallest noise multiplier (to 1e-3) whose epsilon is at most `target`."""
    low, high = 0.3, 50.0
    while high - low > 1e-3:
        middle = (low + high) / 2
        if compute_epsilon(middle, rate, steps, delta) > target:
            low = middle
        else:
            high = middle
    return high


def learning(args) -> list[str]:
    digits = load_digits(dtype="float32")
    (x, y), (x_test, y_test) = (digits.train.x, digits.train.y), (digits.test.x, digits.test.y)
    batch, epochs, delta = 64, args.epochs, 1e-5
    rate = batch / len(x)
    steps = epochs * int(np.ceil(len(x) / batch))
    lines = [
        f"| epsilon (delta {delta:g}) | noise multiplier | test accuracy |",
        "|---|---|---|",
    ]
    for target in (*args.epsilons, None):
        if target is None:
            model = compiled("mlp", False, False, lr=args.lr)
            callbacks, noise = [], None
        else:
            noise = noise_for_epsilon(target, rate, steps, delta)
            model = compiled("mlp", True, False, noise=noise, lr=args.lr)
            callbacks = [PrivateTraining()]
        model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, callbacks=callbacks)
        accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
        spent = (
            "no privacy" if target is None else f"{compute_epsilon(noise, rate, steps, delta):.2f}"
        )
        noise_cell = "-" if noise is None else f"{noise:.3f}"
        lines.append(f"| {spent} | {noise_cell} | {accuracy:.3f} |")
        print(lines[-1], flush=True)
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--chunk", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--models", nargs="+", choices=["mlp", "cnn"], default=["mlp", "cnn"])
    parser.add_argument("--jit", type=lambda s: s == "true", nargs="+", default=[False, True])
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="wall", help="time steps by wall or CPU time"
    )
    parser.add_argument("--learning", action="store_true", help="the accuracy table instead")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--epsilons", type=float, nargs="+", default=[1.0, 3.0, 8.0])
    parser.add_argument("--quick", action="store_true", help="a smoke test: a few steps")
    parser.add_argument(
        "--peer-python",
        default=os.environ.get("OPACUS_PYTHON", ".venv-opacus/bin/python"),
        help="Opacus's interpreter; 'none' skips the peer",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.chunk, args.warmup, args.epochs = 2, 2, 1, 1
    if args.learning:
        print("\n".join(learning(args)))
        return
    # Our side's thread count, as torch's (set before TensorFlow's runtime starts).
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    python = None if args.peer_python == "none" else args.peer_python
    if python is not None and not os.path.exists(python):
        print(f"No Opacus environment at {python}: the Opacus columns stay empty.")
        python = None
    peer = None
    if python is not None:
        log = os.path.join(tempfile.gettempdir(), "bench_dp_peer.log")
        peer = PeerWorker(
            "Opacus", python, os.path.join(os.path.dirname(__file__), "dp_peer.py"), log
        )
    try:
        lines = speed(args, peer)
    finally:
        if peer is not None:
            peer.close()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
