"""Training step time of keras-zoo's optimizers, triplet losses and instance norm vs TFA.

keras-zoo replaces TensorFlow Addons (TFA) pieces with Keras 3 ones: `layers.optimizers.RAdam`,
`Lookahead` and `Ranger`, `layers.losses.TripletLoss`, `layers.InstanceNormalization`. This
module times the same training on both stacks in one run. The TFA side
(`benchmarks/tfa_peer.py`) runs from its own environment, `TFA_PYTHON` (TensorFlow 2.15.1, its
Keras 2 as `tf.keras`, tensorflow-addons 0.23.0: TFA's last release; `make bench-tfa` makes
`.venv-tfa`), as a worker process that this module drives request by request, so the sides
alternate within one run.

Workloads (each side generates the same arrays from `numpy.random.default_rng(0)`, the loss
batch from `default_rng(1)`; the bytes' digests, the parameter counts and the optimizer /
normalisation settings are compared and must agree; model weights start from each stack's own
seeded initialisers):

- MLP 784-1024-1024-10 (ReLU, logits, sparse cross-entropy), batch 256, 20 steps an epoch, with
  `adam` (Keras 3 `Adam` / `tf.keras.optimizers.Adam`), `radam` (`RAdam` /
  `tfa.optimizers.RectifiedAdam`), `lookahead` (`Lookahead(Adam(), 6, 0.5)` /
  `tfa.optimizers.Lookahead(tf.keras.optimizers.legacy.Adam(), 6, 0.5)`: TFA's wrapper refuses
  TF 2.15's non-legacy optimizers) and `ranger` (`Ranger()` /
  `tfa.optimizers.Lookahead(RectifiedAdam(), 6, 0.5)`), all at their defaults (lr 1e-3, betas
  0.9 / 0.999, epsilon 1e-7, RAdam threshold 5, no warm-up). The two RAdams differ only where
  epsilon goes (ours as `torch.optim.RAdam`, `sqrt(1 - beta_2^t) / (sqrt(v) + eps)`; TFA's
  `1 / (sqrt(v / (1 - beta_2^t)) + eps)`) and in `rho_t > 5` vs `>= 5`: the same work.
  `adam_legacy` trains the MLP with `tf.keras.optimizers.legacy.Adam` on the TFA side only: the
  base class of every TFA optimizer, so the overhead table shows TFA's optimizers over both.
- Triplet: `Dense(128)` embedding of 784 inputs, 16 classes, batch 256, 20 steps an epoch, Adam;
  `TripletLoss(strategy="semi_hard" | "hard")` (margin 1, euclidean) vs TFA's
  `TripletSemiHardLoss` / `TripletHardLoss` (margin 1, "L2": euclidean, not squared). One loss
  value on a fixed random [256, 128] batch must agree within 1e-4 (relative) across the sides;
  the same batch times the loss alone in `tf.function`, with and without `jit_compile` (ours
  compiles its own mining with XLA by default; `TripletLoss(jit_compile=False)`, op by op, is
  timed too).
- Instance norm: Conv2D(32, 3) -> InstanceNormalization -> ReLU, twice, GAP, Dense(10) on
  64x64x3 images, batch 32, 10 steps an epoch, Adam (epsilon 1e-3, center and scale on both
  sides: the defaults agree). `conv_control` is the same net without the two norms; with `adam`
  it shows what the Keras 3 vs Keras 2 stack itself costs.

Sides: `TFA` (`tf.keras` `fit` on NumPy arrays, no XLA: what a TFA user wrote), `ours, Keras
default` (Keras 3 `fit` on NumPy arrays, `jit_compile` left at "auto": off on a CPU-only
machine), `ours, tf.data` (a batched, prefetched `tf.data.Dataset` built once), `ours, tf.data
repeated` (the same pipeline `.repeat()`ed, with `steps_per_epoch`: `fit` keeps one iterator
across epochs, the way `zoo train` feeds it) and `ours, tf.data + XLA` (`jit_compile=True`).
Each side trains one model per workload with `fit` in chunks of epochs: a warm-up chunk for
every side, then rounds of one chunk per side, the order reversed every other round. Steady
step time: median of every batch's
`on_train_batch_begin` -> `on_train_batch_end` (the batch hooks make both stacks hand Python
floats to callbacks every batch). Whole-epoch time: each `fit` call's wall time over its
epochs, median over rounds (holds iterator creation and `fit`'s set-up). Stalls: epochs
(timed from the previous epoch's end) longer than 1.5x the side's median epoch. Ratios are TFA
time / our time: above 1, ours is faster.

Run: `TFA_PYTHON=.venv-tfa/bin/python .venv/bin/python -m benchmarks.bench_tfa` (`make
bench-tfa`; about 10-15 minutes on 2 cores). Env: `TFA_ROUNDS=5`, `TFA_CHUNK_EPOCHS=3`,
`TFA_WORKLOADS` (comma list of the names above, default all), `TFA_THREADS=2` (TF intra- and
inter-op threads on both sides), `TFA_PYTHON`. Without the TFA environment the TFA columns
read n/a. The tables are printed and written to `artifacts/bench_tfa.md`.
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

from benchmarks.fit_timer import fit_timer  # noqa: E402
from benchmarks.peer_worker import PeerWorker  # noqa: E402

ROUNDS = int(os.environ.get("TFA_ROUNDS", "5"))
CHUNK_EPOCHS = int(os.environ.get("TFA_CHUNK_EPOCHS", "3"))
THREADS = int(os.environ.get("TFA_THREADS", "2"))
TFA_PYTHON = os.environ.get("TFA_PYTHON", ".venv-tfa/bin/python")
PEER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tfa_peer.py")
OUTPUT = os.path.join("artifacts", "bench_tfa.md")

STALL_FACTOR = 1.5
PARITY_TOLERANCE = 1e-4
LOSS_CALLS, LOSS_WARMUP = 50, 5
SIDES = ("TFA", "ours default", "ours tf.data", "ours repeat", "ours XLA")

COMMON = {"seed": 0, "model_seed": 0, "sync_period": 6, "slow_step_size": 0.5, "margin": 1.0}
MLP = {
    **COMMON,
    "model": "mlp",
    "input_shape": [784],
    "hidden": [1024, 1024],
    "classes": 10,
    "batch_size": 256,
    "steps": 20,
    "loss": "sparse_ce",
}
TRIPLET = {
    **COMMON,
    "model": "embedding",
    "input_shape": [784],
    "embedding_dim": 128,
    "classes": 16,
    "batch_size": 256,
    "steps": 20,
    "optimizer": "adam",
}
CONV = {
    **COMMON,
    "input_shape": [64, 64, 3],
    "filters": 32,
    "classes": 10,
    "batch_size": 32,
    "steps": 10,
    "optimizer": "adam",
    "loss": "sparse_ce",
}
WORKLOADS = {
    "adam": {**MLP, "optimizer": "adam", "label": "MLP, Adam"},
    "adam_legacy": {
        **MLP,
        "optimizer": "adam_legacy",
        "tfa_only": True,
        "label": "MLP, legacy Adam (TFA side only)",
    },
    "radam": {**MLP, "optimizer": "radam", "label": "MLP, RAdam"},
    "lookahead": {**MLP, "optimizer": "lookahead", "label": "MLP, Lookahead(Adam)"},
    "ranger": {**MLP, "optimizer": "ranger", "label": "MLP, Ranger"},
    "triplet_semi_hard": {**TRIPLET, "loss": "semi_hard", "label": "triplet semi-hard, fit"},
    "triplet_hard": {**TRIPLET, "loss": "hard", "label": "triplet hard, fit"},
    "instance_norm": {**CONV, "model": "conv_norm", "label": "instance norm CNN"},
    "conv_control": {**CONV, "model": "conv", "label": "conv control (no norm)"},
}
SELECTED = tuple(os.environ.get("TFA_WORKLOADS", ",".join(WORKLOADS)).split(","))
# The fixed batch of the loss parity check and of the loss-alone timing.
LOSS_BATCH = {
    "seed": 1,
    "input_shape": [128],
    "classes": 16,
    "batch_size": 256,
    "steps": 1,
    "margin": 1.0,
}


def configure_threads() -> None:
    """`THREADS` intra- and inter-op threads; must run before TensorFlow's first op."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(THREADS)


