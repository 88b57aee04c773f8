"""Interpretability figures: integrated gradients, Grad-CAM localisation, counterfactuals.

Three checks of `zoo.explain` whose figures are numbers, not timings (so a loaded machine does
not change them):

1. Integrated gradients (Sundararajan et al. 2017) on `cnn_digits` (trained `--epochs` on
   scikit-learn's digits): for `--ig-examples` test digits, target the true class, zero
   baseline, the completeness gap `|sum(attributions) - (f(x) - f(0))|`
   (`zoo.explain.completeness_gap`) for Gauss-Legendre and the trapezoid rule at `--steps`
   gradient evaluations. The network is ReLU, so no rule is exact.
2. Grad-CAM (Selvaraju et al. 2017) and Grad-CAM++ (Chattopadhay et al. 2018) localisation: 16x16
   noisy images with a bar in every quadrant; label-1 images also hold a 3x3 square in the
   top-right quadrant, the only place one appears. A 2-conv CNN with global average pooling
   learns the label; the table gives the share of the class-1 heatmap inside the top-right
   quadrant over the label-1 test images (chance 0.25), one row per seed.
3. Counterfactuals (Wachter et al. 2017; DiCE, Mothilal et al. 2020) for `--cf-examples` test
   examples of two models: the digits CNN of part 1 (target: a class drawn at random among the
   nine others), and a logistic regression on synthetic tabular data whose six features have
   scales from 0.1 to 100 (target: the other class; feature 0 immutable). Each example is
   searched with one candidate (L1 and L2 distance) and with three (L1, `diversity_weight` 0
   and 1); `zoo.explain.counterfactual_metrics` gives validity, MAD-scaled proximity, sparsity
   and diversity, mean ± std over the examples whose search succeeded. For the logistic model
   the exact optimum under the same constraints (scipy's `linprog` for L1, SLSQP for L2) gives
   the ratio found / optimum.

The tables are printed and written to `artifacts/bench_explain.md` with the command and machine.
Run:

    .venv/bin/python -m benchmarks.bench_explain        # about 2 CPU-minutes (2 cores)
    .venv/bin/python -m benchmarks.bench_explain --seeds 0 --cf-examples 3   # a smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from scipy.optimize import linprog, minimize  # noqa: E402

import zoo  # noqa: E402
from zoo.datasets import load_digits  # noqa: E402
from zoo.explain import (  # noqa: E402
    CounterfactualNotFoundError,
    completeness_gap,
    counterfactual_metrics,
    counterfactuals,
    grad_cam,
    grad_cam_plus_plus,
    integrated_gradients,
)
from zoo.explain.counterfactual_inputs import feature_bounds  # noqa: E402
from zoo.explain.counterfactual_metrics import median_absolute_deviation  # noqa: E402
from zoo.explain.synthetic import (  # noqa: E402
    quadrant_classifier,
    quadrant_images,
    top_right_share,
)

ARTIFACT = os.path.join("artifacts", "bench_explain.md")
IG_METHODS = ("gauss_legendre", "riemann_trapezoid")
QUADRANT_TRAIN, QUADRANT_TEST, QUADRANT_EPOCHS = 800, 200, 8
# The search's validity margin (`counterfactuals(margin=...)`), also the optimum's constraint.
CF_MARGIN = 0.05
# (row label, search arguments) of each counterfactual configuration.
CF_CONFIGS = (
    ("num=1, L1", {"num": 1, "distance": "l1"}),
    ("num=1, L2", {"num": 1, "distance": "l2"}),
    ("num=3, L1, diversity 0", {"num": 3, "distance": "l1", "diversity_weight": 0.0}),
    ("num=3, L1, diversity 1", {"num": 3, "distance": "l1", "diversity_weight": 1.0}),
)
TABULAR_SCALES = np.array([1.0, 10.0, 0.1, 100.0, 1.0, 5.0], "float32")
TABULAR_WEIGHTS = np.array([1.0, -0.2, 8.0, 0.01, -1.5, 0.3], "float32")
TABULAR_IMMUTABLE = [0]


def mean_std(values, fmt: str = ".3f") -> str:
    values = np.asarray(values, dtype="float64")
    if values.size == 0:
        return "–"
    return f"{values.mean():{fmt}} ± {values.std():{fmt}}"


# 1. Integrated gradients ------------------------------------------------------------------------


def trained_digits_cnn(digits, epochs: int, seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = zoo.create("cnn_digits")
    model.fit(digits.train.x, digits.train.y, epochs=epochs, verbose=0)
    return model


def ig_completeness(model, x, y, steps_list) -> tuple[str, float]:
    """The completeness table and the mean |f(x) - f(0)| it is relative to."""
    rows = np.arange(len(x))
    change = np.abs(
        model.predict(x, verbose=0)[rows, y] - model.predict(np.zeros_like(x), verbose=0)[rows, y]
    )
    lines = [
        "| method | steps | mean gap | median gap / change | max gap |",
        "|---|---|---|---|---|",
    ]
    for method in IG_METHODS:
        for steps in steps_list:
            attributions = integrated_gradients(
                model, x, y, steps=steps, method=method, batch_size=2048
            )
            gap = np.abs(completeness_gap(model, x, attributions, y))
            lines.append(
                f"| {method} | {steps} | {gap.mean():.4f} | {np.median(gap / change):.4f} | "
                f"{gap.max():.3f} |"
            )
    return "\n".join(lines), float(change.mean())


# 2. Grad-CAM localisation -----------------------------------------------------------------------


def localisation(seed: int) -> tuple[float, float, float]:
    """(test accuracy, Grad-CAM share, Grad-CAM++ share) of one seed."""
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    x, y = quadrant_images(QUADRANT_TRAIN, rng)
    model = quadrant_classifier()
    model.fit(x, y, epochs=QUADRANT_EPOCHS, batch_size=32, verbose=0)
    x_test, y_test = quadrant_images(QUADRANT_TEST, rng)
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    squares = x_test[y_test == 1]
    return (
        accuracy,
        top_right_share(grad_cam(model, squares, class_index=1)),
        top_right_share(grad_cam_plus_plus(model, squares, class_index=1)),
    )


def localisation_table(seeds) -> str:
    lines = [
        "| seed | test accuracy | Grad-CAM share | Grad-CAM++ share |",
        "|---|---|---|---|",
    ]
    results = []
    for seed in seeds:
        results.append(localisation(seed))
        lines.append("| {} | {:.3f} | {:.3f} | {:.3f} |".format(seed, *results[-1]))
    columns = np.array(results).T
    lines.append("| mean ± std | " + " | ".join(mean_std(c) for c in columns) + " |")
    return "\n".join(lines)


# 3. Counterfactuals -----------------------------------------------------------------------------


def tabular_task(seed: int, count: int = 1000):
    """Train rows, test rows and a trained logistic regression (one sigmoid unit) of a
    synthetic task: `y ~ Bernoulli(sigmoid(w . x))`, the features of very different scales."""
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(count, len(TABULAR_SCALES))) * TABULAR_SCALES).astype("float32")
    labels = (rng.random(count) < 1 / (1 + np.exp(-x @ TABULAR_WEIGHTS))).astype("int64")
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((len(TABULAR_SCALES),)),
            keras.layers.Normalization(
                mean=np.zeros_like(TABULAR_SCALES), variance=TABULAR_SCALES**2
            ),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    split = count * 4 // 5
    model.fit(x[:split], labels[:split], epochs=20, batch_size=64, verbose=0)
    return x[:split], x[split:], labels[split:], model


def linear_logit(model) -> tuple[np.ndarray, float]:
    """`(w, b)` with `logit = w . x + b` for the Normalization + Dense(1) model."""
    kernel, bias = model.layers[-1].get_weights()
    return kernel[:, 0] / TABULAR_SCALES, float(bias[0])


def optimum_distances(model, x, target_class, data) -> tuple[float, float]:
    """The least MAD-scaled L1 and L2 distance at which the logistic model gives `target_class`
    a log-odds margin of `CF_MARGIN`, within the data's ranges, the immutable features fixed."""
    w, b = linear_logit(model)
    scale = median_absolute_deviation(data, x.shape)
    low, high = feature_bounds(None, data, x)
    sign = 1.0 if target_class == 1 else -1.0
    # Scaled change d: sign * (w . (x + scale * d) + b) >= margin, i.e. -sign * (w * scale) . d
    # <= sign * (w . x + b) - margin; bounds (low - x) / scale <= d <= (high - x) / scale.
    a = -sign * w * scale
    limit = sign * (w @ x + b) - CF_MARGIN
    bounds = [
        (0.0, 0.0) if i in TABULAR_IMMUTABLE else (lo, hi)
        for i, (lo, hi) in enumerate(zip((low - x) / scale, (high - x) / scale, strict=True))
    ]
    # L1: d = p - q with p, q >= 0.
    p_bounds = [(0.0, max(hi, 0.0)) for _, hi in bounds]
    q_bounds = [(0.0, max(-lo, 0.0)) for lo, _ in bounds]
    l1 = linprog(
        np.ones(2 * len(x)),
        A_ub=np.concatenate([a, -a])[None],
        b_ub=[limit],
        bounds=p_bounds + q_bounds,
    )
    l2 = minimize(
        lambda d: d @ d,
        np.zeros(len(x)),
        jac=lambda d: 2 * d,
        bounds=bounds,
        constraints={"type": "ineq", "fun": lambda d: limit - a @ d, "jac": lambda d: -a},
        method="SLSQP",
    )
    return float(l1.fun), float(np.sqrt(l2.fun))


