"""Workflow at scale: MirroredStrategy on 2 logical CPU devices vs 1, and time per Hyperband trial.

Each strategy runs in a fresh process (logical devices must be configured before TensorFlow
starts). Run: `python -m benchmarks.bench_workflow`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

EPOCHS = 4
BATCH_SIZE = 256


def _measure_training(strategy: str, cpu_devices: int | None) -> dict:
    """Times `fit` epochs (after one warm-up epoch) of cnn_digits on the built-in digits."""
    import zoo
    from zoo.distribute import make_strategy
    from zoo.train import TrainConfig, load_datasets

    dist = make_strategy(strategy, cpu_devices)
    with dist.scope():
        model = zoo.create("cnn_digits")
    config = TrainConfig(model="cnn_digits", batch_size=BATCH_SIZE, shuffle=False)
    train, _ = load_datasets(config, model.input_shape[1:])
    train = train.cache()
    model.fit(train, epochs=1, verbose=0)
    examples = sum(int(x.shape[0]) for x, _ in train)
    start = time.perf_counter()
    model.fit(train, epochs=EPOCHS, verbose=0)
    seconds = (time.perf_counter() - start) / EPOCHS
    return {
        "replicas": dist.num_replicas_in_sync,
        "seconds_per_epoch": seconds,
        "examples_per_second": examples / seconds,
    }


def _run_worker(strategy: str, cpu_devices: int | None) -> dict:
    command = [sys.executable, "-m", "benchmarks.bench_workflow", "--worker", strategy]
    if cpu_devices:
        command += ["--cpu-devices", str(cpu_devices)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def _measure_hyperband() -> dict:
    from zoo.tuning import tune

    with tempfile.TemporaryDirectory() as directory:
        start = time.perf_counter()
        result = tune(
            "mlp_digits",
            directory=directory,
            tuner="hyperband",
            epochs=9,
            batch_size=64,
            verbose=0,
        )
        seconds = time.perf_counter() - start
    return {"trials": result["trials"], "seconds": seconds, "best": result["score"]}


def main() -> None:
    one = _run_worker("default", None)
    two = _run_worker("mirrored", 2)
    print("### MirroredStrategy: 2 logical CPU devices vs 1\n")
    print(f"cnn_digits on the digits training split, global batch {BATCH_SIZE}, ")
    print(f"mean of {EPOCHS} epochs after a warm-up epoch.\n")
    print("| strategy | replicas | s / epoch | examples / s | speed-up |")
    print("|---|---|---|---|---|")
    for name, row in (("default (1 device)", one), ("mirrored (2 logical CPUs)", two)):
        speedup = row["examples_per_second"] / one["examples_per_second"]
        print(
            f"| {name} | {row['replicas']} | {row['seconds_per_epoch']:.3f} | "
            f"{row['examples_per_second']:.0f} | {speedup:.2f}x |"
        )
    hyperband = _measure_hyperband()
    print("\n### Hyperband trial time\n")
    print("`zoo tune mlp_digits --tuner hyperband --epochs 9` (factor 3), digits, batch 64.\n")
    print("| trials | total s | s / trial | best val_accuracy |")
    print("|---|---|---|---|")
    print(
        f"| {hyperband['trials']} | {hyperband['seconds']:.1f} | "
        f"{hyperband['seconds'] / hyperband['trials']:.2f} | {hyperband['best']:.4f} |"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=("default", "mirrored"))
    parser.add_argument("--cpu-devices", type=int)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_measure_training(args.worker, args.cpu_devices)))
    else:
        main()