def cpu_name() -> str:
    """The CPU's model name from `/proc/cpuinfo`, or "unknown CPU"."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


# ----------------------------------------------------------------------------- the TFA worker


class Peer(PeerWorker):
    """The TFA worker (`tfa_peer.py` in `TFA_PYTHON`); `info` is its set-up answer."""

    def __init__(self, log_path: str):
        super().__init__("TFA", TFA_PYTHON, PEER_SCRIPT, log_path)
        self.info = self.request("threads", threads=THREADS)


def start_peer(log_path: str) -> Peer | None:
    """The TFA worker, or None when `TFA_PYTHON` does not exist."""
    if not os.path.exists(TFA_PYTHON):
        return None
    return Peer(log_path)


class PeerSide:
    """One runner set up in the worker, driven like our sides: `chunk(count) -> dict`."""

    def __init__(self, peer: Peer, key: str):
        self.peer, self.key = peer, key

    def chunk(self, count: int) -> dict:
        return self.peer.request("chunk", key=self.key, count=count)

    def drop(self) -> None:
        self.peer.request("drop", key=self.key)


# ----------------------------------------------------------------------------- our side
# `make_data` and `digest` must stay byte-for-byte equivalent to tfa_peer's.


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


def build_model(spec: dict):
    """The workload's network in Keras 3, layer for layer as `tfa_peer.build_model`."""
    import keras

    from layers import InstanceNormalization

    inputs = keras.Input(tuple(spec["input_shape"]))
    if spec["model"] == "mlp":
        x = inputs
        for units in spec["hidden"]:
            x = keras.layers.Dense(units, activation="relu")(x)
        outputs = keras.layers.Dense(spec["classes"])(x)
    elif spec["model"] == "embedding":
        outputs = keras.layers.Dense(spec["embedding_dim"])(inputs)
    else:  # "conv_norm" or "conv"
        x = inputs
        for _ in range(2):
            x = keras.layers.Conv2D(spec["filters"], 3, padding="same")(x)
            if spec["model"] == "conv_norm":
                x = InstanceNormalization()(x)
            x = keras.layers.ReLU()(x)
        x = keras.layers.GlobalAveragePooling2D()(x)
        outputs = keras.layers.Dense(spec["classes"])(x)
    return keras.Model(inputs, outputs)