def search(model, x, target_class, data, config: dict, immutable):
    """The metrics of one search, or `None` when it found no valid set."""
    try:
        found = counterfactuals(
            model, x, target_class, immutable=immutable, data=data, margin=CF_MARGIN, **config
        )
    except CounterfactualNotFoundError:
        return None
    metrics = counterfactual_metrics(model, x, found, target_class, data=data)
    if immutable:
        changed = found.reshape(len(found), -1)[:, immutable] != x.reshape(-1)[immutable]
        metrics["immutable_changed"] = float(changed.any())
    return metrics


def counterfactual_rows(task, model, x_test, targets, data, immutable, optimum) -> list[str]:
    rows = []
    for label, config in CF_CONFIGS:
        results = [
            search(model, x, t, data, config, immutable)
            for x, t in zip(x_test, targets, strict=True)
        ]
        found = [r for r in results if r is not None]

        def column(key, found=found):
            return [r[key] for r in found]

        ratio = "–"
        if optimum is not None and config["num"] == 1:
            index, key = (0, "proximity_l1") if config["distance"] == "l1" else (1, "proximity_l2")
            best = [o[index] for o, r in zip(optimum, results, strict=True) if r is not None]
            ratio = mean_std(np.array(column(key)) / np.array(best))
        multi = config["num"] > 1
        rows.append(
            f"| {task} | {label} | {len(found)}/{len(results)} | {mean_std(column('validity'))} | "
            f"{mean_std(column('proximity_l1'))} | {mean_std(column('proximity_l2'))} | "
            f"{mean_std(column('sparsity'), '.1f')} | "
            f"{mean_std(column('diversity')) if multi else '–'} | "
            f"{mean_std(column('dpp_diversity')) if multi else '–'} | {ratio} |"
        )
        if immutable and any(column("immutable_changed")):
            raise AssertionError(f"{task}, {label}: an immutable feature changed")
    return rows


