"""Latency and throughput of the local model server vs calling the loaded SavedModel directly.

For a small model (`cnn_digits`, 8x8x1) and a mid-size one (the same CNN family on 64x64x3 with
three stages), one example per request: sequential latency (p50/p99) and the throughput of 8
concurrent clients, through REST (`serving.Client`), gRPC (`serving.GrpcClient`) and the
SavedModel's `serving_default` called in-process (the floor any server adds to).

Run: `.venv/bin/python -m benchmarks.bench_serving` (`--quick` for fewer requests).
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import serving  # noqa: E402
import zoo  # noqa: E402

MODELS = {
    "small": {"input_shape": (8, 8, 1), "filters": (32, 64)},
    "mid": {"input_shape": (64, 64, 3), "filters": (32, 64, 128)},
}
CONCURRENCY = 8


def _latencies(call, inputs, n):
    call(inputs[0])  # warm-up outside the timing
    times = []
    for i in range(n):
        start = time.perf_counter()
        call(inputs[i % len(inputs)])
        times.append(time.perf_counter() - start)
    return np.asarray(times) * 1000.0


def _throughput(call, inputs, n):
    def worker(t):
        for i in range(t, n, CONCURRENCY):
            call(inputs[i % len(inputs)])

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(worker, range(CONCURRENCY)))
    return n / (time.perf_counter() - start)


def run(n_latency: int = 300, n_throughput: int = 600) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as base:
        params = {}
        for name, config in MODELS.items():
            model = zoo.create("cnn_digits", **config)
            params[name] = model.count_params()
            serving.export(model, base, name)
        with serving.local_server(base, grpc_port=0) as server:
            for name, config in MODELS.items():
                rng = np.random.default_rng(0)
                inputs = [
                    rng.random((1, *config["input_shape"]), dtype=np.float32) for _ in range(16)
                ]
                signature = tf.saved_model.load(os.path.join(base, name, "1")).signatures[
                    "serving_default"
                ]
                rest = serving.Client(server.url, name)
                grpc_client = serving.GrpcClient(server.grpc_target, name)
                paths = {
                    "SavedModel in-process": lambda x, s=signature: s(images=tf.constant(x)),
                    "gRPC": lambda x, c=grpc_client: c.predict({"images": x}),
                    "REST": lambda x, c=rest: c.predict({"images": x}),
                }
                for path, call in paths.items():
                    latency = _latencies(call, inputs, n_latency)
                    rows.append(
                        {
                            "model": f"{name} ({params[name] / 1000:.0f}k params, "
                            f"{'x'.join(map(str, config['input_shape']))})",
                            "path": path,
                            "p50": float(np.percentile(latency, 50)),
                            "p99": float(np.percentile(latency, 99)),
                            "rps": _throughput(call, inputs, n_throughput),
                        }
                    )
                grpc_client.close()
    return rows


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    quick = "--quick" in argv
    rows = run(100, 200) if quick else run()
    print(
        "| model | path | p50 ms | p99 ms | req/s (8 clients) | p50 vs in-process | "
        "req/s vs in-process |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    base = {}
    for row in rows:
        if row["path"] == "SavedModel in-process":
            base[row["model"]] = row
        ref = base[row["model"]]
        print(
            f"| {row['model']} | {row['path']} | {row['p50']:.2f} | {row['p99']:.2f} | "
            f"{row['rps']:.0f} | {row['p50'] / ref['p50']:.1f}x | {row['rps'] / ref['rps']:.2f}x |"
        )


if __name__ == "__main__":
    main()