def make_optimizer(spec: dict):
    """Our optimizer for the workload, at its defaults (checked against TFA's at run time)."""
    import keras

    from layers.optimizers import Lookahead, RAdam, Ranger

    name = spec["optimizer"]
    if name == "adam":
        return keras.optimizers.Adam()
    if name == "radam":
        return RAdam()
    if name == "ranger":
        return Ranger()
    if name != "lookahead":
        raise ValueError(f"unknown optimizer {name!r}")
    return Lookahead(
        keras.optimizers.Adam(),
        sync_period=spec["sync_period"],
        slow_step_size=spec["slow_step_size"],
    )


def make_loss(spec: dict):
    """Sparse cross-entropy on logits, or our triplet loss (euclidean, TFA's "L2")."""
    import keras

    from layers.losses import TripletLoss

    if spec["loss"] in ("semi_hard", "hard"):
        return TripletLoss(
            margin=spec["margin"],
            strategy=spec["loss"],
            distance="euclidean",
            jit_compile=spec.get("loss_jit", True),
        )
    if spec["loss"] == "sparse_ce":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    raise ValueError(f"unknown loss {spec['loss']!r}")


def hyperparameters(model) -> dict:
    """Learning rate, betas, epsilon, Lookahead's k and alpha, instance norm's settings."""
    from layers import InstanceNormalization

    keys = ("learning_rate", "beta_1", "beta_2", "epsilon", "sync_period", "slow_step_size")
    found = {}

    def collect(config: dict) -> None:
        found.update({k: config[k] for k in keys if k in config})
        inner = config.get("optimizer")
        if isinstance(inner, dict):
            collect(inner.get("config", inner))

    collect(model.optimizer.get_config())
    for layer in model.layers:
        if isinstance(layer, InstanceNormalization):
            config = layer.get_config()
            found.update({f"norm_{k}": config[k] for k in ("epsilon", "center", "scale")})
            break
    return {k: float(f"{float(v):.6g}") for k, v in found.items()}


