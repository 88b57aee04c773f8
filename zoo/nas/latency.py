"""A latency lookup table: per-block latencies measured with the TFLite interpreter.

Hardware-aware search (ProxylessNAS, Once-for-All) predicts a network's latency as the sum of
its blocks' latencies, each measured once, alone, on the target device. Here the device is
this machine's CPU running TensorFlow Lite: every block configuration is converted to a
one-example TFLite model and invoked `repeats` times on one thread; the table stores the
median in milliseconds.

A block is described by a plain dict (a "block spec"):

- `{"type": "stem", "input_size", "in_channels", "out_channels", "kernel", "stride",
  "activation"}`: convolution, batch norm (folded by the converter) and activation;
- `{"type": "mbconv", "input_size", "in_channels", "out_channels", "kernel", "expand",
  "stride", "se_ratio", "activation"}`: a `layers.InvertedResidual` block;
- `{"type": "head", "input_size", "in_channels", "out_channels", "num_classes",
  "activation"}`: 1x1 convolution, activation, global pooling and the classifier;
- `{"type": "skip"}`: an identity or zero path, which costs nothing.

Reference:
    Cai, Zhu and Han, "ProxylessNAS: Direct Neural Architecture Search on Target Task and
    Hardware", ICLR 2019 (latency prediction model, Section 3.3).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import time
import warnings
from collections.abc import Iterable, Sequence

import keras
import numpy as np

BLOCK_TYPES = ("stem", "mbconv", "head", "skip")
_FIELDS = {
    "stem": ("input_size", "in_channels", "out_channels", "kernel", "stride", "activation"),
    "mbconv": (
        "input_size",
        "in_channels",
        "out_channels",
        "kernel",
        "expand",
        "stride",
        "se_ratio",
        "activation",
    ),
    "head": ("input_size", "in_channels", "out_channels", "num_classes", "activation"),
    "skip": (),
}


def block_key(spec: dict) -> str:
    """The table key of a block spec: its type and fields, in a fixed order.

    Args:
        spec: a block spec (see the module docstring).

    Returns:
        A string such as `"mbconv:input_size=16:in_channels=8:...:activation=relu6"`.

    Raises:
        ValueError: an unknown block type or a missing field.

    Example:

    ```python
    block_key({"type": "skip"})  # "skip"
    ```
    """
    if not isinstance(spec, dict) or spec.get("type") not in BLOCK_TYPES:
        raise ValueError(
            f"A block spec must be a dict whose 'type' is one of {BLOCK_TYPES}. Received: "
            f"spec={spec!r}"
        )
    fields = _FIELDS[spec["type"]]
    missing = [name for name in fields if name not in spec]
    if missing:
        raise ValueError(
            f"A {spec['type']!r} block spec needs the fields {fields}; {missing} are missing. "
            f"Received: spec={spec!r}"
        )
    return ":".join([spec["type"], *(f"{name}={spec[name]}" for name in fields)])


def block_model(spec: dict) -> keras.Model:
    """A one-example Keras model holding just the block of `spec`, for measuring it.

    Example:

    ```python
    model = block_model({"type": "stem", "input_size": 32, "in_channels": 1,
                         "out_channels": 8, "kernel": 3, "stride": 2, "activation": "relu6"})
    ```
    """
    from layers.convolution import InvertedResidual

    block_key(spec)
    if spec["type"] == "skip":
        raise ValueError(f"A 'skip' block has no model: it costs nothing. Received: spec={spec!r}")
    size, channels = spec["input_size"], spec["in_channels"]
    inputs = keras.Input((size, size, channels), batch_size=1)
    if spec["type"] == "stem":
        x = keras.layers.Conv2D(
            spec["out_channels"], spec["kernel"], strides=spec["stride"], padding="same"
        )(inputs)
        x = keras.layers.Activation(spec["activation"])(keras.layers.BatchNormalization()(x))
    elif spec["type"] == "mbconv":
        x = InvertedResidual(
            spec["out_channels"],
            expansion=spec["expand"],
            kernel_size=spec["kernel"],
            strides=spec["stride"],
            se_ratio=spec["se_ratio"],
            activation=spec["activation"],
        )(inputs)
    else:
        x = keras.layers.Conv2D(spec["out_channels"], 1, use_bias=False)(inputs)
        x = keras.layers.Activation(spec["activation"])(keras.layers.BatchNormalization()(x))
        x = keras.layers.Dense(spec["num_classes"])(keras.layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, x)


def _interpreter(tflite_bytes: bytes):
    import tensorflow as tf

    with warnings.catch_warnings():
        # tf.lite.Interpreter warns that it moves to the ai_edge_litert package, which is not
        # a dependency; the interpreter itself is unchanged in TensorFlow 2.21.
        warnings.filterwarnings("ignore", message=r"(?s).*tf\.lite\.Interpreter is deprecated")
        return tf.lite.Interpreter(model_content=tflite_bytes, num_threads=1)


def measure_model_latency(model: keras.Model, repeats: int = 50, warmup: int = 5) -> float:
    """Median latency in milliseconds of one-example inference of `model` under TFLite.

    Args:
        model: a Keras model with one input of batch size 1 (or unknown).
        repeats: timed invocations. Defaults to `50`.
        warmup: untimed invocations first. Defaults to `5`.

    Returns:
        The median wall time of one `invoke()`, in milliseconds (one interpreter thread).

    Example:

    ```python
    milliseconds = measure_model_latency(subnet)
    ```
    """
    from layers.validation import check_non_negative_int, check_positive_int
    from serving.tflite import to_tflite

    check_positive_int("repeats", repeats)
    check_non_negative_int("warmup", warmup)
    with contextlib.redirect_stdout(io.StringIO()):  # the converter prints its SavedModel
        tflite_bytes = to_tflite(model)
    interpreter = _interpreter(tflite_bytes)
    source = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(source["index"], (1, *source["shape"][1:]))
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]
    x = np.random.default_rng(0).random(source["shape"], dtype=np.float32)
    interpreter.set_tensor(source["index"], x)
    for _ in range(warmup):
        interpreter.invoke()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        interpreter.invoke()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000.0)


def measure_latency_table(
    specs: Iterable[dict], repeats: int = 50, warmup: int = 5, verbose: int = 0
) -> dict:
    """Measures every distinct block of `specs` and returns the lookup table.

    Args:
        specs: block specs (duplicates are measured once; `"skip"` blocks are not measured).
        repeats: timed invocations per block. Defaults to `50`.
        warmup: untimed invocations per block. Defaults to `5`.
        verbose: `1` shows a progress bar. Defaults to `0`.

    Returns:
        `{"unit": "ms", "device": ..., "repeats": ..., "latency": {key: median_ms}}`.

    Example:

    ```python
    table = measure_latency_table(supernet.latency_specs(), repeats=20)
    save_latency_table(table, "table.json")
    ```
    """
    unique = {}
    for spec in specs:
        key = block_key(spec)
        if spec["type"] != "skip":
            unique.setdefault(key, spec)
    progress = keras.utils.Progbar(len(unique), verbose=verbose) if verbose else None
    latency = {}
    for key, spec in unique.items():
        latency[key] = measure_model_latency(block_model(spec), repeats=repeats, warmup=warmup)
        keras.backend.clear_session()
        if progress is not None:
            progress.add(1)
    return {
        "unit": "ms",
        "device": f"{platform.machine()} {platform.processor() or platform.system()}, TFLite, "
        "1 thread",
        "repeats": repeats,
        "latency": latency,
    }


def predict_latency(blocks: Sequence[dict], table: dict) -> float:
    """Predicted latency in milliseconds of a network: the sum of its blocks' table entries.

    Args:
        blocks: the network's block specs, stem and head included (a search space's
            `latency_specs(config)` returns them).
        table: a table from `measure_latency_table` or `load_latency_table`.

    Returns:
        The sum of the blocks' median latencies (`"skip"` blocks count zero).

    Raises:
        ValueError: a block the table has no entry for (the error names its key).

    Example:

    ```python
    milliseconds = predict_latency(ofa.latency_specs(config), table)
    ```
    """
    entries = _entries(table)
    total = 0.0
    for spec in blocks:
        key = block_key(spec)
        if spec["type"] == "skip":
            continue
        if key not in entries:
            raise ValueError(
                "The latency table has no entry for this block; measure a table for this search "
                f"space (`zoo nas measure-latency`). Received: block={key!r}"
            )
        total += float(entries[key])
    return total


def _entries(table) -> dict:
    if not isinstance(table, dict) or not isinstance(table.get("latency"), dict):
        raise ValueError(
            "`table` must be a latency table: a dict with a 'latency' dict of block keys to "
            f"milliseconds. Received: table={type(table).__name__}"
        )
    return table["latency"]


def save_latency_table(table: dict, path: str | os.PathLike) -> None:
    """Writes a latency table as JSON.

    Example:

    ```python
    save_latency_table(table, "table.json")
    ```
    """
    _entries(table)
    with open(path, "w", encoding="utf-8") as file:
        json.dump(table, file, indent=1, sort_keys=True)


def load_latency_table(path: str | os.PathLike) -> dict:
    """Reads a latency table written by `save_latency_table`.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is not a latency table.

    Example:

    ```python
    table = load_latency_table("table.json")
    ```
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No latency table at this path. Received: path={str(path)!r}")
    with open(path, encoding="utf-8") as file:
        table = json.load(file)
    _entries(table)
    return table
