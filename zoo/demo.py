"""The end-to-end demo: data to TFRecords, train, evaluate, export, serve, query.

Runs on scikit-learn's digits (shipped with scikit-learn), so nothing is downloaded.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

import serving
import tfrecords
from layers.validation import check_bool, check_positive_int
from zoo import registry
from zoo.datasets import fit_to_input, load_digits
from zoo.fitting import fit_repeated
from zoo.plots import plot_history


def _directory_bytes(path: str) -> int:
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(path)
        for name in names
    )


def _percentile_ms(seconds: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(seconds) * 1000.0, q))


def run_demo(
    artifacts_dir: str = "artifacts",
    model_name: str = "cnn_digits",
    epochs: int = 20,
    batch_size: int = 32,
    seed: int = 0,
    queries: int = 100,
    verbose: int = 1,
    log: Callable[[str], None] = print,
    xla: bool = True,
) -> dict:
    """Runs the project's main job end to end and returns its summary.

    Steps: digits into TFRecord shards; a registered model trained with `model.fit` on them;
    evaluation on the held-out split; `.keras` and training-curve PNG saved; a SavedModel exported
    in TF Serving's layout; the model served on localhost and queried, with served predictions
    checked against local ones.

    Args:
        artifacts_dir: where data, models, plots and `summary.json` go. Defaults to `"artifacts"`.
        model_name: a registered model taking 8x8 digits. Defaults to `"cnn_digits"`.
        epochs: training epochs. Defaults to `20`.
        batch_size: training batch size. Defaults to `32`.
        seed: seed for the split, initialisation and shuffling. Defaults to `0`.
        queries: single-example requests sent to the server to measure latency. Defaults to `100`.
        verbose: Keras progress bar verbosity for `fit` (0, 1 or 2). Defaults to `1`.
        log: where step lines go. Defaults to `print`.
        xla: compile with XLA where the model's family does by default
            (`zoo.registry.default_jit_compile`); `False` compiles without. Defaults to `True`.

    Returns:
        The summary dict that is also written to `artifacts_dir/summary.json`.

    Example:

    ```python
    summary = run_demo("artifacts", epochs=5)
    print(summary["test_accuracy"])
    ```
    """
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("queries", queries)):
        check_positive_int(name, value)
    check_bool("xla", xla)
    keras.utils.set_random_seed(seed)
    os.makedirs(artifacts_dir, exist_ok=True)
    summary: dict = {"model": model_name, "epochs": epochs, "seed": seed}

    log("[1/6] data: scikit-learn digits (80/20 stratified split) into TFRecord shards")
    digits = load_digits(seed=seed, dtype="float32")
    model = registry.create(model_name)
    model.jit_compile = model.jit_compile and xla
    input_shape = model.input_shape[1:]
    data_dir = os.path.join(artifacts_dir, "data")
    if os.path.exists(data_dir):
        tf.io.gfile.rmtree(data_dir)
    train_files = tfrecords.write(
        {"image": digits.train.x, "label": digits.train.y},
        os.path.join(data_dir, "train"),
        num_shards=2,
        verbose=0,
    )
    test_files = tfrecords.write(
        {"image": digits.test.x, "label": digits.test.y},
        os.path.join(data_dir, "test"),
        verbose=0,
    )

    def to_model_input(image, label):
        return tf.reshape(image, (-1, *input_shape)), label

    train_ds = tfrecords.read(
        os.path.join(data_dir, "train"),
        batch_size=batch_size,
        shuffle=True,
        label="label",
        seed=seed,
    ).map(to_model_input)
    test_ds = tfrecords.read(os.path.join(data_dir, "test"), batch_size=256, label="label").map(
        to_model_input
    )
    x_test = fit_to_input(digits.test.x, input_shape)
    summary["train_examples"] = len(digits.train.y)
    summary["test_examples"] = len(digits.test.y)
    summary["data_files"] = len(train_files) + len(test_files)
    summary["data_bytes"] = _directory_bytes(data_dir)

    log(f"[2/6] train: {model_name} ({model.count_params():,} parameters), {epochs} epochs")
    start = time.perf_counter()
    history = fit_repeated(
        model,
        train_ds,
        steps=math.ceil(len(digits.train.y) / batch_size),
        validation_data=test_ds,
        epochs=epochs,
        verbose=verbose,
        shuffle=False,
    )
    summary["train_seconds"] = round(time.perf_counter() - start, 2)

    log("[3/6] evaluate on the held-out split")
    results = model.evaluate(test_ds, verbose=0, return_dict=True)
    summary["test_accuracy"] = round(float(results["accuracy"]), 4)
    summary["test_loss"] = round(float(results["loss"]), 4)

    model_path = os.path.join(artifacts_dir, "model", f"{model_name}.keras")
    os.makedirs(os.path.dirname(model_path), exist_ok=True)
    model.save(model_path)
    curve_path = plot_history(
        history.history, os.path.join(artifacts_dir, "training_curve.png"), title=model_name
    )
    summary["keras_model_bytes"] = _directory_bytes(model_path)
    summary["training_curve"] = curve_path

    log("[4/6] export a SavedModel in TF Serving's BASE/NAME/VERSION layout")
    base_dir = os.path.join(artifacts_dir, "serving")
    if os.path.exists(base_dir):
        tf.io.gfile.rmtree(base_dir)
    export_dir = serving.export(
        model,
        base_dir,
        "digits",
        signatures={"classify": serving.classify_signature(k=3)},
        warmup=[x_test[:1]],
    )
    summary["saved_model"] = export_dir
    summary["saved_model_bytes"] = _directory_bytes(export_dir)

    log("[5/6] serve on localhost (TF Serving's REST API) and query")
    local = model.predict(x_test, verbose=0)
    with serving.local_server(base_dir) as server:
        client = serving.Client(server.url, "digits")
        served = np.asarray(client.predict(x_test))
        latencies = []
        for i in range(queries):
            start = time.perf_counter()
            client.predict(x_test[i % len(x_test)][None])
            latencies.append(time.perf_counter() - start)
        status = client.status()
    summary["server_url"] = server.url
    summary["served_version"] = int(status[0]["version"])
    summary["served_matches_local"] = bool(np.allclose(served, local, atol=1e-4))
    summary["served_accuracy"] = round(float(np.mean(served.argmax(-1) == digits.test.y)), 4)
    summary["latency_ms_p50"] = round(_percentile_ms(latencies, 50), 3)
    summary["latency_ms_p99"] = round(_percentile_ms(latencies, 99), 3)

    log("[6/6] summary")
    summary_path = os.path.join(artifacts_dir, "summary.json")
    with open(summary_path, "w") as f:
        json.dump(summary, f, indent=2)
    for line in format_summary(summary):
        log(line)
    return summary


def format_summary(summary: dict) -> list[str]:
    """The demo summary as short human-readable lines."""
    lines = [
        f"  model               {summary['model']}",
        f"  test accuracy       {summary['test_accuracy']:.4f} "
        f"(served: {summary['served_accuracy']:.4f}, matches local: "
        f"{summary['served_matches_local']})",
        f"  training time       {summary['train_seconds']:.1f} s for {summary['epochs']} epochs",
        f"  TFRecords           {summary['data_files']} shards, "
        f"{summary['data_bytes'] / 1024:.1f} KiB",
        f"  .keras model        {summary['keras_model_bytes'] / 1024:.1f} KiB",
        f"  SavedModel          {summary['saved_model_bytes'] / 1024:.1f} KiB",
        f"  served from         {summary['server_url']} (version {summary['served_version']})",
        f"  latency p50 / p99   {summary['latency_ms_p50']:.2f} / "
        f"{summary['latency_ms_p99']:.2f} ms per single-example REST request",
    ]
    return lines
