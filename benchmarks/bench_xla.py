"""Per family: a `fit` step with and without XLA (`jit_compile=True`), on this machine's CPU.

What decides each family's `default_jit_compile` (the zoo's task models compile with it; `zoo
train --no-xla` and `jit_compile=False` turn it off). One representative model per family, as
`zoo.create` builds it (text: BERT at the `bert_tiny` size), trains on fixed random batches of
its own input shapes from a repeated `tf.data` pipeline; both variants start from the same
weights and run in interleaved rounds (order flipped every round). Steady per-step time: each
batch timed by a callback, median after a warm-up epoch. Ratio = plain / XLA (above 1: XLA
faster).

Run: `.venv/bin/python -m benchmarks.bench_xla` (env: `XLA_ROUNDS`, default 4;
`XLA_MODELS`, a comma list of the rows below' names).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from benchmarks.fit_timer import fit_timer  # noqa: E402

ROUNDS = int(os.environ.get("XLA_ROUNDS", "4"))
STEPS = 12
BERT_TINY = {"num_layers": 2, "num_heads": 2, "hidden_dim": 128, "intermediate_dim": 512}

# (family, registered model, overrides, batch size)
ROWS = [
    ("basic", "mlp_digits", {}, 64),
    ("basic", "cnn_digits", {}, 64),
    ("resnet", "resnet_digits", {}, 64),
    ("vit", "vit_tiny_digits", {}, 64),
    ("swin", "swin_tiny_32", {}, 32),
    ("mobilenet", "mobilenet_v2_050_32", {}, 32),
    ("bayesian", "bayesian_cnn_digits", {}, 64),
    ("bert", "bert_classifier", {**BERT_TINY, "vocabulary_size": 1000}, 32),
    ("bert", "bert_token_classifier", {**BERT_TINY, "vocabulary_size": 1000}, 32),
]
SEQUENCE_LENGTH = 128


def random_inputs(model: keras.Model, batch: int, rng) -> dict | np.ndarray:
    """A batch for every model input: token ids in [0, 1000), masks of ones, images N(0, 1)."""
    values = {}
    for tensor in model.inputs:
        shape = [batch, *(SEQUENCE_LENGTH if d is None else d for d in tensor.shape[1:])]
        name = tensor.name.split(":")[0]
        if "int" in str(tensor.dtype) or "bool" in str(tensor.dtype):
            high = 1000 if "token" in name else 2
            values[name] = rng.integers(1 if "mask" in name else 0, high, size=shape)
            values[name] = values[name].astype(str(tensor.dtype))
        else:
            values[name] = rng.normal(size=shape).astype("float32")
    return values if len(values) > 1 else next(iter(values.values()))


def random_labels(model: keras.Model, batch: int, rng) -> np.ndarray:
    output = model.outputs[0]
    shape = [batch, *(SEQUENCE_LENGTH if d is None else d for d in output.shape[1:-1])]
    return rng.integers(0, output.shape[-1], size=shape)


def compiled_model(name: str, overrides: dict, jit: bool) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = zoo.create(name, **overrides)
    model.compile(jit_compile=jit)
    return model


def measure(name: str, overrides: dict, batch: int) -> dict[str, float]:
    """Median step seconds of the plain and the XLA model, interleaved."""
    rng = np.random.default_rng(0)
    models = {jit: compiled_model(name, overrides, jit) for jit in (False, True)}
    x, y = random_inputs(models[False], batch, rng), random_labels(models[False], batch, rng)
    data = tf.data.Dataset.from_tensors((x, y)).repeat().prefetch(2)
    times = {jit: [] for jit in models}

    def run(jit: bool) -> list[float]:
        timer = fit_timer()
        models[jit].fit(
            data, steps_per_epoch=STEPS, epochs=1, verbose=0, callbacks=[timer], shuffle=False
        )
        return [ms / 1000 for ms in timer.steps]

    for jit in models:
        run(jit)  # warm-up: tracing and compilation
    for r in range(ROUNDS):
        for jit in (False, True) if r % 2 == 0 else (True, False):
            times[jit] += run(jit)
    return {jit: float(np.median(values)) for jit, values in times.items()}


def main() -> None:
    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(2)
    wanted = os.environ.get("XLA_MODELS")
    rows = [r for r in ROWS if not wanted or r[1] in wanted.split(",")]
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}; {ROUNDS} rounds x {STEPS}")
    print("| family | model | batch | plain ms/step | XLA ms/step | ratio plain/XLA |")
    print("|---|---|---:|---:|---:|---:|")
    for family, name, overrides, batch in rows:
        medians = measure(name, overrides, batch)
        plain, xla = 1000 * medians[False], 1000 * medians[True]
        print(
            f"| {family} | {name} | {batch} | {plain:.2f} | {xla:.2f} | {plain / xla:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