class OursFit:
    """One Keras 3 model on one workload: `mode` is "default", "tf.data", "repeat" or "XLA"."""

    def __init__(self, spec: dict, mode: str):
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(spec["model_seed"])
        self.x, self.y = make_data(spec)
        self.batch_size = spec["batch_size"]
        self.model = build_model(spec)
        jit = {"jit_compile": True} if mode == "XLA" else {}
        self.model.compile(optimizer=make_optimizer(spec), loss=make_loss(spec), **jit)
        self.dataset, self.steps = None, None
        if mode != "default":
            self.dataset = (
                tf.data.Dataset.from_tensor_slices((self.x, self.y))
                .batch(self.batch_size)
                .prefetch(tf.data.AUTOTUNE)
            )
        if mode == "repeat":
            # One endless pipeline: `fit` keeps its iterator from one epoch to the next.
            self.dataset, self.steps = self.dataset.repeat(), spec["steps"]

    def describe(self) -> dict:
        return {
            "params": self.model.count_params(),
            "digest": digest(self.x, self.y),
            "hyperparameters": hyperparameters(self.model),
        }

    def chunk(self, epochs: int) -> dict:
        timer = fit_timer()
        options = {"epochs": epochs, "shuffle": False, "verbose": 0, "callbacks": [timer]}
        start = time.perf_counter()
        if self.dataset is None:
            history = self.model.fit(self.x, self.y, batch_size=self.batch_size, **options)
        else:
            history = self.model.fit(self.dataset, steps_per_epoch=self.steps, **options)
        return {
            "step_ms": timer.steps,
            "epoch_ms": timer.epochs,
            "fit_ms": (time.perf_counter() - start) * 1000,
            "epochs": epochs,
            "loss": float(history.history["loss"][-1]),
        }


class OursLoss:
    """Our triplet loss on the fixed batch inside `tf.function` (optionally XLA), timed."""

    def __init__(self, spec: dict):
        import tensorflow as tf

        x, y = make_data(spec)
        self.x, self.y = tf.constant(x), tf.constant(y)
        loss = make_loss(spec)
        # Arguments, not captured constants: XLA would otherwise fold the whole loss away.
        self.function = tf.function(lambda y, x: loss(y, x), jit_compile=spec["jit"])
        self.call()  # traces (and compiles) here, as the peer does

    def call(self) -> float:
        return float(self.function(self.y, self.x))

    def chunk(self, calls: int) -> dict:
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            self.call()
            times.append((time.perf_counter() - start) * 1000)
        return {"call_ms": times}


# ----------------------------------------------------------------------------- measuring


def alternate_chunks(sides: dict, warmup: int, chunk: int, rounds: int) -> dict[str, list]:
    """Each side's chunk results; `sides` maps a name to `run(count) -> dict`.

    Each side runs one `warmup` chunk first (tracing, compiling, caches; its result is
    dropped); then every round runs one `chunk` of each side in turn, the order reversed every
    other round.
    """
    for run in sides.values():
        run(warmup)
    results: dict[str, list] = {name: [] for name in sides}
    names = list(sides)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            results[name].append(sides[name](chunk))
    return results


def finite_loss(workload: str, side: str, run):
    """`run`, raising if a chunk ends with a loss that is not finite."""

    def checked(count: int) -> dict:
        result = run(count)
        if not math.isfinite(result["loss"]):
            raise FloatingPointError(f"{workload}, {side}: loss {result['loss']}")
        return result

    return checked


def fit_summary(chunks: list[dict]) -> dict:
    """Median step ms, median whole-epoch ms, stall count and epochs, last loss of a side."""
    steps = [ms for c in chunks for ms in c["step_ms"]]
    epochs = np.array([ms for c in chunks for ms in c["epoch_ms"]])
    return {
        "step_ms": float(np.median(steps)),
        "epoch_ms": float(np.median([c["fit_ms"] / c["epochs"] for c in chunks])),
        "stalls": int(np.sum(epochs > STALL_FACTOR * np.median(epochs))),
        "epochs": len(epochs),
        "loss": chunks[-1]["loss"],
    }


def check_same(workload: str, ours: dict, tfa: dict) -> None:
    """Raises unless both sides have the same data, parameter count and settings."""
    for key in ("digest", "params", "hyperparameters"):
        if ours[key] != tfa[key]:
            raise AssertionError(f"{workload}: {key} differs: ours {ours[key]}, TFA {tfa[key]}")


