"""The TensorFlow Addons side of `benchmarks.bench_addons`: run by it, in its own environment.

Not a `bench_*` module (`make bench` does not run it): `bench_addons` starts it with
`TFA_PYTHON` (TensorFlow 2.15.1, tensorflow-addons 0.23.0, numpy; `make bench-tfa` makes
`.venv-tfa`) as a `benchmarks.peer_worker.PeerWorker`: one JSON request per line on stdin, one
`@@ `-prefixed JSON answer per line on stdout. It imports only tensorflow, tensorflow_addons and
numpy, never Keras 3 or this project.

A workload's arrays come from `addons_workloads.make_arrays`, the module the driver uses too
(imported as a sibling file: this project is not on the worker's path); their digest and the
outputs of the first call go back to the driver, which checks that both sides agree.

Run alone only to check the environment: `$TFA_PYTHON benchmarks/addons_peer.py --check`.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_addons as tfa  # noqa: E402
from addons_workloads import (  # noqa: E402 (a sibling file)
    NamespaceCall,
    digest,
    make_arrays,
    set_nmt_weights,
    summarise,
)  # noqa: E402 (a sibling file)

RUNS_IN_PEER_ENVIRONMENT = True  # TF 2.15 + Keras 2 + TFA only; bench_addons drives it


def versions() -> dict:
    return {
        "tensorflow": tf.__version__,
        "tensorflow_addons": tfa.__version__,
        "numpy": np.__version__,
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
    }


class CRFRunner:
    """`crf_log_likelihood` + `crf_decode` (or the log-likelihood's gradient) in a tf.function."""

    def __init__(self, spec: dict, arrays: dict):
        self.args = [
            tf.constant(arrays[k]) for k in ("potentials", "tags", "lengths", "transitions")
        ]
        self.function = tf.function(self.grad if spec["kind"] == "crf_grad" else self.forward)

    @staticmethod
    def forward(potentials, tags, lengths, transitions):
        log_likelihood, _ = tfa.text.crf_log_likelihood(potentials, tags, lengths, transitions)
        decoded, score = tfa.text.crf_decode(potentials, transitions, lengths)
        return {"log_likelihood": log_likelihood, "decoded": decoded, "score": score}

    @staticmethod
    def grad(potentials, tags, lengths, transitions):
        with tf.GradientTape() as tape:
            tape.watch([potentials, transitions])
            log_likelihood, _ = tfa.text.crf_log_likelihood(potentials, tags, lengths, transitions)
            loss = -tf.reduce_mean(log_likelihood)
        d_potentials, d_transitions = tape.gradient(loss, [potentials, transitions])
        return {"loss": loss, "d_potentials": d_potentials, "d_transitions": d_transitions}

    def call(self):
        return self.function(*self.args)


class SparseStepRunner:
    """One `LazyAdam.apply_gradients` of a fixed `IndexedSlices` gradient in a tf.function."""

    def __init__(self, spec: dict, arrays: dict):
        self.table = tf.Variable(arrays["table"])
        self.gradient = tf.IndexedSlices(
            tf.constant(arrays["values"]),
            tf.constant(arrays["indices"]),
            tf.constant(arrays["table"].shape, dtype=tf.int32),
        )
        self.optimizer = tfa.optimizers.LazyAdam(learning_rate=spec["learning_rate"])
        self.function = tf.function(self.step)
        self.indices = arrays["indices"]

    def step(self):
        self.optimizer.apply_gradients([(self.gradient, self.table)])
        return {}

    def call(self):
        return self.function()

    def check(self) -> dict:
        return {"touched_rows": np.take(self.table.numpy(), self.indices, axis=0)}


class BeamRunner:
    """Beam search translation of a source batch by TFA's tutorial NMT model, in a tf.function.

    The layers are `tf.keras`'s and TFA's; the weights are the workload's arrays (Keras's
    weight orders): `bench_addons.OursBeam` builds the same model from ours.
    """

    def __init__(self, spec: dict, arrays: dict):
        layers = tf.keras.layers
        units, beam = spec["units"], spec["beam_width"]
        self.spec, self.arrays = spec, arrays
        self.source_embedding = layers.Embedding(spec["vocab"], spec["embedding_dim"])
        self.target_embedding = layers.Embedding(spec["vocab"], spec["embedding_dim"])
        self.encoder = layers.LSTM(units, return_sequences=True, return_state=True)
        self.decoder_cell = layers.LSTMCell(units)
        self.mechanism = tfa.seq2seq.LuongAttention(units)
        self.attention_layer = layers.Dense(units, use_bias=False)
        self.cell = tfa.seq2seq.AttentionWrapper(
            self.decoder_cell, self.mechanism, attention_layer=self.attention_layer
        )
        self.output_layer = layers.Dense(spec["vocab"])
        self.decoder = tfa.seq2seq.BeamSearchDecoder(
            self.cell,
            beam_width=beam,
            embedding_fn=self.target_embedding,
            output_layer=self.output_layer,
            length_penalty_weight=spec["length_penalty_weight"],
            maximum_iterations=spec["length"],
        )
        self.source = tf.constant(arrays["source"])
        self.lengths = tf.constant(arrays["source_lengths"])
        self.function = tf.function(self.translate)
        self.function(self.source, self.lengths)  # builds every layer
        set_nmt_weights(self, arrays)

    def translate(self, source, lengths):
        beam, batch = self.spec["beam_width"], self.spec["batch"]
        mask = tf.sequence_mask(lengths, tf.shape(source)[1])
        memory, h, c = self.encoder(self.source_embedding(source), mask=mask)
        self.mechanism.setup_memory(
            tfa.seq2seq.tile_batch(memory, beam),
            memory_sequence_length=tfa.seq2seq.tile_batch(lengths, beam),
        )
        state = self.cell.get_initial_state(batch_size=batch * beam, dtype=tf.float32)
        state = state.clone(cell_state=tfa.seq2seq.tile_batch([h, c], beam))
        outputs, _, output_lengths = self.decoder(
            None,
            start_tokens=tf.fill([batch], self.spec["start_token"]),
            end_token=self.spec["end_token"],
            initial_state=state,
        )
        return {"predicted_ids": outputs.predicted_ids, "lengths": output_lengths}

    def call(self):
        return self.function(self.source, self.lengths)


RUNNERS = {
    "crf": CRFRunner,
    "crf_grad": CRFRunner,
    "sparse_step": SparseStepRunner,
    "beam": BeamRunner,
    "image_op": lambda spec, arrays: NamespaceCall(spec, arrays, tf, tfa),
    "metric_update": lambda spec, arrays: NamespaceCall(spec, arrays, tf, tfa),
    "optimizer_step": lambda spec, arrays: NamespaceCall(spec, arrays, tf, tfa),
}


def answer(request: dict, runners: dict) -> dict:
    op = request["op"]
    if op == "threads":
        tf.config.threading.set_intra_op_parallelism_threads(request["threads"])
        tf.config.threading.set_inter_op_parallelism_threads(request["threads"])
        return versions()
    if op == "setup":
        spec = request["spec"]
        arrays = make_arrays(spec)
        runner = RUNNERS[spec["kind"]](spec, arrays)
        outputs = runner.call()  # traces here, so that a failure answers the set-up
        if hasattr(runner, "check"):
            outputs = runner.check()
        runners[request["key"]] = runner
        return {"digest": digest(arrays), "summary": summarise(outputs)}
    if op == "chunk":
        runner, times = runners[request["key"]], []
        for _ in range(request["count"]):
            start = time.perf_counter()
            tf.nest.map_structure(lambda t: t.numpy(), runner.call())
            times.append((time.perf_counter() - start) * 1000)
        return {"call_ms": times}
    if op == "drop":
        runners.pop(request["key"], None)
        return {}
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
