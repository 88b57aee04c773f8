"""The local model server under load, against the SavedModel signature called in-process.

Two parts, all on localhost, every loop bounded in requests and in time:

1. Latency: for a small model (`cnn_digits`, 8x8x1) and a mid-size one (the same CNN family on
   64x64x3), one example per request, sequential p50/p99 and the throughput of 8 client threads,
   through REST (`serving.Client`), gRPC (`serving.GrpcClient`) and the signature in-process.
2. Load: the toy model of the serving docs (4 -> 6 -> 3), one example per request, a sweep of
   1/16/64/256 concurrent clients (threads) through REST with a new connection per request
   (urllib, as `curl` or a naive client does), REST through the pooled `serving.Client`, and gRPC
   (one shared `GrpcClient`), with and without `--enable-batching`. Each cell counts lost
   requests (an error, a non-200 answer or wrong numbers), and gives p50/p99 and req/s; req/s is
   also given as a ratio to the single-thread in-process call rate of the same signature,
   measured in the same run just before the cell.

Run: `.venv/bin/python -m benchmarks.bench_serving` (`--quick` for fewer requests;
`--part latency` or `--part load` for one part).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import tempfile
import threading
import time
import urllib.request

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import orjson  # noqa: E402
import tensorflow as tf  # noqa: E402

import serving  # noqa: E402
import zoo  # noqa: E402

MODELS = {
    "small": {"input_shape": (8, 8, 1), "filters": (32, 64)},
    "mid": {"input_shape": (64, 64, 3), "filters": (32, 64, 128)},
}
LATENCY_CLIENTS = 8
CONCURRENCY = (1, 16, 64, 256)
# Requests per cell of the load sweep (quick runs divide them by 10), and a time cap per cell.
REQUESTS = {1: 500, 16: 3000, 64: 5000, 256: 10_000}
CELL_SECONDS = 30.0
# Batching for the toy model: batches run as soon as a thread is free (timeout 0), holding what
# arrived while the threads were busy; large queues so that no request is refused.
BATCHING = """\
max_batch_size { value: 256 }
batch_timeout_micros { value: 0 }
max_enqueued_batches { value: 1000 }
num_batch_threads { value: 2 }
"""


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
        for i in range(t, n, LATENCY_CLIENTS):
            call(inputs[i % len(inputs)])

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(LATENCY_CLIENTS) as pool:
        list(pool.map(worker, range(LATENCY_CLIENTS)))
    return n / (time.perf_counter() - start)


def run_latency(n_latency: int = 300, n_throughput: int = 600) -> list[dict]:
    """Part 1: sequential p50/p99 and 8-client req/s of REST, gRPC and in-process."""
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


def toy_model() -> keras.Model:
    """The serving docs' toy model: 4 inputs -> Dense(6, relu) -> Dense(3)."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(6, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(3, name="y")(hidden))


def in_process_rate(signature, x: np.ndarray, seconds: float = 1.0) -> float:
    """Single-thread calls per second of the loaded signature on one example."""
    signature(x=tf.constant(x[:1]))
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        signature(x=tf.constant(x[calls % len(x)][None]))
        calls += 1
    return calls / (time.perf_counter() - start)


