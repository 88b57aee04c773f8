"""SparseAttention vs keras MultiHeadAttention: forward time and peak memory by sequence length.

Each configuration runs in a fresh subprocess whose address space is capped (`--memory-cap-gib`,
6 GiB by default) so that a dense attention that does not fit fails alone instead of taking the
machine down; its peak resident memory (`ru_maxrss`) is read at the end. Batch 1, 4 heads of
16 dimensions, 64 features, forward pass inside `tf.function`, median of a few calls after a
warm-up.

Run: `python -m benchmarks.bench_sparse_attention` (add `--lengths 1024 4096` to scale down).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time

LENGTHS = (1024, 4096, 16384)
HEADS, KEY_DIM, FEATURES = 4, 16, 64
IMPLEMENTATIONS = ("dense", "strided", "local")
LOCAL_BLOCK = 128


def strided_block_size(length: int) -> int:
    """The paper's choice, l close to sqrt(length), rounded to a power of two."""
    return 2 ** round(math.log2(math.sqrt(length)))


def _worker(implementation: str, length: int, repeats: int) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np
    import tensorflow as tf

    from layers.attention import SparseAttention

    x = tf.constant(np.random.default_rng(0).normal(size=(1, length, FEATURES)), "float32")
    if implementation == "dense":
        layer = keras.layers.MultiHeadAttention(HEADS, KEY_DIM)
        layer(x[:, :8], x[:, :8])
        fn = tf.function(lambda t: layer(t, t))
    else:
        block = strided_block_size(length) if implementation == "strided" else LOCAL_BLOCK
        layer = SparseAttention(HEADS, KEY_DIM, pattern=implementation, block_size=block)
        layer(x[:, :8])
        fn = tf.function(lambda t: layer(t))
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fn(x).numpy()  # trace and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(x).numpy()
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": float(np.median(times)),
        "peak_mib": peak / 1024,
        "attention_mib": (peak - baseline) / 1024,
    }


def _run(implementation: str, length: int, repeats: int, cap_gib: float) -> dict | None:
    cap = int(cap_gib * 2**30)

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    command = [sys.executable, "-m", "benchmarks.bench_sparse_attention", "--worker"]
    command += [implementation, str(length), "--repeats", str(repeats)]
    result = subprocess.run(
        command, capture_output=True, text=True, preexec_fn=limit_memory, check=False
    )
    if result.returncode != 0:
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=list(LENGTHS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-cap-gib", type=float, default=6.0)
    parser.add_argument("--worker", nargs=2, metavar=("IMPLEMENTATION", "LENGTH"))
    args = parser.parse_args(argv if argv is not None else [])
    if args.worker:
        print(json.dumps(_worker(args.worker[0], int(args.worker[1]), args.repeats)))
        return

    print(
        f"batch 1, {HEADS} heads x {KEY_DIM} dims, {FEATURES} features, forward pass, "
        f"memory capped at {args.memory_cap_gib:g} GiB per process"
    )
    print()
    columns = ["length", "attention", "time (ms)", "time vs dense", "peak RSS (MiB)"]
    columns += ["added by the call (MiB)", "memory vs dense"]
    print("| " + " | ".join(columns) + " |")
    print("|---|---|---|---|---|---|---|")
    for length in args.lengths:
        dense = None
        for implementation in IMPLEMENTATIONS:
            result = _run(implementation, length, args.repeats, args.memory_cap_gib)
            if implementation == "dense":
                dense = result
                name = "keras MultiHeadAttention"
            elif implementation == "strided":
                name = f"SparseAttention strided, l={strided_block_size(length)}"
            else:
                name = f"SparseAttention local, l={LOCAL_BLOCK}"
            if result is None:
                print(
                    f"| {length} | {name} | out of memory (> {args.memory_cap_gib:g} GiB) | | | | |"
                )
                continue
            if dense is not None and implementation != "dense":
                time_ratio = f"{result['seconds'] / dense['seconds']:.2f}x"
                memory_ratio = f"{result['attention_mib'] / max(dense['attention_mib'], 1):.3f}x"
            else:
                time_ratio = memory_ratio = "1.00x" if implementation == "dense" else "dense OOM"
            print(
                f"| {length} | {name} | {result['seconds'] * 1000:.1f} | {time_ratio} | "
                f"{result['peak_mib']:.0f} | {result['attention_mib']:.0f} | {memory_ratio} |",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:])
