"""The TensorFlow Addons side of `benchmarks.bench_tfa`: run by it, in its own environment.

Not a `bench_*` module (`make bench` does not run it): `bench_tfa` starts it with `TFA_PYTHON`
(TensorFlow 2.15.1, its Keras 2 as `tf.keras`, tensorflow-addons 0.23.0, numpy; `make bench-tfa`
makes `.venv-tfa`) as a worker that reads one JSON request per line on stdin and answers one
JSON line, prefixed `@@ `, on stdout. It imports only tensorflow, tensorflow_addons and numpy:
never Keras 3 or this project (the driver also drops `PYTHONPATH` from its environment).

Every workload is described by the driver's request (shapes, batch size, steps, seed, optimizer,
loss); the arrays are generated here from the same `numpy.random.default_rng(seed)` calls as on
the driver's side and their SHA-256 digest is returned, so the driver checks that both sides
train on the same bytes. Models are trained with `tf.keras` `fit` on NumPy arrays, no XLA: what
a TFA user wrote. A failed request answers `{"error": ...}` (traceback on stderr).

Run alone only to check the environment: `$TFA_PYTHON benchmarks/tfa_peer.py --check`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import os
import sys
import time
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_addons as tfa  # noqa: E402

RUNS_IN_PEER_ENVIRONMENT = True  # TF 2.15 + Keras 2 + TFA only; bench_tfa drives it


def versions() -> dict:
    """What this side runs: TensorFlow, its Keras 2, TFA, NumPy, and the thread pools."""
    return {
        "tensorflow": tf.__version__,
        "keras": importlib.metadata.version("keras"),
        "tensorflow_addons": tfa.__version__,
        "numpy": np.__version__,
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
    }


# ----------------------------------------------------------------------------- data and models
# `make_data` and `digest` must stay byte-for-byte equivalent to bench_tfa's.


def make_data(spec: dict) -> tuple[np.ndarray, np.ndarray]:
    """`batch_size * steps` standard-normal float32 examples and int32 labels in [0, classes)."""
    rng = np.random.default_rng(spec["seed"])
    count = spec["batch_size"] * spec["steps"]
    x = rng.standard_normal((count, *spec["input_shape"]), dtype=np.float32)
    y = rng.integers(0, spec["classes"], count, dtype=np.int32)
    return x, y


def digest(*arrays: np.ndarray) -> str:
    """A short SHA-256 of the arrays' bytes: equal on both sides when the data are the same."""
    sha = hashlib.sha256()
    for array in arrays:
        sha.update(np.ascontiguousarray(array).tobytes())
    return sha.hexdigest()[:16]


def build_model(spec: dict) -> tf.keras.Model:
    """The workload's network, layer for layer as on the driver's side."""
    layers = tf.keras.layers
    inputs = tf.keras.Input(tuple(spec["input_shape"]))
    if spec["model"] == "mlp":
        x = inputs
        for units in spec["hidden"]:
            x = layers.Dense(units, activation="relu")(x)
        outputs = layers.Dense(spec["classes"])(x)
    elif spec["model"] == "embedding":
        outputs = layers.Dense(spec["embedding_dim"])(inputs)
    else:  # "conv_norm" or "conv"
        x = inputs
        for _ in range(2):
            x = layers.Conv2D(spec["filters"], 3, padding="same")(x)
            if spec["model"] == "conv_norm":
                x = tfa.layers.InstanceNormalization()(x)
            x = layers.ReLU()(x)
        x = layers.GlobalAveragePooling2D()(x)
        outputs = layers.Dense(spec["classes"])(x)
    return tf.keras.Model(inputs, outputs)


def make_optimizer(spec: dict):
    """TFA's optimizers at their defaults; `tfa.optimizers.Lookahead` takes only legacy ones."""
    name = spec["optimizer"]
    if name == "adam":
        return tf.keras.optimizers.Adam()
    if name == "adam_legacy":
        return tf.keras.optimizers.legacy.Adam()
    if name == "radam":
        return tfa.optimizers.RectifiedAdam()
    if name not in ("lookahead", "ranger"):
        raise ValueError(f"unknown optimizer {name!r}")
    # tfa.optimizers.Lookahead raises TypeError on TF >= 2.11's `tf.keras.optimizers.Adam`:
    # it wraps `tf.keras.optimizers.legacy.Optimizer`s only.
    if name == "lookahead":
        inner = tf.keras.optimizers.legacy.Adam()
    else:
        inner = tfa.optimizers.RectifiedAdam()
    return tfa.optimizers.Lookahead(
        inner, sync_period=spec["sync_period"], slow_step_size=spec["slow_step_size"]
    )


def make_loss(spec: dict):
    """Cross-entropy on logits, or TFA's semi-hard / hard triplet loss (euclidean, "L2")."""
    if spec["loss"] == "semi_hard":
        return tfa.losses.TripletSemiHardLoss(margin=spec["margin"], distance_metric="L2")
    if spec["loss"] == "hard":
        return tfa.losses.TripletHardLoss(margin=spec["margin"], distance_metric="L2")
    if spec["loss"] == "sparse_ce":
        return tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    raise ValueError(f"unknown loss {spec['loss']!r}")


