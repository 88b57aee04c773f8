"""OFA subnets at three latency budgets vs the same architectures from scratch; ProxylessNAS
found model's measured latency vs its budget. Digits upscaled to 16x16, CPU, TFLite latency.

Run from the repository root: `.venv/bin/python -m benchmarks.bench_ofa` (the latency tables go
to `artifacts/nas/`).
"""

from __future__ import annotations

import argparse
import os
import time

import keras
import numpy as np


def accuracy(model, x, y):
    return float(np.mean(np.argmax(model.predict(x, verbose=0, batch_size=256), -1) == y))


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs-per-phase", type=int, default=2)
    parser.add_argument("--proxyless-epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--skip-proxyless", action="store_true")
    args = parser.parse_args(argv)

    import tensorflow as tf

    from zoo.datasets import load_digits
    from zoo.nas.latency import (
        measure_latency_table,
        measure_model_latency,
        predict_latency,
        save_latency_table,
    )
    from zoo.nas.ofa import OFASubnetClassifier, OnceForAll, evolutionary_search, smallest_latency
    from zoo.nas.ofa.calibration import recalibrate_batch_norm
    from zoo.nas.ofa.command import DIGITS_OFA, train_supernet
    from zoo.nas.proxyless import ProxylessSupernet, proxyless_search
    from zoo.nas.proxyless.command import DIGITS_PROXYLESS, latency_range

    digits = load_digits(dtype="float32")
    resize = lambda x: tf.image.resize(x, (16, 16)).numpy()  # noqa: E731
    x_all, y_all = resize(digits.train.x), digits.train.y
    x_test, y_test = resize(digits.test.x), digits.test.y
    order = np.random.default_rng(0).permutation(len(x_all))
    cut = int(0.8 * len(x_all))
    train = (x_all[order[:cut]], y_all[order[:cut]])
    val = (x_all[order[cut:]], y_all[order[cut:]])

    start = time.time()
    keras.utils.set_random_seed(0)
    ofa = OnceForAll(**DIGITS_OFA)
    ofa.compile(optimizer=keras.optimizers.Adam(3e-3))
    table = measure_latency_table(ofa.all_latency_specs(), repeats=args.repeats)
    os.makedirs("artifacts/nas", exist_ok=True)
    save_latency_table(table, "artifacts/nas/ofa_latency_table.json")
    print(f"OFA table: {len(table['latency'])} blocks in {time.time() - start:.0f} s", flush=True)
    t = time.time()
    train_supernet(ofa, train, val, args.epochs_per_phase, "/tmp/bench_ofa_state", verbose=0)
    epochs = 4 * args.epochs_per_phase
    print(f"OFA supernet: {epochs} epochs in {time.time() - t:.0f} s", flush=True)
    low = smallest_latency(ofa, table)
    high = predict_latency(ofa.latency_specs(ofa.largest_config()), table)
    rows = []
    for fraction in (0.25, 0.5, 0.75):
        budget = low + fraction * (high - low)
        result = evolutionary_search(
            ofa, budget, table, val, population=12, generations=4, calibration_images=train[0][:512]
        )
        subnet = recalibrate_batch_norm(ofa.extract_subnet(result.config), train[0])
        ofa_acc = accuracy(subnet, x_test, y_test)
        measured = measure_model_latency(subnet, repeats=args.repeats * 5)
        keras.utils.set_random_seed(0)
        scratch = OFASubnetClassifier.from_config(subnet.get_config())
        scratch.compile(
            optimizer=keras.optimizers.Adam(3e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        scratch.fit(*train, epochs=epochs, batch_size=64, verbose=0)
        # The same batch-norm recalibration as the OFA subnet gets (else the scratch model's
        # running statistics, far from converged after few steps, sink its accuracy).
        recalibrate_batch_norm(scratch, train[0])
        rows.append(
            (
                budget,
                result.latency_ms,
                measured,
                ofa_acc,
                accuracy(scratch, x_test, y_test),
                result.config,
            )
        )
        print(rows[-1], flush=True)

    print(
        "\n| budget (ms) | predicted (ms) | measured TFLite (ms) | OFA subnet acc "
        "| from scratch acc | kernels / expands / depths |"
    )
    print("|---|---|---|---|---|---|")
    for budget, pred, meas, a, b, c in rows:
        architecture = f"{c['kernel']} / {c['expand']} / {c['depth']}"
        print(f"| {budget:.4f} | {pred:.4f} | {meas:.4f} | {a:.3f} | {b:.3f} | {architecture} |")

    if args.skip_proxyless:
        return
    t = time.time()
    keras.utils.set_random_seed(0)
    supernet = ProxylessSupernet(**DIGITS_PROXYLESS)
    ptable = measure_latency_table(supernet.all_latency_specs(), repeats=args.repeats)
    save_latency_table(ptable, "artifacts/nas/proxyless_latency_table.json")
    plow, phigh = latency_range(supernet, ptable)
    target = plow + 0.3 * (phigh - plow)
    result = proxyless_search(
        supernet,
        train,
        val,
        ptable,
        target,
        epochs=args.proxyless_epochs,
        warmup_epochs=1,
        loss="mul",
        beta=2.0,
        architecture_learning_rate=0.05,
    )
    model = supernet.derive(result.paths)
    measured = measure_model_latency(model, repeats=args.repeats * 5)
    print(f"\nProxylessNAS ({time.time() - t:.0f} s): paths {result.names}")
    print(
        "| budget (ms) | fastest / slowest path (ms) | expected latency per epoch (ms) "
        "| found: predicted (ms) | found: measured TFLite (ms) | supernet-weights val acc |"
    )
    print("|---|---|---|---|---|---|")
    per_epoch = ", ".join(f"{v:.4f}" for v in result.history["expected_latency_ms"])
    print(
        f"| {target:.4f} | {plow:.4f} / {phigh:.4f} | {per_epoch} "
        f"| {result.predicted_latency_ms:.4f} | {measured:.4f} | {accuracy(model, *val):.3f} |"
    )
    print(f"total {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
