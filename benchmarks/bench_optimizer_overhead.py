"""Per-step cost of the optimizer wrappers against the bare optimizer, on a small MLP.

Each row trains the same model on the same batches with `fit`; the ratio is the wrapped
optimizer's best round time per step divided by the bare optimizer's, measured in the same run
(interleaved rounds; the best round is the one least disturbed by other load on the machine).

Run: `.venv/bin/python -m benchmarks.bench_optimizer_overhead`
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from layers.optimizers import LARS, GradientCentralization, Lookahead, RAdam, Ranger  # noqa: E402

BATCH = 256
STEPS = 60
ROUNDS = 7
WIDTH = 512


def pairs():
    """(label, bare optimizer factory, wrapped optimizer factory)."""
    return [
        ("Lookahead(Adam)", lambda: keras.optimizers.Adam(1e-3), lambda: Lookahead("adam")),
        (
            "GradientCentralization(Adam)",
            lambda: keras.optimizers.Adam(1e-3),
            lambda: GradientCentralization("adam"),
        ),
        ("Ranger vs RAdam", lambda: RAdam(1e-3), lambda: Ranger(1e-3)),
        ("RAdam vs keras Adam", lambda: keras.optimizers.Adam(1e-3), lambda: RAdam(1e-3)),
        (
            "LARS vs keras SGD(momentum)",
            lambda: keras.optimizers.SGD(0.1, momentum=0.9),
            lambda: LARS(0.1),
        ),
    ]


def build(optimizer) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(WIDTH, activation="relu"),
            keras.layers.Dense(WIDTH, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def seconds_per_step(model, x, y) -> float:
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
    return (time.perf_counter() - start) / STEPS


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH * STEPS, 64)).astype("float32")
    y = rng.integers(0, 10, size=(BATCH * STEPS,))
    print(
        f"MLP 64-{WIDTH}-{WIDTH}-10, batch {BATCH}, {STEPS} steps x {ROUNDS} rounds "
        "(best round: the least disturbed by other load)\n"
    )
    print("| optimizer | bare ms/step | wrapped ms/step | ratio |")
    print("|---|---|---|---|")
    for label, bare_fn, wrapped_fn in pairs():
        bare, wrapped = build(bare_fn()), build(wrapped_fn())
        seconds_per_step(bare, x, y)  # trace and warm up
        seconds_per_step(wrapped, x, y)
        bare_times, wrapped_times = [], []
        for _ in range(ROUNDS):
            bare_times.append(seconds_per_step(bare, x, y))
            wrapped_times.append(seconds_per_step(wrapped, x, y))
        b, w = min(bare_times) * 1e3, min(wrapped_times) * 1e3
        print(f"| {label} | {b:.2f} | {w:.2f} | {w / b:.3f} |", flush=True)


if __name__ == "__main__":
    main()