def counterfactual_table(digits, cnn, examples: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    x_digits = digits.test.x[:examples]
    predicted = cnn.predict(x_digits, verbose=0).argmax(-1)
    targets = [(p + rng.integers(1, 10)) % 10 for p in predicted]
    x_train, x_test, _, logistic = tabular_task(seed)
    x_tab = x_test[:examples]
    tab_targets = [1 - int(p > 0.5) for p in logistic.predict(x_tab, verbose=0)[:, 0]]
    optimum = [
        optimum_distances(logistic, x, t, x_train) for x, t in zip(x_tab, tab_targets, strict=True)
    ]
    lines = [
        "| model | search | found | validity | proximity L1 | proximity L2 | sparsity | "
        "diversity | DPP diversity | distance / optimum |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += counterfactual_rows("digits CNN", cnn, x_digits, targets, digits.train.x, None, None)
    lines += counterfactual_rows(
        "logistic, tabular", logistic, x_tab, tab_targets, x_train, TABULAR_IMMUTABLE, optimum
    )
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------------


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    except OSError:
        names = []
    return names[0] if names else platform.processor() or platform.machine()


def machine() -> str:
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (
        f"{cpu_name()} ({platform.system()} {platform.machine()}), "
        f"{os.cpu_count()} CPUs (load average {load}); Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}"
    )


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="Grad-CAM seeds")
    parser.add_argument("--epochs", type=int, default=5, help="digits CNN training epochs")
    parser.add_argument("--ig-examples", type=int, default=100)
    parser.add_argument("--steps", type=int, nargs="+", default=[16, 50, 200])
    parser.add_argument("--cf-examples", type=int, default=20)
    parser.add_argument("--output", default=ARTIFACT)
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    command = " ".join([".venv/bin/python -m benchmarks.bench_explain", *argv])
    start = time.perf_counter()
    machine_before = machine()

    digits = load_digits(dtype="float32")
    cnn = trained_digits_cnn(digits, args.epochs, seed=0)
    accuracy = cnn.evaluate(digits.test.x, digits.test.y, verbose=0)[1]
    x, y = digits.test.x[: args.ig_examples], digits.test.y[: args.ig_examples]
    ig_table, change = ig_completeness(cnn, x, y, args.steps)
    print(ig_table, flush=True)
    cam_table = localisation_table(args.seeds)
    print(cam_table, flush=True)
    cf_table = counterfactual_table(digits, cnn, args.cf_examples, seed=0)
    print(cf_table, flush=True)

    report = (
        f"Command: `{command}`; {time.perf_counter() - start:.0f} s. Machine at the start: "
        f"{machine_before}; at the end: load average "
        f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}. Figures, not timings.\n\n"
        f"**Integrated gradients, completeness** on `cnn_digits` ({args.epochs} epochs, test "
        f"accuracy {accuracy:.3f}), {len(x)} test digits, target the true class, zero baseline "
        f"(mean |f(x) - f(0)| = {change:.2f} logits); gap = |sum(attributions) - (f(x) - f(0))|."
        f"\n\n{ig_table}\n\n"
        f"**Grad-CAM localisation**: quadrant task, {QUADRANT_TRAIN} training images, "
        f"{QUADRANT_EPOCHS} epochs; share of the class-1 heatmap in the top-right quadrant over "
        f"the label-1 test images (chance 0.25).\n\n{cam_table}\n\n"
        f"**Counterfactuals**: {args.cf_examples} test examples per model, mean ± std over the "
        "examples whose search succeeded (`found`); proximity in MAD units, sparsity in features "
        "changed, diversity the mean pairwise MAD-scaled L1 distance; distance / optimum against "
        f"the exact constrained optimum (logistic model, one candidate).\n\n{cf_table}\n"
    )
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    with open(args.output, "w") as f:
        f.write(report)
    print(report)
    return report


if __name__ == "__main__":
    main()
