"""SWA vs plain training on the same epoch budget: held-out scikit-learn digits, 3 seeds.

Run: `.venv/bin/python -m benchmarks.bench_swa`
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from layers.callbacks import SWA  # noqa: E402

EPOCHS = 30
SWA_START = 20
SEEDS = (0, 1, 2)


def digits_split():
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    return train_test_split(x, digits.target, test_size=0.3, random_state=0, stratify=digits.target)


def build(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(128),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def run(seed: int, use_swa: bool, split) -> tuple[float, float, float]:
    x_train, x_test, y_train, y_test = split
    model = build(seed)
    callbacks = [SWA(SWA_START, swa_learning_rate=0.05, bn_data=x_train)] if use_swa else []
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=32, epochs=EPOCHS, verbose=0, callbacks=callbacks)
    seconds = time.perf_counter() - start
    nll, accuracy = model.evaluate(x_test, y_test, verbose=0)
    return accuracy, nll, seconds


def main() -> None:
    split = digits_split()
    results = {name: [run(s, name == "SWA", split) for s in SEEDS] for name in ("plain", "SWA")}
    print(
        f"digits, 70/30 stratified split, MLP 64-128(BN, ReLU, dropout 0.2)-10, SGD(0.1, m=0.9), "
        f"{EPOCHS} epochs; SWA from epoch {SWA_START} at lr 0.05 with BN re-estimation; "
        f"seeds {SEEDS}\n"
    )
    print("| method | test accuracy (mean ± sd) | test NLL (mean ± sd) | fit time (s) |")
    print("|---|---|---|---|")
    for name, rows in results.items():
        acc, nll, sec = (np.array(c) for c in zip(*rows, strict=True))
        print(
            f"| {name} | {acc.mean():.4f} ± {acc.std():.4f} | {nll.mean():.4f} ± {nll.std():.4f} "
            f"| {sec.mean():.1f} |"
        )
    plain = np.array([r[1] for r in results["plain"]])
    swa = np.array([r[1] for r in results["SWA"]])
    print(f"\nNLL ratio SWA / plain: {swa.mean() / plain.mean():.3f}")


if __name__ == "__main__":
    main()
