"""EWC vs plain fine-tuning on two digits tasks (original, then pixel-permuted): forgetting of A.

Run: `.venv/bin/python -m benchmarks.bench_ewc`
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from layers.callbacks import EWC  # noqa: E402

EPOCHS = 15
SEEDS = (0, 1, 2)
LAMBDAS = (0.0, 100.0, 1000.0)


def tasks():
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=0.3, random_state=0, stratify=digits.target
    )
    permutation = np.random.default_rng(123).permutation(64)
    task_a = (x_train, y_train, x_test, y_test)
    task_b = (x_train[:, permutation], y_train, x_test[:, permutation], y_test)
    return task_a, task_b


def build(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10)]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def run(seed: int, ewc_lambda: float, task_a, task_b) -> tuple[float, float, float]:
    model = build(seed)
    model.fit(task_a[0], task_a[1], batch_size=32, epochs=EPOCHS, verbose=0)
    before = model.evaluate(task_a[2], task_a[3], verbose=0)[1]
    callbacks = []
    if ewc_lambda:
        callbacks = [EWC.consolidate(model, (task_a[0], task_a[1]), ewc_lambda=ewc_lambda)]
    model.fit(task_b[0], task_b[1], batch_size=32, epochs=EPOCHS, verbose=0, callbacks=callbacks)
    after = model.evaluate(task_a[2], task_a[3], verbose=0)[1]
    on_b = model.evaluate(task_b[2], task_b[3], verbose=0)[1]
    return before, after, on_b


def main() -> None:
    task_a, task_b = tasks()
    print(
        "digits (A) then pixel-permuted digits (B), 70/30 split, MLP 64-64-10, "
        f"SGD(0.05, m=0.9), {EPOCHS} epochs per task, empirical Fisher, seeds {SEEDS}\n"
    )
    print("| method | A test acc. after A | A test acc. after B | B test acc. after B |")
    print("|---|---|---|---|")
    for ewc_lambda in LAMBDAS:
        rows = np.array([run(s, ewc_lambda, task_a, task_b) for s in SEEDS])
        name = "plain fine-tuning" if not ewc_lambda else f"EWC, lambda={ewc_lambda:g}"
        cells = " | ".join(
            f"{m:.4f} ± {s:.4f}" for m, s in zip(rows.mean(0), rows.std(0), strict=True)
        )
        print(f"| {name} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