def fit_sides(name: str, spec: dict, peer: Peer | None) -> tuple[dict, list]:
    """The runnable sides of one workload (name -> run) and the objects to release after."""
    sides, held = {}, []
    reference = None
    if not spec.get("tfa_only"):
        for mode, side in (
            ("default", "ours default"),
            ("tf.data", "ours tf.data"),
            ("repeat", "ours repeat"),
        ):
            held.append(OursFit(spec, mode))
            sides[side] = held[-1].chunk
        held.append(OursFit(spec, "XLA"))
        sides["ours XLA"] = held[-1].chunk
        reference = held[0].describe()
    if peer is not None:
        tfa = peer.request("setup", key=name, kind="fit", spec=spec)
        if reference is not None:
            check_same(name, reference, tfa)
        held.append(PeerSide(peer, name))
        sides = {"TFA": held[-1].chunk, **sides}
    return {side: finite_loss(name, side, run) for side, run in sides.items()}, held


def run_workload(name: str, peer: Peer | None) -> dict:
    """Per side: the `fit_summary` of its rounds; also our default mode's resolved XLA flag."""
    import keras

    spec = WORKLOADS[name]
    start = time.perf_counter()
    sides, held = fit_sides(name, spec, peer)
    results = alternate_chunks(sides, CHUNK_EPOCHS, CHUNK_EPOCHS, ROUNDS)
    summary = {side: fit_summary(chunks) for side, chunks in results.items()}
    ours = [h for h in held if isinstance(h, OursFit)]
    if ours:
        summary["default_jit"] = bool(ours[0].model.jit_compile)
    for h in held:
        if isinstance(h, PeerSide):
            h.drop()
    del held, sides
    keras.backend.clear_session()
    gc.collect()
    steps = ", ".join(f"{s} {summary[s]['step_ms']:.2f}" for s in SIDES if s in summary)
    losses = ", ".join(f"{s} {summary[s]['loss']:.4g}" for s in SIDES if s in summary)
    print(
        f"{name}: step ms {steps}; final loss {losses} ({time.perf_counter() - start:.0f} s)",
        flush=True,
    )
    return summary


def loss_spec(strategy: str, jit: bool = False) -> dict:
    return {**LOSS_BATCH, "loss": strategy, "jit": jit}


def parity(strategy: str, peer: Peer | None) -> str:
    """Our and TFA's loss on the fixed batch; raises if they differ by more than the tolerance."""
    spec = loss_spec(strategy)
    x, y = make_data(spec)
    ours = float(make_loss(spec)(y, x))
    if not math.isfinite(ours):
        raise FloatingPointError(f"our {strategy} triplet loss is {ours}")
    line = f"Parity, triplet {strategy} on a fixed [256, 128] batch, 16 classes: ours {ours:.7f}"
    if peer is None:
        return line + ", TFA n/a."
    tfa = peer.request("parity", spec=spec)
    if tfa["digest"] != digest(x, y):
        raise AssertionError(f"parity batch differs: ours {digest(x, y)}, TFA {tfa['digest']}")
    relative = abs(ours - tfa["value"]) / max(abs(tfa["value"]), 1e-12)
    if relative > PARITY_TOLERANCE:
        raise AssertionError(f"triplet {strategy}: ours {ours}, TFA {tfa['value']}")
    return line + f", TFA {tfa['value']:.7f} (relative difference {relative:.1e})."


