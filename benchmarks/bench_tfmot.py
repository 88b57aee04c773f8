"""The peer of `bench_quantization`: tfmot's quantization-aware training on tf_keras.

tensorflow-model-optimization only quantizes tf_keras (Keras 2) models, so this module runs in
its own environment (tensorflow 2.21, tf_keras 2.21, tensorflow-model-optimization 0.8.1: made
by `make bench-tfmot`) and imports neither keras 3 nor this project. `bench_quantization` calls
it through `subprocess` with a job file holding the data split and the float weights its own
models were trained to, so both QAT runs start from the same float model, see the same data and
train the same epochs at the same learning rate; the answer is one JSON line.

The architectures are written once, against a `keras` module argument, and built with keras 3
by `bench_quantization` and with tf_keras here: the digits CNN (the zoo's `cnn_digits`), the
MobileNetV2-style network on digits, and for latency only a MobileNetV2 (width 0.5) at 96x96.

Run alone (trains its own float models, then QAT):
`.venv-tfmot/bin/python -m benchmarks.bench_tfmot`
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

RUNS_IN_PEER_ENVIRONMENT = True  # `make bench` skips it; bench_quantization calls it
FLOAT_EPOCHS = 15
QAT_EPOCHS = 3
QAT_LEARNING_RATE = 1e-4
LATENCY_CALLS = 300


def digits_cnn(keras, input_shape=(8, 8, 1), num_classes=10, filters=(32, 64)):
    """The zoo's `cnn_digits`: (Conv 3x3 no bias, BN, ReLU, max pool) per stage, GAP, dense."""
    inputs = keras.Input(input_shape, name="images")
    x = inputs
    for i, n in enumerate(filters):
        x = keras.layers.Conv2D(n, 3, padding="same", use_bias=False, name=f"conv_{i}")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"bn_{i}")(x)
        x = keras.layers.Activation("relu", name=f"act_{i}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool_{i}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.Dropout(0.1, name="dropout")(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, name="logits")(x))


def _inverted_residual(keras, x, filters: int, expansion: int, strides: int = 1):
    h = x
    if expansion != 1:
        h = keras.layers.Conv2D(x.shape[-1] * expansion, 1, use_bias=False)(h)
        h = keras.layers.BatchNormalization()(h)
        h = keras.layers.ReLU(6.0)(h)
    h = keras.layers.DepthwiseConv2D(3, strides, padding="same", use_bias=False)(h)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.ReLU(6.0)(h)
    h = keras.layers.Conv2D(filters, 1, use_bias=False)(h)
    h = keras.layers.BatchNormalization()(h)
    residual = strides == 1 and filters == x.shape[-1]
    return keras.layers.Add()([x, h]) if residual else h


def mobilenet_v2_style(
    keras, input_shape=(8, 8, 1), num_classes=10, stem=32, blocks=None, head=None
):
    """Stem conv, inverted residual blocks `(expansion, filters, repeats, stride)`, head, dense.

    The defaults are the small digits network (stem 32, blocks (4, 32) and (4, 64), no head);
    inputs larger than 32 pixels get a stride-2 stem, as in MobileNetV2.
    """
    blocks = blocks or ((4, 32, 1, 1), (4, 64, 1, 1))
    inputs = keras.Input(input_shape, name="images")
    stem_strides = 2 if input_shape[0] > 32 else 1
    x = keras.layers.Conv2D(stem, 3, stem_strides, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU(6.0)(x)
    for expansion, filters, repeats, stride in blocks:
        for r in range(repeats):
            x = _inverted_residual(keras, x, filters, expansion, stride if r == 0 else 1)
    if head:
        x = keras.layers.Conv2D(head, 1, use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU(6.0)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes)(x))


# MobileNetV2 at width 0.5 (Sandler et al. 2018, Table 2, channels rounded to multiples of 8).
MOBILENET_V2_050_BLOCKS = (
    (1, 8, 1, 1),
    (6, 16, 2, 2),
    (6, 16, 3, 2),
    (6, 32, 4, 2),
    (6, 48, 3, 1),
    (6, 80, 3, 2),
    (6, 160, 1, 1),
)
ARCHITECTURES = {
    "digits_cnn": lambda keras: digits_cnn(keras),
    "mobilenet_v2_style": lambda keras: mobilenet_v2_style(keras),
    "mobilenet_v2_050_96": lambda keras: mobilenet_v2_style(
        keras, (96, 96, 3), stem=16, blocks=MOBILENET_V2_050_BLOCKS, head=1280
    ),
}


def latency_ms(tflite_bytes: bytes, example: np.ndarray, calls: int = LATENCY_CALLS) -> float:
    """Median single-image `invoke()` time in ms: TFLite interpreter, XNNPACK, 1 thread."""
    interpreter = tf.lite.Interpreter(model_content=tflite_bytes, num_threads=1)
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]
    value = example[None].astype(np.float32)
    if source["dtype"] == np.int8:
        scale, zero = source["quantization"]
        value = np.clip(np.round(value / scale + zero), -128, 127).astype(np.int8)
    interpreter.set_tensor(source["index"], value)
    times = []
    for i in range(calls + 20):
        start = time.perf_counter()
        interpreter.invoke()
        if i >= 20:  # warm-up calls
            times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def tflite_accuracy(tflite_bytes: bytes, x: np.ndarray, y: np.ndarray) -> float:
    interpreter = tf.lite.Interpreter(model_content=tflite_bytes)
    source = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(source["index"], (len(x), *source["shape"][1:]))
    interpreter.allocate_tensors()
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    scale, zero = source["quantization"]
    value = np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8)
    interpreter.set_tensor(source["index"], value)
    interpreter.invoke()
    return float(np.mean(np.argmax(interpreter.get_tensor(target["index"]), -1) == y))


