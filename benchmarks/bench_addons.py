"""Call time of keras-zoo's TensorFlow Addons replacements (`layers.addons`) vs TFA itself.

The CRF (`crf_log_likelihood` + `crf_decode`, and the log-likelihood's gradient: a CRF head's
training step), beam search decoding of a small attention NMT model, image ops, a streaming
metric's update, and one LazyAdam step on a large embedding table with a sparse gradient
(against Keras's dense Adam too). The TFA side (`benchmarks/addons_peer.py`) runs in its own
environment, `TFA_PYTHON` (TensorFlow 2.15.1, tensorflow-addons 0.23.0; `make bench-tfa` makes
`.venv-tfa`), as a worker process driven call by call, so the sides alternate within one run.

Workloads (each side makes the same arrays from `numpy.random.default_rng(seed)`; the digests
and the outputs of the first call are compared and must agree):

- `crf`: `crf_log_likelihood` and `crf_decode` in one `tf.function` on potentials
  (64, 128, 32), random tags, lengths uniform in [1, 128], random transitions.
- `crf_grad`: the gradient of the mean negative log-likelihood with respect to the potentials
  and the transitions, same arrays.
- `beam`: beam search translation (`BeamSearchDecoder`, beam 5, 50 steps, no length penalty)
  of 32 source sentences (30 ids, lengths in [15, 30]) by TFA's tutorial NMT model: embedding +
  LSTM(128) encoder, `AttentionWrapper(LSTMCell(128), LuongAttention(128))` with an attention
  layer, `Dense(1000)` output; the same random weights on both sides
  (`addons_workloads.nmt_arrays`), in a `tf.function`.
- `dense_image_warp`, `connected_components`, `median_filter2d`, `rotate`: `tfa.image` on 32
  uniform-random 256 x 256 x 3 images (a random flow of standard deviation 2 pixels; for
  connected components the first channel above 0.5), no XLA side (TFA's ops have none; ours
  compiles its own sampling step in `dense_image_warp`).
- `cohen_kappa`: `CohenKappa(num_classes=5, weightage="quadratic", sparse_labels=True)`, reset
  then one `update_state` over 1,000,000 random labels and predictions.
- `yogi`, `adabelief`, `novograd`: one `apply_gradients` of fixed random gradients to 160
  weights of 26.2M floats (a ResNet-50-sized set), each optimizer at its TFA defaults.
- `lazy_adam`: `LazyAdam(1e-3).apply_gradients` of one `IndexedSlices` gradient (10,000 rows,
  1% of a 1,000,000 x 64 table, duplicates as drawn) in a `tf.function`; `keras_adam` is the
  same step with Keras's `Adam` (ours only: it updates every row).

Sides: `TFA` (TFA in a `tf.function`), `ours` (a `tf.function`) and `ours XLA`
(`jit_compile=True`). A warm-up chunk per side, then `ADDONS_ROUNDS` rounds of
`ADDONS_CALLS` calls per side, the order reversed every other round; the figure is the median
call (outputs fetched to NumPy). Ratios are TFA / ours: above 1, ours is faster.

Run: `TFA_PYTHON=.venv-tfa/bin/python .venv/bin/python -m benchmarks.bench_addons` (`make
bench-addons`). Env: `ADDONS_ROUNDS=5`, `ADDONS_CALLS=10`, `ADDONS_WORKLOADS` (comma list),
`TFA_THREADS=2`. Written to `artifacts/bench_addons.md`.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

from benchmarks.addons_workloads import (  # noqa: E402
    NamespaceCall,
    digest,
    make_arrays,
    set_nmt_weights,
    summarise,
)  # noqa: E402
from benchmarks.bench_tfa import TFA_PYTHON, THREADS, configure_threads, cpu_name  # noqa: E402
from benchmarks.peer_worker import PeerWorker  # noqa: E402

ROUNDS = int(os.environ.get("ADDONS_ROUNDS", "5"))
CALLS = int(os.environ.get("ADDONS_CALLS", "10"))
PEER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "addons_peer.py")
OUTPUT = os.path.join("artifacts", "bench_addons.md")
PARITY_RTOL = 1e-4

CRF = {"batch": 64, "length": 128, "tags": 32, "seed": 0}
SPARSE = {"rows": 1_000_000, "dim": 64, "fraction": 0.01, "seed": 0, "learning_rate": 1e-3}
NMT = {
    "vocab": 1000,
    "embedding_dim": 64,
    "units": 128,
    "batch": 32,
    "source_length": 30,
    "beam_width": 5,
    "length": 50,
    "length_penalty_weight": 0.0,
    "start_token": 0,
    "end_token": 1,
    "seed": 0,
}
IMAGES = {"kind": "image_op", "batch": 32, "size": 256, "seed": 0, "no_xla": True}
WORKLOADS = {
    "crf": {**CRF, "kind": "crf", "label": "CRF log-likelihood + decode (64 x 128, 32 tags)"},
    "crf_grad": {**CRF, "kind": "crf_grad", "label": "CRF log-likelihood gradient (same)"},
    "beam": {
        **NMT,
        "kind": "beam",
        "label": "beam search, NMT (beam 5, 50 steps, batch 32, LSTM 128, 1000 words)",
    },
    "dense_image_warp": {
        **IMAGES,
        "op": "dense_image_warp",
        "label": "dense_image_warp, 32 x 256 x 256 x 3, random flow",
    },
    "connected_components": {
        **IMAGES,
        "op": "connected_components",
        "threshold": 0.5,
        "label": "connected_components, 32 binary 256 x 256 (random, half set)",
    },
    "median_filter2d": {
        **IMAGES,
        "op": "median_filter2d",
        "label": "median_filter2d 3 x 3, 32 x 256 x 256 x 3",
    },
    "rotate": {
        **IMAGES,
        "op": "rotate",
        "kwargs": {"angles": 0.5},
        "label": "rotate 0.5 rad (nearest, TFA's default), 32 x 256 x 256 x 3",
    },
    **{
        name.lower(): {
            "kind": "optimizer_step",
            "optimizer": name,
            "seed": 0,
            "label": f"{name} step, 160 weights, 26.2M floats (ResNet-50-sized)",
        }
        for name in ("Yogi", "AdaBelief", "NovoGrad")
    },
    "cohen_kappa": {
        "kind": "metric_update",
        "metric": "CohenKappa",
        "kwargs": {"num_classes": 5, "weightage": "quadratic", "sparse_labels": True},
        "count": 1_000_000,
        "classes": 5,
        "seed": 0,
        "label": "CohenKappa(quadratic) update over 1M predictions",
    },
    "lazy_adam": {
        **SPARSE,
        "kind": "sparse_step",
        "optimizer": "lazy_adam",
        "label": "LazyAdam step, 1M x 64 table, 1% rows",
    },
    "keras_adam": {
        **SPARSE,
        "kind": "sparse_step",
        "optimizer": "adam",
        "ours_only": True,
        "label": "Keras Adam step, same gradient (dense update)",
    },
}
SELECTED = tuple(os.environ.get("ADDONS_WORKLOADS", ",".join(WORKLOADS)).split(","))
SIDES = ("TFA", "ours", "ours XLA")


# ----------------------------------------------------------------------------- our side


class OursCRF:
    """Our `crf_log_likelihood` + `crf_decode` (or the gradient), as `addons_peer.CRFRunner`."""

    def __init__(self, spec: dict, arrays: dict, jit: bool):
        import tensorflow as tf

        self.args = [
            tf.constant(arrays[k]) for k in ("potentials", "tags", "lengths", "transitions")
        ]
        body = self.grad if spec["kind"] == "crf_grad" else self.forward
        self.function = tf.function(body, jit_compile=jit)

    @staticmethod
    def forward(potentials, tags, lengths, transitions):
        from layers.addons import text

        log_likelihood, _ = text.crf_log_likelihood(potentials, tags, lengths, transitions)
        decoded, score = text.crf_decode(potentials, transitions, lengths)
        return {"log_likelihood": log_likelihood, "decoded": decoded, "score": score}

    @staticmethod
    def grad(potentials, tags, lengths, transitions):
        import tensorflow as tf

        from layers.addons import text

        with tf.GradientTape() as tape:
            tape.watch([potentials, transitions])
            log_likelihood, _ = text.crf_log_likelihood(potentials, tags, lengths, transitions)
            loss = -tf.reduce_mean(log_likelihood)
        d_potentials, d_transitions = tape.gradient(loss, [potentials, transitions])
        return {"loss": loss, "d_potentials": d_potentials, "d_transitions": d_transitions}

    def call(self):
        return self.function(*self.args)


class OursSparseStep:
    """Our LazyAdam (or Keras's Adam) applying one `IndexedSlices` gradient."""

    def __init__(self, spec: dict, arrays: dict, jit: bool):
        import keras
        import tensorflow as tf

        from layers.addons import optimizers

        self.table = keras.Variable(arrays["table"])
        self.gradient = tf.IndexedSlices(
            tf.constant(arrays["values"]),
            tf.constant(arrays["indices"]),
            tf.constant(arrays["table"].shape, dtype=tf.int32),
        )
        if spec["optimizer"] == "lazy_adam":
            self.optimizer = optimizers.LazyAdam(learning_rate=spec["learning_rate"])
        else:
            self.optimizer = keras.optimizers.Adam(learning_rate=spec["learning_rate"])
        self.optimizer.build([self.table])
        self.function = tf.function(self.step, jit_compile=jit)
        self.indices = arrays["indices"]

    def step(self):
        self.optimizer.apply_gradients([(self.gradient, self.table)])
        return {}

    def call(self):
        return self.function()

    def check(self) -> dict:
        return {"touched_rows": np.take(np.asarray(self.table), self.indices, axis=0)}


class OursBeam:
    """Beam search translation by the NMT model of `addons_peer.BeamRunner`, built from ours."""

    def __init__(self, spec: dict, arrays: dict, jit: bool):
        import keras
        import tensorflow as tf

        from layers.addons import seq2seq

        units, beam = spec["units"], spec["beam_width"]
        self.spec = spec
        self.source_embedding = keras.layers.Embedding(spec["vocab"], spec["embedding_dim"])
        self.target_embedding = keras.layers.Embedding(spec["vocab"], spec["embedding_dim"])
        self.encoder = keras.layers.LSTM(units, return_sequences=True, return_state=True)
        self.decoder_cell = keras.layers.LSTMCell(units)
        self.mechanism = seq2seq.LuongAttention(units)
        self.attention_layer = keras.layers.Dense(units, use_bias=False)
        self.cell = seq2seq.AttentionWrapper(
            self.decoder_cell, self.mechanism, attention_layer=self.attention_layer
        )
        self.output_layer = keras.layers.Dense(spec["vocab"])
        self.decoder = seq2seq.BeamSearchDecoder(
            self.cell,
            beam_width=beam,
            embedding_fn=self.target_embedding,
            output_layer=self.output_layer,
            length_penalty_weight=spec["length_penalty_weight"],
            maximum_iterations=spec["length"],
        )
        self.source = tf.constant(arrays["source"])
        self.lengths = tf.constant(arrays["source_lengths"])
        self.function = tf.function(self.translate, jit_compile=jit)
        self.function(self.source, self.lengths)  # builds every layer
        set_nmt_weights(self, arrays)

    def translate(self, source, lengths):
        import tensorflow as tf

        from layers.addons import seq2seq

        beam, batch = self.spec["beam_width"], self.spec["batch"]
        mask = tf.sequence_mask(lengths, tf.shape(source)[1])
        memory, h, c = self.encoder(self.source_embedding(source), mask=mask)
        self.mechanism.setup_memory(
            seq2seq.tile_batch(memory, beam),
            memory_sequence_length=seq2seq.tile_batch(lengths, beam),
        )
        state = self.cell.get_initial_state(batch_size=batch * beam, dtype="float32")
        state = state.clone(cell_state=seq2seq.tile_batch([h, c], beam))
        outputs, _, output_lengths = self.decoder(
            None,
            start_tokens=tf.fill([batch], self.spec["start_token"]),
            end_token=self.spec["end_token"],
            initial_state=state,
        )
        return {"predicted_ids": outputs.predicted_ids, "lengths": output_lengths}

    def call(self):
        return self.function(self.source, self.lengths)


def ours_namespace_call(spec: dict, arrays: dict, jit: bool) -> NamespaceCall:
    import tensorflow as tf

    from layers import addons

    return NamespaceCall(spec, arrays, tf, addons, jit=jit)


OURS = {
    "image_op": ours_namespace_call,
    "metric_update": ours_namespace_call,
    "optimizer_step": ours_namespace_call,
    "crf": OursCRF,
    "crf_grad": OursCRF,
    "sparse_step": OursSparseStep,
    "beam": OursBeam,
}


class Ours:
    """One of our runners, driven like the peer's: `setup()` then `chunk(count)`."""

    def __init__(self, spec: dict, jit: bool):
        self.spec, self.jit = spec, jit

    def setup(self) -> dict:
        arrays = make_arrays(self.spec)
        self.runner = OURS[self.spec["kind"]](self.spec, arrays, self.jit)
        outputs = self.runner.call()
        if hasattr(self.runner, "check"):
            outputs = self.runner.check()
        return {"digest": digest(arrays), "summary": summarise(outputs)}

    def chunk(self, count: int) -> dict:
        import tensorflow as tf

        times = []
        for _ in range(count):
            start = time.perf_counter()
            tf.nest.map_structure(lambda t: t.numpy(), self.runner.call())
            times.append((time.perf_counter() - start) * 1000)
        return {"call_ms": times}

    def drop(self) -> None:
        self.runner = None


class PeerSide:
    """The TFA worker's runner for one workload."""

    def __init__(self, peer: PeerWorker, spec: dict, key: str):
        self.peer, self.spec, self.key = peer, spec, key

    def setup(self) -> dict:
        return self.peer.request("setup", key=self.key, spec=self.spec)

    def chunk(self, count: int) -> dict:
        return self.peer.request("chunk", key=self.key, count=count)

    def drop(self) -> None:
        self.peer.request("drop", key=self.key)


# ----------------------------------------------------------------------------- running


def agree(reference: dict, other: dict) -> str | None:
    """None when the output summaries agree within `PARITY_RTOL`, else what differs."""
    for name, (total, absolute) in reference.items():
        other_total, _ = other[name]
        if abs(total - other_total) > PARITY_RTOL * max(absolute, 1.0):
            return f"{name}: {total:.6g} vs {other_total:.6g}"
    return None


def run_workload(name: str, peer: PeerWorker | None) -> tuple[dict, list[str]]:
    """Median call ms per side, and notes (parity, sides that could not run)."""
    spec = {k: v for k, v in WORKLOADS[name].items() if k != "label"}
    sides = {"ours": Ours(spec, jit=False)}
    if not spec.get("no_xla"):
        sides["ours XLA"] = Ours(spec, jit=True)
    if peer is not None and not spec.get("ours_only"):
        sides = {"TFA": PeerSide(peer, spec, name), **sides}
    notes, described = [], {}
    for side_name, side in list(sides.items()):
        try:
            described[side_name] = side.setup()
        except Exception as error:  # noqa: BLE001 (a side that cannot run reads n/a)
            notes.append(f"{name}, {side_name}: {type(error).__name__}: {str(error)[:200]}")
            del sides[side_name]
    reference = described.get("TFA") or described.get("ours")
    for side_name, answer in described.items():
        if side_name in sides and answer["digest"] != reference["digest"]:
            raise RuntimeError(f"{name}: {side_name} made different arrays")
        mismatch = agree(reference["summary"], answer["summary"]) if reference else None
        if mismatch:
            notes.append(f"{name}, {side_name} disagrees with the reference: {mismatch}")
    times: dict[str, list[float]] = {s: [] for s in sides}
    order = list(sides)
    for side in order:
        sides[side].chunk(max(2, CALLS // 5))  # warm-up
    for round_index in range(ROUNDS):
        for side in order if round_index % 2 == 0 else order[::-1]:
            times[side] += sides[side].chunk(CALLS)["call_ms"]
    for side in sides.values():
        side.drop()
    return {side: statistics.median(values) for side, values in times.items()}, notes


# ----------------------------------------------------------------------------- report


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _ratio(tfa: float | None, ours: float | None) -> str:
    return "n/a" if tfa is None or ours is None else f"{tfa / ours:.2f}"


def table(medians: dict) -> list[str]:
    rows = [
        "| workload | TFA | ours | ours XLA | TFA/ours | TFA/ours XLA |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, m in medians.items():
        rows.append(
            f"| {WORKLOADS[name]['label']} | {_ms(m.get('TFA'))} | {_ms(m.get('ours'))} | "
            f"{_ms(m.get('ours XLA'))} | {_ratio(m.get('TFA'), m.get('ours'))} | "
            f"{_ratio(m.get('TFA'), m.get('ours XLA'))} |"
        )
    if "lazy_adam" in medians and "keras_adam" in medians:
        lazy, dense = medians["lazy_adam"].get("ours"), medians["keras_adam"].get("ours")
        rows.append(f"\nKeras Adam step / our LazyAdam step: {_ratio(dense, lazy)}x.")
    return rows


def header(peer_info: dict | None) -> str:
    import keras
    import tensorflow as tf

    tfa = (
        f"TensorFlow {peer_info['tensorflow']}, TensorFlow Addons "
        f"{peer_info['tensorflow_addons']}, NumPy {peer_info['numpy']}"
        if peer_info
        else "n/a (no TFA environment)"
    )
    settings = " ".join(
        f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith(("ADDONS_", "TFA_"))
    )
    return (
        f"Run {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores of an {cpu_name()}. "
        f"Ours: TensorFlow {tf.__version__}, Keras {keras.__version__}; TFA side: {tfa}. "
        f"{THREADS} intra- and inter-op threads on both sides. Median of {ROUNDS} rounds x "
        f"{CALLS} calls per side after a warm-up chunk. Command: "
        f"`{settings} python -m benchmarks.bench_addons`."
    )


def main(argv: list[str] | None = None) -> None:
    configure_threads()
    unknown = set(SELECTED) - set(WORKLOADS)
    if unknown:
        raise ValueError(f"unknown ADDONS_WORKLOADS {sorted(unknown)}; known: {list(WORKLOADS)}")
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    start = time.perf_counter()
    peer = None
    if os.path.exists(TFA_PYTHON):
        log = os.path.join(os.path.dirname(OUTPUT), "bench_addons_peer.log")
        peer = PeerWorker("TFA", TFA_PYTHON, PEER_SCRIPT, log)
        peer.info = peer.request("threads", threads=THREADS)
    else:
        print(f"{TFA_PYTHON} not found (run `make bench-tfa`): TFA columns read n/a.")
    medians, notes = {}, []
    try:
        for name in SELECTED:
            medians[name], workload_notes = run_workload(name, peer)
            notes += workload_notes
            print(name, json.dumps(medians[name]), *workload_notes, sep="\n  ", flush=True)
    finally:
        if peer is not None:
            peer.close()
    sections = [
        "## TensorFlow Addons vs keras-zoo (`layers.addons`): call time (ms, median; TFA / ours)",
        header(peer.info if peer else None),
        "\n".join(table(medians)),
    ]
    if notes:
        sections.append("Notes: " + "; ".join(notes))
    text = "\n\n".join(sections) + "\n"
    with open(OUTPUT, "w") as f:
        f.write(text)
    print(f"\nTotal {time.perf_counter() - start:.0f} s. Written to {OUTPUT}:\n\n{text}")


if __name__ == "__main__":
    main(sys.argv[1:])
