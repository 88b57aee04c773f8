"""Float vs post-training int8 vs QAT int8 TFLite (ours and tfmot's), and lottery tickets.

Models: the digits CNN (`zoo.create("cnn_digits")`) and a small MobileNetV2-style network on
scikit-learn's 8x8 digits; for latency only, where compute and not the interpreter's fixed
overhead dominates, the zoo's MobileNetV2 at width 0.5 on 96x96x3 inputs. Latency is the TFLite
interpreter (XNNPACK, 1 thread) on one image, median of 300 calls after 20 warm-up calls.

The peer is tfmot's `quantize_model` on tf_keras, run by `benchmarks/bench_tfmot.py` in its own
environment (`TFMOT_PYTHON`, made by `make bench-tfmot`; the row is skipped when it is missing).
It starts from the float weights our run trained, sees the same data split and trains the same
QAT epochs at the same learning rate. For the 96x96 model it builds the same MobileNetV2 from
plain tf_keras layers and calibrates on the same random images.

Run: `.venv/bin/python -m benchmarks.bench_quantization` (env `QUANT_LOTTERY=0` skips the
lottery-ticket table).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import zoo  # noqa: E402
from benchmarks.bench_tfmot import (  # noqa: E402
    ARCHITECTURES,
    FLOAT_EPOCHS,
    QAT_EPOCHS,
    QAT_LEARNING_RATE,
    latency_ms,
)
from layers.quantization import quantize_model  # noqa: E402
from serving.tflite import evaluate_tflite, to_tflite  # noqa: E402
from zoo.compression import lottery_ticket, train_with_masks  # noqa: E402
from zoo.datasets import load_digits  # noqa: E402

LOTTERY_ROUNDS = 4
LOTTERY_RATE = 0.45
TFMOT_PYTHON = os.environ.get("TFMOT_PYTHON", ".venv-tfmot/bin/python")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mobilenet_v2_style() -> keras.Model:
    model = ARCHITECTURES["mobilenet_v2_style"](keras)
    model.compile(
        keras.optimizers.AdamW(1e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def tfmot(arch: str, weights, train, test, epochs: int) -> dict | None:
    """tfmot's QAT int8 result for `arch` from `weights`, run in the tfmot environment."""
    if not os.path.exists(TFMOT_PYTHON):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "job.npz")
        arrays = {f"w{i}": w for i, w in enumerate(weights)}
        np.savez(
            path,
            arch=arch,
            epochs=epochs,
            num_weights=len(weights),
            x_train=train[0],
            y_train=train[1],
            x_test=test[0],
            y_test=test[1],
            **arrays,
        )
        args = [TFMOT_PYTHON, "-m", "benchmarks.bench_tfmot", "--job", path]
        out = subprocess.run(args, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def row(name, variant, accuracy, size, base_size, ms, base_ms) -> str:
    accuracy = "-" if accuracy is None else f"{100 * accuracy:.2f}"
    return (
        f"| {name} | {variant} | {accuracy} | {size / 1024:.1f} ({size / base_size:.2f}x) | "
        f"{ms:.4f} ({ms / base_ms:.2f}x) |"
    )


def compare(name: str, arch: str, model: keras.Model, train, test, latency_only=False):
    """Yields the table rows of one model: float, PTQ int8, QAT int8, tfmot QAT int8."""
    float_epochs, qat_epochs = (1, 1) if latency_only else (FLOAT_EPOCHS, QAT_EPOCHS)
    model.fit(*train, epochs=float_epochs, batch_size=32, verbose=0)
    qat = quantize_model(model)
    qat.compile(
        keras.optimizers.Adam(QAT_LEARNING_RATE),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    qat.fit(*train, epochs=qat_epochs, batch_size=32, verbose=0)
    variants = {
        "float32": to_tflite(model),
        "PTQ int8": to_tflite(model, "int8", representative_data=train[0][:200]),
        "QAT int8 (ours)": to_tflite(qat, "int8"),
    }
    example = test[0][0]
    base_size = len(variants["float32"])
    base_ms = latency_ms(variants["float32"], example)
    for variant, data in variants.items():
        ms = base_ms if variant == "float32" else latency_ms(data, example)
        accuracy = None if latency_only else evaluate_tflite(data, test)
        yield row(name, variant, accuracy, len(data), base_size, ms, base_ms)
    peer_weights = [] if latency_only else model.get_weights()
    peer = tfmot(arch, peer_weights, train, test, qat_epochs)
    if peer is not None:
        accuracy = peer.get("accuracy")
        size, ms = peer["size"], peer["latency_ms"]
        yield row(name, "QAT int8 (tfmot, tf_keras)", accuracy, size, base_size, ms, base_ms)


def lottery_rows(train, test) -> list[str]:
    keras.utils.set_random_seed(0)
    data = (train, test)
    ticket = lottery_ticket(
        lambda: zoo.create("cnn_digits"), data, rounds=LOTTERY_ROUNDS, rate=LOTTERY_RATE, epochs=8
    )
    rows = [
        f"| {r.round} | {100 * r.sparsity:.1f} | {100 * r.accuracy:.2f} | |" for r in ticket.rounds
    ]
    # Random re-initialisation with the winning mask (the paper's control).
    keras.utils.set_random_seed(1)
    control = zoo.create("cnn_digits")
    accuracy = train_with_masks(control, data, ticket.masks, epochs=8)
    last = ticket.rounds[-1]
    rows.append(
        f"| {last.round} (random reinit, same mask) | {100 * last.sparsity:.1f} | "
        f"{100 * accuracy:.2f} | winning ticket {100 * last.accuracy:.2f} |"
    )
    return rows


def main() -> None:
    digits = load_digits(dtype="float32")
    train, test = (digits.train.x, digits.train.y), (digits.test.x, digits.test.y)
    print(f"digits: {len(train[1])} train / {len(test[1])} test images, 8x8x1\n")
    print("| model | TFLite | accuracy % | size KiB (vs float) | latency ms (vs float) |")
    print("|---|---|---:|---:|---:|")
    keras.utils.set_random_seed(0)
    for line in compare("digits CNN (32, 64)", "digits_cnn", zoo.create("cnn_digits"), train, test):
        print(line, flush=True)
    keras.utils.set_random_seed(0)
    for line in compare(
        "MobileNetV2-style", "mobilenet_v2_style", mobilenet_v2_style(), train, test
    ):
        print(line, flush=True)
    # Latency where compute dominates: random images and labels only calibrate the ranges.
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(64, 96, 96, 3)).astype("float32")
    random_data = (images, rng.integers(0, 10, 64))
    large = zoo.create("mobilenet_v2_050_224", input_shape=(96, 96, 3), num_classes=10)
    name = "MobileNetV2 0.5, 96x96x3 (zoo)"
    empty = (images[:1], np.zeros((0,), "int64"))
    for line in compare(name, "mobilenet_v2_050_96", large, random_data, empty, True):
        print(line, flush=True)
    if os.environ.get("QUANT_LOTTERY", "1") == "0":
        return
    print("\n| lottery round | sparsity % | accuracy % | note |")
    print("|---|---|---|---|")
    for line in lottery_rows(train, test):
        print(line, flush=True)


if __name__ == "__main__":
    main()