def tfmot_qat_int8(arch: str, weights, train, test, epochs: int = QAT_EPOCHS) -> dict:
    """tfmot `quantize_model` from the given float weights, QAT, fully int8 TFLite."""
    import tensorflow_model_optimization as tfmot
    import tf_keras

    tf_keras.utils.set_random_seed(0)
    model = ARCHITECTURES[arch](tf_keras)
    if weights is not None:
        model.set_weights(weights)
    qat = tfmot.quantization.keras.quantize_model(model)
    qat.compile(
        tf_keras.optimizers.Adam(QAT_LEARNING_RATE),
        tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    if epochs:
        qat.fit(*train, epochs=epochs, batch_size=32, verbose=0)
    converter = tf.lite.TFLiteConverter.from_keras_model(qat)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    data = converter.convert()
    result = {"size": len(data), "latency_ms": latency_ms(data, test[0][0])}
    if len(test[1]):
        result["accuracy"] = tflite_accuracy(data, *test)
    return result


def run_job(path: str) -> dict:
    """The job file of `bench_quantization`: arch, x/y train/test and weights `w0`, `w1`, ..."""
    job = np.load(path, allow_pickle=False)
    count = int(job["num_weights"])
    weights = [job[f"w{i}"] for i in range(count)] if count else None
    train, test = (job["x_train"], job["y_train"]), (job["x_test"], job["y_test"])
    return tfmot_qat_int8(str(job["arch"]), weights, train, test, int(job["epochs"]))


def main() -> None:
    import tf_keras
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    # The split of `zoo.datasets.load_digits(dtype="float32")`.
    bunch = load_digits()
    images = (bunch.images.astype("float32") / 16.0)[..., None]
    x_train, x_test, y_train, y_test = train_test_split(
        images, bunch.target, test_size=0.2, random_state=0, stratify=bunch.target
    )
    train, test = (x_train, y_train), (x_test, y_test)
    print("| model (tf_keras) | tfmot QAT int8 accuracy % | size KiB | latency ms |")
    print("|---|---:|---:|---:|")
    for arch in ("digits_cnn", "mobilenet_v2_style"):
        tf_keras.utils.set_random_seed(0)
        model = ARCHITECTURES[arch](tf_keras)
        model.compile(
            tf_keras.optimizers.AdamW(1e-3),
            tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        model.fit(*train, epochs=FLOAT_EPOCHS, batch_size=32, verbose=0)
        result = tfmot_qat_int8(arch, model.get_weights(), train, test)
        print(
            f"| {arch} | {100 * result['accuracy']:.2f} | {result['size'] / 1024:.1f} | "
            f"{result['latency_ms']:.4f} |",
            flush=True,
        )


if __name__ == "__main__":
    # Only in its own process: `bench_quantization` imports this module next to keras 3.
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    if len(sys.argv) == 3 and sys.argv[1] == "--job":
        print(json.dumps(run_job(sys.argv[2])))
    else:
        main()
