"""Float vs post-training int8 vs QAT int8 TFLite, and lottery tickets, on scikit-learn digits.

Models: the digits CNN (`zoo.create("cnn_digits")`) and a small MobileNetV2-style network
(stem, two inverted residual blocks, head) on the same 8x8 digits. Latency is the TFLite
interpreter (XNNPACK, 1 thread) on one image, median of 300 calls after 20 warm-up calls.

Run: `.venv/bin/python -m benchmarks.bench_quantization`
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from layers.quantization import quantize_model  # noqa: E402
from serving.tflite import evaluate_tflite, to_tflite  # noqa: E402
from zoo.compression import lottery_ticket, train_with_masks  # noqa: E402
from zoo.datasets import load_digits  # noqa: E402

FLOAT_EPOCHS = 15
QAT_EPOCHS = 3
LOTTERY_ROUNDS = 4
LOTTERY_RATE = 0.45


def mobilenet_v2_style(input_shape=(8, 8, 1), num_classes=10) -> keras.Model:
    def block(x, filters, expansion):
        h = keras.layers.Conv2D(x.shape[-1] * expansion, 1, use_bias=False)(x)
        h = keras.layers.BatchNormalization()(h)
        h = keras.layers.ReLU(6.0)(h)
        h = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False)(h)
        h = keras.layers.BatchNormalization()(h)
        h = keras.layers.ReLU(6.0)(h)
        h = keras.layers.Conv2D(filters, 1, use_bias=False)(h)
        h = keras.layers.BatchNormalization()(h)
        return keras.layers.Add()([x, h]) if filters == x.shape[-1] else h

    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(32, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU(6.0)(x)
    x = block(x, 32, 4)
    x = block(x, 64, 4)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(num_classes)(x))
    model.compile(
        keras.optimizers.AdamW(1e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def latency_ms(tflite_bytes: bytes, example: np.ndarray) -> float:
    interpreter = tf.lite.Interpreter(model_content=tflite_bytes, num_threads=1)
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]
    value = example[None].astype(np.float32)
    if source["dtype"] == np.int8:
        scale, zero = source["quantization"]
        value = np.clip(np.round(value / scale + zero), -128, 127).astype(np.int8)
    interpreter.set_tensor(source["index"], value)
    times = []
    for i in range(320):
        start = time.perf_counter()
        interpreter.invoke()
        if i >= 20:
            times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def compare(name: str, model: keras.Model, train, test) -> list[str]:
    model.fit(*train, epochs=FLOAT_EPOCHS, batch_size=32, verbose=0)
    qat = quantize_model(model)
    qat.compile(
        keras.optimizers.Adam(1e-4), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    qat.fit(*train, epochs=QAT_EPOCHS, batch_size=32, verbose=0)
    variants = {
        "float32": to_tflite(model),
        "PTQ int8": to_tflite(model, "int8", representative_data=train[0][:200]),
        "QAT int8": to_tflite(qat, "int8"),
    }
    base_size = len(variants["float32"])
    base_latency = latency_ms(variants["float32"], test[0][0])
    rows = []
    for variant, data in variants.items():
        ms = latency_ms(data, test[0][0])
        rows.append(
            f"| {name} | {variant} | {100 * evaluate_tflite(data, test):.2f} | "
            f"{len(data) / 1024:.1f} ({len(data) / base_size:.2f}x) | "
            f"{ms:.4f} ({ms / base_latency:.2f}x) |"
        )
    return rows


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
    print("|---|---|---|---|---|")
    keras.utils.set_random_seed(0)
    for row in compare("digits CNN (32, 64)", zoo.create("cnn_digits"), train, test):
        print(row, flush=True)
    keras.utils.set_random_seed(0)
    for row in compare("MobileNetV2-style", mobilenet_v2_style(), train, test):
        print(row, flush=True)
    print("\n| lottery round | sparsity % | accuracy % | note |")
    print("|---|---|---|---|")
    for row in lottery_rows(train, test):
        print(row, flush=True)


if __name__ == "__main__":
    main()