class _Urllib:
    """REST with a new connection per request (urllib sends `Connection: close`)."""

    def __init__(self, url: str):
        self.url = url + "/v1/models/toy:predict"

    def __call__(self, row: np.ndarray) -> np.ndarray:
        body = orjson.dumps({"inputs": row[None]}, option=orjson.OPT_SERIALIZE_NUMPY)
        request = urllib.request.Request(self.url, data=body, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            return np.asarray(orjson.loads(response.read())["outputs"])[0]


def load_cell(call, x: np.ndarray, expected: np.ndarray, clients: int, n: int) -> dict:
    """`n` requests from `clients` threads (stopping after CELL_SECONDS): losses and timings."""
    lost, done, latencies, errors = [0], [0], [], {}
    lock = threading.Lock()
    deadline = time.monotonic() + CELL_SECONDS

    def worker(t):
        mine = []
        for i in range(t, n, clients):
            if time.monotonic() > deadline:
                break
            start = time.perf_counter()
            try:
                ok = np.allclose(call(x[i % len(x)]), expected[i % len(x)], atol=1e-5)
                error = None if ok else "wrong numbers"
            except Exception as e:  # every failure counts as a lost request
                ok, error = False, f"{type(e).__name__}: {str(e)[:80]}"
            mine.append(time.perf_counter() - start)
            with lock:
                done[0] += 1
                if not ok:
                    lost[0] += 1
                    errors[error] = errors.get(error, 0) + 1
        with lock:
            latencies.extend(mine)

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    elapsed = time.perf_counter() - start
    ms = np.asarray(latencies) * 1000.0
    return {
        "requests": done[0],
        "lost": lost[0],
        "errors": errors,
        "p50": float(np.percentile(ms, 50)),
        "p99": float(np.percentile(ms, 99)),
        "rps": done[0] / elapsed,
    }


def run_load(scale: float = 1.0) -> tuple[float, list[dict]]:
    """Part 2: the concurrency sweep; the median in-process rate and one row per cell.

    The in-process rate is measured again just before each cell (the machine's load may
    change during the run), and each cell's ratio is to that measurement.
    """
    rows = []
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 4)).astype(np.float32)
    with tempfile.TemporaryDirectory() as base:
        model = toy_model()
        serving.export(model, base, "toy")
        expected = model.predict(x, verbose=0)
        signature = tf.saved_model.load(os.path.join(base, "toy", "1")).signatures[
            "serving_default"
        ]
        rates = []
        batching_file = os.path.join(base, "batching.config")
        with open(batching_file, "w") as f:
            f.write(BATCHING)
        for batching in (False, True):
            options = {"batching_parameters_file": batching_file} if batching else {}
            with serving.local_server(
                base, grpc_port=0, enable_batching=batching, **options
            ) as server:
                rest = serving.Client(server.url, "toy")
                grpc_client = serving.GrpcClient(server.grpc_target, "toy")
                paths = {
                    "REST, new connection each": _Urllib(server.url),
                    "REST, serving.Client": lambda row, c=rest: c.predict(row[None])[0],
                    "gRPC, serving.GrpcClient": lambda row, c=grpc_client: c.predict(
                        {"x": row[None]}
                    )["y"][0],
                }
                for path, call in paths.items():
                    call(x[0])  # connect and warm up
                    for clients in CONCURRENCY:
                        n = max(clients, int(REQUESTS[clients] * scale))
                        rates.append(in_process_rate(signature, x))
                        cell = load_cell(call, x, expected, clients, n)
                        cell.update(
                            path=path, clients=clients, batching=batching, in_process=rates[-1]
                        )
                        rows.append(cell)
                        print(_load_row(cell), flush=True)
                grpc_client.close()
                rest.close()
    return float(np.median(rates)), rows


def _load_row(row: dict) -> str:
    errors = "; ".join(f"{n}x {e}" for e, n in row["errors"].items()) or ""
    return (
        f"| {row['path']} | {'on' if row['batching'] else 'off'} | {row['clients']} | "
        f"{row['requests']} | {row['lost']} | {row['p50']:.2f} | {row['p99']:.2f} | "
        f"{row['rps']:.0f} | {row['in_process']:.0f} | {row['rps'] / row['in_process']:.2f}x |"
        + (f" {errors}" if errors else "")
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_serving")
    parser.add_argument("--quick", action="store_true", help="a tenth of the requests")
    parser.add_argument("--part", choices=("latency", "load", "both"), default="both")
    args = parser.parse_args(argv)
    if args.part in ("latency", "both"):
        rows = run_latency(100, 200) if args.quick else run_latency()
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
                f"{row['rps']:.0f} | {row['p50'] / ref['p50']:.1f}x | "
                f"{row['rps'] / ref['rps']:.2f}x |",
                flush=True,
            )
    if args.part in ("load", "both"):
        print(
            "\n| path | batching | clients | requests | lost | p50 ms | p99 ms | req/s | "
            "in-process calls/s | req/s vs in-process |\n"
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            flush=True,
        )
        in_process, _ = run_load(0.1 if args.quick else 1.0)
        print(
            f"\nIn-process signature, one thread: median {in_process:.0f} calls/s "
            "(measured before each cell)",
            flush=True,
        )


if __name__ == "__main__":
    main()
