"""Read throughput of `tfrecords.read` beside the tutorial pipeline and the raw-bytes limit.

For (a) small records (four scalar features) and (b) 32x32x3 uint8 images, the same shards are
read three ways in one run: `tfrecords.read` (batch, then vectorised parse); the hand-written
pipeline from the TensorFlow TFRecord tutorial (`TFRecordDataset` -> `map(parse_single_example)`
-> `batch`); and `TFRecordDataset(...).batch` with no parsing at all (the disk/CRC limit).
Each is timed over full passes after a warm-up; the best of `REPEATS` passes is reported.

Run: `python -m benchmarks.bench_tfrecords`.
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np
import tensorflow as tf

import tfrecords

BATCH = 256
REPEATS = 3
NUM_SHARDS = 4
CASES = {"small records": 200_000, "32x32x3 uint8 images": 40_000}


def _data(case: str, n: int) -> dict:
    rng = np.random.default_rng(0)
    if case == "small records":
        return {
            "a": rng.normal(size=n).astype(np.float32),
            "b": rng.normal(size=n).astype(np.float32),
            "c": rng.integers(0, 1000, n),
            "label": rng.integers(0, 10, n),
        }
    return {
        "image": rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
        "label": rng.integers(0, 10, n),
    }


def _tutorial_pipeline(files: list[str], data: dict) -> tf.data.Dataset:
    """What the TensorFlow tutorial teaches: a feature description, parse one, then batch."""
    # tfrecords.write stores every number as raw bytes; the tutorial user decodes the same.
    description = {name: tf.io.FixedLenFeature([], tf.string) for name in data}

    def parse(record):
        example = tf.io.parse_single_example(record, description)
        return {
            name: tf.reshape(
                tf.io.decode_raw(example[name], tf.as_dtype(column.dtype)), column.shape[1:]
            )
            for name, column in data.items()
        }

    return tf.data.TFRecordDataset(files).map(parse).batch(BATCH)


def _best_rate(make_dataset, n: int) -> float:
    best = 0.0
    for _ in range(REPEATS):
        dataset = make_dataset()
        for _ in dataset.take(2):
            pass
        start = time.perf_counter()
        for _ in dataset:
            pass
        best = max(best, n / (time.perf_counter() - start))
    return best


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for case, n in CASES.items():
            data = _data(case, n)
            prefix = os.path.join(directory, case.split()[0])
            files = tfrecords.write(data, prefix, num_shards=NUM_SHARDS, verbose=0)
            record_bytes = sum(os.path.getsize(f) for f in files) / n
            rates = {
                "tfrecords.read": _best_rate(
                    lambda f=files: tfrecords.read(f, batch_size=BATCH), n
                ),
                "tutorial (parse_single_example)": _best_rate(
                    lambda f=files, d=data: _tutorial_pipeline(f, d), n
                ),
                "raw bytes (no parsing)": _best_rate(
                    lambda f=files: tf.data.TFRecordDataset(f).batch(BATCH), n
                ),
            }
            for name, rate in rates.items():
                rows.append(
                    (
                        case,
                        name,
                        rate,
                        rate * record_bytes / 2**20,
                        rates["tfrecords.read"] / rates["tutorial (parse_single_example)"],
                        rate / rates["raw bytes (no parsing)"],
                    )
                )
    print(f"records read in batches of {BATCH} from {NUM_SHARDS} shards; best of {REPEATS}\n")
    print(
        "| data | pipeline | records/s | MB/s | tfrecords.read / tutorial | pipeline / raw bytes |"
    )
    print("|---|---|---:|---:|---:|---:|")
    for case, name, rate, mb, speedup, of_raw in rows:
        speed = f"{speedup:.1f}x" if name == "tfrecords.read" else ""
        print(f"| {case} | {name} | {rate:,.0f} | {mb:,.1f} | {speed} | {of_raw:.0%} |")


if __name__ == "__main__":
    main()
