"""QRNN vs keras LSTM: training time per epoch on the same sequence task, same width.

The task is the adding problem (Hochreiter & Schmidhuber 1997): each step holds a random value
and a 0/1 marker, and the target is the sum of the two marked values. Both models are
`Input -> recurrent layer (units) -> Dense(1)`, trained with Adam on the same data; the first
epoch (tracing) is excluded from the timing.

Run: `.venv/bin/python -m benchmarks.bench_qrnn` (add `--quick` for a scaled-down run).
"""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from layers.recurrent import QRNN  # noqa: E402


def adding_problem(samples: int, steps: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = rng.uniform(size=(samples, steps))
    markers = np.zeros((samples, steps))
    for row in range(samples):
        markers[row, rng.choice(steps, size=2, replace=False)] = 1.0
    x = np.stack([values, markers], axis=-1).astype("float32")
    y = (values * markers).sum(axis=1, keepdims=True).astype("float32")
    return x, y


def build(recurrent: keras.layers.Layer, steps: int) -> keras.Model:
    inputs = keras.Input((steps, 2))
    model = keras.Model(inputs, keras.layers.Dense(1)(recurrent(inputs)))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    return model


def seconds_per_epoch(model, x, y, batch_size: int, epochs: int) -> tuple[float, float]:
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)  # trace and warm up
    times, loss = [], float("nan")
    for _ in range(epochs):
        start = time.perf_counter()
        history = model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
        times.append(time.perf_counter() - start)
        loss = history.history["loss"][-1]
    return statistics.median(times), loss


def main(argv: list[str] | None = None) -> None:
    quick = "--quick" in (sys.argv[1:] if argv is None else argv)
    samples, steps, units, batch_size, epochs = (
        (512, 50, 32, 64, 2) if quick else (2048, 100, 64, 64, 3)
    )
    keras.utils.set_random_seed(0)
    x, y = adding_problem(samples, steps)
    rows = []
    for name, layer in (
        ("keras LSTM", keras.layers.LSTM(units)),
        ("QRNN (window 2)", QRNN(units, window_size=2)),
    ):
        seconds, loss = seconds_per_epoch(build(layer, steps), x, y, batch_size, epochs)
        rows.append((name, seconds, loss))
    baseline = rows[0][1]
    print(
        f"\nAdding problem, {samples} sequences x {steps} steps, {units} units, "
        f"batch {batch_size}, median of {epochs} epochs\n"
    )
    print("| layer | s / epoch | speed-up vs LSTM | loss after epochs |")
    print("|---|---|---|---|")
    for name, seconds, loss in rows:
        print(f"| {name} | {seconds:.2f} | {baseline / seconds:.2f}x | {loss:.4f} |")


if __name__ == "__main__":
    main()