def hyperparameters(model: tf.keras.Model) -> dict:
    """Learning rate, betas, epsilon, Lookahead's k and alpha, instance norm's settings."""
    keys = ("learning_rate", "beta_1", "beta_2", "epsilon", "sync_period", "slow_step_size")
    found = {}

    def collect(config: dict) -> None:
        found.update({k: config[k] for k in keys if k in config})
        inner = config.get("optimizer")
        if isinstance(inner, dict):
            collect(inner.get("config", inner))

    collect(model.optimizer.get_config())
    for layer in model.layers:
        if isinstance(layer, tfa.layers.InstanceNormalization):
            config = layer.get_config()
            found.update({f"norm_{k}": config[k] for k in ("epsilon", "center", "scale")})
            break
    return {k: float(f"{float(v):.6g}") for k, v in found.items()}


# ----------------------------------------------------------------------------- runners


class Timer(tf.keras.callbacks.Callback):
    """Milliseconds of every training step and of every epoch, boundary to boundary.

    A step runs from `on_train_batch_begin` to `on_train_batch_end`; an epoch from the end of
    the previous one (or `on_train_begin`) to its own end, so it holds iterator creation.
    """

    def __init__(self):
        super().__init__()
        self.steps: list[float] = []
        self.epochs: list[float] = []

    def on_train_begin(self, logs=None):
        self.mark = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        self.begin = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.steps.append((time.perf_counter() - self.begin) * 1000)

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self.epochs.append((now - self.mark) * 1000)
        self.mark = now


class FitRunner:
    """One `tf.keras` model on one workload, trained with `fit` on NumPy arrays in chunks."""

    def __init__(self, spec: dict):
        tf.keras.utils.set_random_seed(spec["model_seed"])
        self.x, self.y = make_data(spec)
        self.batch_size = spec["batch_size"]
        self.model = build_model(spec)
        self.model.compile(optimizer=make_optimizer(spec), loss=make_loss(spec))

    def describe(self) -> dict:
        return {
            "params": self.model.count_params(),
            "digest": digest(self.x, self.y),
            "hyperparameters": hyperparameters(self.model),
        }

    def chunk(self, epochs: int) -> dict:
        timer = Timer()
        start = time.perf_counter()
        history = self.model.fit(
            self.x,
            self.y,
            batch_size=self.batch_size,
            epochs=epochs,
            shuffle=False,
            verbose=0,
            callbacks=[timer],
        )
        fit_ms = (time.perf_counter() - start) * 1000
        return {
            "step_ms": timer.steps,
            "epoch_ms": timer.epochs,
            "fit_ms": fit_ms,
            "epochs": epochs,
            "loss": float(history.history["loss"][-1]),
        }


class LossRunner:
    """One triplet loss call on a fixed batch inside `tf.function` (optionally XLA), timed."""

    def __init__(self, spec: dict):
        x, y = make_data(spec)
        self.digest = digest(x, y)
        self.x, self.y = tf.constant(x), tf.constant(y)
        loss = make_loss(spec)
        # Arguments, not captured constants: XLA would otherwise fold the whole loss away.
        self.function = tf.function(lambda y, x: loss(y, x), jit_compile=spec["jit"])
        self.call()  # traces (and compiles) here, so that a failure answers the set-up

    def describe(self) -> dict:
        return {"digest": self.digest}

    def call(self) -> float:
        return float(self.function(self.y, self.x))

    def chunk(self, calls: int) -> dict:
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            self.call()
            times.append((time.perf_counter() - start) * 1000)
        return {"call_ms": times}


def parity(spec: dict) -> dict:
    """One eager loss value on the fixed batch, for the driver's agreement check."""
    x, y = make_data(spec)
    value = float(make_loss(spec)(tf.constant(y), tf.constant(x)))
    if not math.isfinite(value):
        raise ValueError(f"TFA {spec['loss']} loss is {value}")
    return {"value": value, "digest": digest(x, y)}


# ----------------------------------------------------------------------------- the loop


def answer(request: dict, runners: dict) -> dict:
    """Carries out one request; `runners` holds the set-up fit and loss runners by key."""
    op = request["op"]
    if op == "threads":
        tf.config.threading.set_intra_op_parallelism_threads(request["threads"])
        tf.config.threading.set_inter_op_parallelism_threads(request["threads"])
        return versions()
    if op == "setup":
        runner = (FitRunner if request["kind"] == "fit" else LossRunner)(request["spec"])
        runners[request["key"]] = runner
        return runner.describe()
    if op == "chunk":
        return runners[request["key"]].chunk(request["count"])
    if op == "drop":
        runners.pop(request["key"], None)
        return {}
    if op == "parity":
        return parity(request["spec"])
    raise ValueError(f"unknown op {op!r}")


def serve() -> None:
    runners: dict = {}
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "quit":
            break
        try:
            result = answer(request, runners)
        except Exception as error:  # noqa: BLE001 (reported to the driver, which decides)
            traceback.print_exc(file=sys.stderr)
            sys.stderr.flush()
            result = {"error": f"{type(error).__name__}: {error}"}
        print("@@ " + json.dumps(result), flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        print(json.dumps(versions()))
    else:
        serve()