def loss_alone(strategy: str, peer: Peer | None) -> tuple[dict, list[str]]:
    """Median ms of one loss call on each side, tf.function and XLA; notes on sides that failed."""
    sides, keys, notes = {}, [], []
    for jit, suffix in ((False, ""), (True, " XLA")):
        spec = loss_spec(strategy, jit)
        if peer is not None:
            key = f"loss_{strategy}_{int(jit)}"
            answer = peer.request("setup", allow_error=True, key=key, kind="loss", spec=spec)
            if "error" in answer:
                notes.append(f"TFA {strategy}{suffix}: {answer['error']}")
            else:
                if answer["digest"] != digest(*make_data(spec)):
                    raise AssertionError(f"loss batch differs for {strategy}")
                keys.append(key)
                sides["TFA" + suffix] = PeerSide(peer, key).chunk
        sides["ours" + suffix] = OursLoss(spec).chunk
        if not jit:
            sides["ours op by op"] = OursLoss({**spec, "loss_jit": False}).chunk
    per_round = -(-LOSS_CALLS // ROUNDS)
    results = alternate_chunks(sides, LOSS_WARMUP, per_round, ROUNDS)
    for key in keys:
        peer.request("drop", key=key)
    medians = {
        s: float(np.median([t for c in r for t in c["call_ms"]])) for s, r in results.items()
    }
    print(f"triplet {strategy} loss alone, median ms: {medians}", flush=True)
    return medians, notes


# ----------------------------------------------------------------------------- tables


def _ms(value: float | None) -> str:
    return f"{value:.2f}" if value else "n/a"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    """TFA time / our time (or a side's time / its own Adam's): above 1, the second is faster."""
    return f"{numerator / denominator:.2f}" if numerator and denominator else "n/a"


def _value(summaries: dict, workload: str, side: str, key: str) -> float | None:
    return summaries.get(workload, {}).get(side, {}).get(key)


def time_table(summaries: dict, key: str, stalls: bool) -> list[str]:
    """Table 1 (`key="step_ms"`) or 2 (`"epoch_ms"`, with stall counts): one row a workload."""
    header = (
        "| workload | TFA | ours Keras default | ours tf.data | ours tf.data repeated | "
        "ours tf.data + XLA | TFA/ours (Keras default) | TFA/ours (repeated) | TFA/ours (XLA) |"
    )
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    if stalls:
        header += " stalls TFA / default / tf.data / repeated / XLA |"
        rule += "---|"
    rows = [header, rule]
    for name, sides in summaries.items():
        values = {s: _value(summaries, name, s, key) for s in SIDES}
        row = f"| {WORKLOADS[name]['label']} | " + " | ".join(_ms(values[s]) for s in SIDES)
        row += f" | {_ratio(values['TFA'], values['ours default'])} | "
        row += f"{_ratio(values['TFA'], values['ours repeat'])} | "
        row += f"{_ratio(values['TFA'], values['ours XLA'])} |"
        if stalls:
            counts = [sides[s] for s in SIDES if s in sides]
            epochs = counts[0]["epochs"] if counts else 0
            cells = [str(sides[s]["stalls"]) if s in sides else "-" for s in SIDES]
            row += f" {' / '.join(cells)} (of {epochs}) |"
        rows.append(row)
    return rows


def overhead_table(summaries: dict) -> list[str]:
    """Table 3: each optimizer's steady step over its own stack's Adam step."""
    rows = [
        "| optimizer | TFA / TFA Adam | TFA / TFA legacy Adam | ours default / ours Adam "
        "| ours XLA / ours XLA Adam |",
        "|---|---:|---:|---:|---:|",
    ]

    def step(workload: str, side: str) -> float | None:
        return _value(summaries, workload, side, "step_ms")

    for name in ("radam", "lookahead", "ranger"):
        if name not in summaries:
            continue
        rows.append(
            f"| {WORKLOADS[name]['label']} | {_ratio(step(name, 'TFA'), step('adam', 'TFA'))} | "
            f"{_ratio(step(name, 'TFA'), step('adam_legacy', 'TFA'))} | "
            f"{_ratio(step(name, 'ours default'), step('adam', 'ours default'))} | "
            f"{_ratio(step(name, 'ours XLA'), step('adam', 'ours XLA'))} |"
        )
    return rows


def loss_table(medians: dict) -> list[str]:
    """Table 4: one triplet loss call, ms, both sides, tf.function and XLA."""
    rows = [
        "| loss | TFA tf.function | TFA XLA | ours tf.function | ours XLA | ours op by op | "
        "TFA/ours (tf.function) | TFA XLA/ours XLA |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for strategy, m in medians.items():
        rows.append(
            f"| triplet {strategy.replace('_', '-')} | {_ms(m.get('TFA'))} | "
            f"{_ms(m.get('TFA XLA'))} | {_ms(m.get('ours'))} | {_ms(m.get('ours XLA'))} | "
            f"{_ms(m.get('ours op by op'))} | "
            f"{_ratio(m.get('TFA'), m.get('ours'))} | "
            f"{_ratio(m.get('TFA XLA'), m.get('ours XLA'))} |"
        )
    return rows


def command() -> str:
    """The command line of this run, with the `TFA_*` settings it read from the environment."""
    settings = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("TFA_"))
    return f"{settings} python -m benchmarks.bench_tfa".strip()


def header(peer_info: dict | None, default_jit: bool | None) -> str:
    """The paragraph above the tables: date, versions of both sides, settings, command."""
    import keras
    import tensorflow as tf

    tfa = (
        f"TensorFlow {peer_info['tensorflow']}, Keras {peer_info['keras']}, TensorFlow Addons "
        f"{peer_info['tensorflow_addons']}, NumPy {peer_info['numpy']} (threads "
        f"{peer_info['intra_op_threads']} / {peer_info['inter_op_threads']})"
        if peer_info
        else "n/a (no TFA environment)"
    )
    return (
        f"Run {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores of an {cpu_name()}. "
        f"Ours: TensorFlow {tf.__version__}, Keras {keras.__version__}, NumPy {np.__version__}; "
        f"TFA side: {tfa}. {THREADS} intra-op and {THREADS} inter-op threads on both sides. "
        f"One warm-up chunk per side, then {ROUNDS} round{'s' * (ROUNDS != 1)} of "
        f"{CHUNK_EPOCHS}-epoch chunks per "
        f"side, the order reversed every other round. Keras 3's default `jit_compile` resolved "
        f"to {default_jit if default_jit is not None else 'n/a'} here. Command: `{command()}`."
    )


def report(summaries: dict, parity_lines: list[str], losses: dict, notes: list, intro: str):
    """The whole markdown report."""
    sections = [
        "## TensorFlow Addons vs keras-zoo: training step time",
        intro,
        "\n".join(parity_lines),
        "### Steady per-step ms (median of every step; ratio = TFA / ours, above 1: ours faster)",
        "\n".join(time_table(summaries, "step_ms", stalls=False)),
        f"### Whole-epoch ms (`fit` wall time / epochs, median; stalls: epochs over "
        f"{STALL_FACTOR}x the side's median epoch)",
        "\n".join(time_table(summaries, "epoch_ms", stalls=True)),
        "### Optimizer overhead over the stack's own Adam (steady step / Adam step)",
        "\n".join(overhead_table(summaries)),
        "### Triplet loss alone (ms a call, fixed [256, 128] batch, median; ours compiles its "
        "mining with XLA by default, `TripletLoss(jit_compile=False)` is op by op)",
        "\n".join(loss_table(losses)) if losses else "(no triplet workload selected)",
    ]
    if notes:
        sections.append("Notes: " + "; ".join(notes))
    return "\n\n".join(s for s in sections if s) + "\n"


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    import keras

    configure_threads()
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError("bench_tfa needs the TensorFlow backend (KERAS_BACKEND=tensorflow)")
    unknown = set(SELECTED) - set(WORKLOADS)
    if unknown:
        raise ValueError(f"unknown TFA_WORKLOADS {sorted(unknown)}; known: {list(WORKLOADS)}")
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    start = time.perf_counter()
    peer = start_peer(os.path.join(os.path.dirname(OUTPUT), "bench_tfa_peer.log"))
    if peer is None:
        print(f"{TFA_PYTHON} not found (run `make bench-tfa`): TFA columns read n/a.")
    print("TFA side: " + (json.dumps(peer.info) if peer else "n/a"), flush=True)
    summaries, parity_lines, losses, notes = {}, [], {}, []
    default_jit = None
    try:
        for name in SELECTED:
            if WORKLOADS[name].get("tfa_only") and peer is None:
                continue
            strategy = WORKLOADS[name]["loss"]
            if strategy in ("semi_hard", "hard"):
                parity_lines.append(parity(strategy, peer))
                print(parity_lines[-1], flush=True)
                losses[strategy], failed = loss_alone(strategy, peer)
                notes += failed
            summaries[name] = run_workload(name, peer)
            default_jit = summaries[name].pop("default_jit", default_jit)
    finally:
        if peer is not None:
            peer.close()
    text = report(summaries, parity_lines, losses, notes, header(peer and peer.info, default_jit))
    with open(OUTPUT, "w") as f:
        f.write(text)
    print(f"\nTotal {time.perf_counter() - start:.0f} s. Written to {OUTPUT}:\n\n{text}")


if __name__ == "__main__":
    main(sys.argv[1:])
