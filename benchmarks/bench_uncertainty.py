"""Predictive uncertainty on held-out digits: deterministic CNN, MC dropout, ensemble, Bayesian CNN.

All four share one small CNN (two conv stages and a dense classifier) trained with Adam on the
training split of scikit-learn's digits, and are scored on the held-out split with accuracy,
negative log-likelihood, expected calibration error (15 bins) and the Brier score, over several
seeds (mean ± std):

- deterministic: the CNN without dropout ("vanilla" in Ovadia et al. 2019), one forward pass.
- MC dropout: the CNN with `MCDropout` (rate 0.25) after each stage and before the classifier,
  trained with it and averaged over 30 passes (Gal and Ghahramani 2016).
- deep ensemble: 5 vanilla CNNs from different seeds, probabilities averaged
  (Lakshminarayanan et al. 2017); member 0 is the deterministic model above.
- Bayesian CNN: `zoo.uncertainty.BayesianCNN` (Flipout layers, KL weight 1/N), 30 samples.

Reliability diagrams of the first seed go to `artifacts/benchmarks/`. Run:
`.venv/bin/python -m benchmarks.bench_uncertainty [--seeds 3] [--epochs 40]`.
"""

from __future__ import annotations

import argparse
import os
import time

import keras
import numpy as np

from layers.metrics import BrierScore, ExpectedCalibrationError, NegativeLogLikelihood
from layers.regularization import MCDropout
from zoo.datasets import load_digits
from zoo.uncertainty import BayesianCNN, mc_predict, reliability_diagram

ARTIFACTS = os.path.join("artifacts", "benchmarks")
MEMBERS = 5
SAMPLES = 30
BATCH_SIZE = 64
MC_DROPOUT_RATE = 0.25


def build_cnn(dropout: float = 0.0) -> keras.Model:
    """The shared architecture; `dropout > 0` adds `MCDropout` layers at that rate."""

    def maybe_dropout(x):
        return MCDropout(dropout)(x) if dropout else x

    inputs = keras.Input((8, 8, 1))
    x = inputs
    for filters in (32, 64):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D(2)(x)
        x = maybe_dropout(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    x = maybe_dropout(x)
    model = keras.Model(inputs, keras.layers.Dense(10)(x))
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def scores(labels: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    values = {"accuracy": float(np.mean(probs.argmax(-1) == labels))}
    for name, metric in (
        ("nll", NegativeLogLikelihood()),
        ("ece", ExpectedCalibrationError(num_bins=15)),
        ("brier", BrierScore()),
    ):
        metric.update_state(labels, probs.astype("float32"))
        values[name] = float(metric.result())
    return values


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def run_seed(seed: int, epochs: int, data, plot: bool) -> dict[str, dict[str, float]]:
    x_train, y_train = data.train.x, data.train.y
    x_test, y_test = data.test.x, data.test.y
    fit = {"epochs": epochs, "batch_size": BATCH_SIZE, "verbose": 0}
    probs, seconds = {}, {}

    start = time.perf_counter()
    members = []
    for i in range(MEMBERS):
        keras.utils.set_random_seed(1000 * seed + i)
        model = build_cnn()
        model.fit(x_train, y_train, **fit)
        members.append(model)
    ensemble_seconds = time.perf_counter() - start
    member_probs = [softmax(m.predict(x_test, verbose=0)) for m in members]
    probs["deterministic CNN"] = member_probs[0]
    seconds["deterministic CNN"] = ensemble_seconds / MEMBERS

    keras.utils.set_random_seed(1000 * seed + 98)
    start = time.perf_counter()
    mc_model = build_cnn(dropout=MC_DROPOUT_RATE)
    mc_model.fit(x_train, y_train, **fit)
    seconds["MC dropout (30)"] = time.perf_counter() - start
    probs["MC dropout (30)"] = mc_predict(mc_model, x_test, SAMPLES, from_logits=True).mean

    probs[f"deep ensemble ({MEMBERS})"] = np.mean(member_probs, axis=0)
    seconds[f"deep ensemble ({MEMBERS})"] = ensemble_seconds

    keras.utils.set_random_seed(1000 * seed + 99)
    start = time.perf_counter()
    bayesian = BayesianCNN(filters=(32, 64), kl_weight=1.0 / len(x_train))
    bayesian.compile(learning_rate=3e-3, weight_decay=0.0)
    bayesian.fit(x_train, y_train, **fit)
    seconds["Bayesian CNN (30)"] = time.perf_counter() - start
    probs["Bayesian CNN (30)"] = mc_predict(bayesian, x_test, SAMPLES, from_logits=True).mean

    results = {}
    for name, p in probs.items():
        results[name] = {**scores(y_test, p), "train_s": seconds[name]}
        if plot:
            slug = name.split(" (")[0].replace(" ", "_").lower()
            reliability_diagram(
                y_test, p, os.path.join(ARTIFACTS, f"uncertainty_{slug}.png"), title=name
            )
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args(argv if argv is not None else [])
    data = load_digits(dtype="float32")
    runs = [run_seed(s, args.epochs, data, plot=s == 0) for s in range(args.seeds)]

    names = list(runs[0])
    baseline = {k: np.mean([r[names[0]][k] for r in runs]) for k in ("nll", "ece")}
    print(
        f"\nDigits held-out split ({len(data.test.y)} images), {args.seeds} seeds, "
        f"{args.epochs} epochs, mean ± std\n"
    )
    print(
        "| method | accuracy | NLL | ECE | Brier | NLL / det. | ECE / det. | train s |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    for name in names:
        cells = []
        for key, fmt in (("accuracy", ".4f"), ("nll", ".4f"), ("ece", ".4f"), ("brier", ".4f")):
            values = np.array([r[name][key] for r in runs])
            cells.append(f"{values.mean():{fmt}} ± {values.std():{fmt}}")
        ratios = [np.mean([r[name][k] for r in runs]) / baseline[k] for k in ("nll", "ece")]
        train = np.mean([r[name]["train_s"] for r in runs])
        print(f"| {name} | {' | '.join(cells)} | {ratios[0]:.2f} | {ratios[1]:.2f} | {train:.0f} |")
    print(f"\nReliability diagrams (seed 0): {ARTIFACTS}/uncertainty_*.png")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
