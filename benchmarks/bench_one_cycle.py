"""One-cycle vs constant learning rate: epochs needed to reach a target accuracy on digits.

SGD with momentum 0.9 trains an MLP on scikit-learn's digits (70/30 stratified split). Constant
rates train up to `MAX_EPOCHS` and report the first epoch whose held-out accuracy reaches
`TARGET`. One-cycle is a schedule planned for a given budget, so it is trained once per budget
in `BUDGETS` and reports the smallest budget whose final accuracy reaches `TARGET`. 3 seeds.

Run: `.venv/bin/python -m benchmarks.bench_one_cycle`
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from layers.schedules import OneCycle  # noqa: E402

TARGET = 0.97
MAX_EPOCHS = 30
BUDGETS = (2, 3, 4, 5, 6, 8, 10, 15, 20, 30)
CONSTANT_RATES = (0.01, 0.05, 0.2)
ONE_CYCLE_PEAK = 0.2
BATCH = 64
SEEDS = (0, 1, 2)


def digits_split():
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    return train_test_split(x, digits.target, test_size=0.3, random_state=0, stratify=digits.target)


def build(seed: int, learning_rate) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10)]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def epochs_to_target_constant(seed, rate, split) -> int | None:
    x_train, x_test, y_train, y_test = split
    history = build(seed, rate).fit(
        x_train,
        y_train,
        batch_size=BATCH,
        epochs=MAX_EPOCHS,
        validation_data=(x_test, y_test),
        verbose=0,
    )
    hits = [i + 1 for i, a in enumerate(history.history["val_accuracy"]) if a >= TARGET]
    return hits[0] if hits else None


def smallest_one_cycle_budget(seed, split) -> int | None:
    x_train, x_test, y_train, y_test = split
    steps_per_epoch = int(np.ceil(len(x_train) / BATCH))
    for budget in BUDGETS:
        schedule = OneCycle(ONE_CYCLE_PEAK, total_steps=budget * steps_per_epoch)
        model = build(seed, schedule)
        model.fit(x_train, y_train, batch_size=BATCH, epochs=budget, verbose=0)
        _, accuracy = model.evaluate(x_test, y_test, verbose=0)
        if accuracy >= TARGET:
            return budget
    return None


def summarise(values) -> str:
    reached = [v for v in values if v is not None]
    shown = ", ".join("-" if v is None else str(v) for v in values)
    mean = f"{np.mean(reached):.1f}" if len(reached) == len(values) else "n/a"
    return f"{mean} ({shown})"


def main() -> None:
    split = digits_split()
    print(f"Epochs to {TARGET:.0%} held-out accuracy (mean, per seed; '-' = not within budget)\n")
    print("| schedule | epochs to target |")
    print("|---|---|")
    one_cycle = [smallest_one_cycle_budget(seed, split) for seed in SEEDS]
    print(f"| OneCycle(max {ONE_CYCLE_PEAK}) | {summarise(one_cycle)} |", flush=True)
    for rate in CONSTANT_RATES:
        constant = [epochs_to_target_constant(seed, rate, split) for seed in SEEDS]
        print(f"| constant {rate} | {summarise(constant)} |", flush=True)


if __name__ == "__main__":
    main()
