"""The arrays of `benchmarks.bench_addons`'s workloads, shared by both of its sides.

NumPy only: the TFA worker (`addons_peer.py`, in its own environment) imports this file as a
sibling module, the driver as `benchmarks.addons_workloads`.
"""

from __future__ import annotations

import hashlib

import numpy as np


def make_arrays(spec: dict) -> dict:
    """The workload's inputs, from `default_rng(spec["seed"])` (as on the driver's side)."""
    rng = np.random.default_rng(spec["seed"])
    if spec["kind"] in ("crf", "crf_grad"):
        batch, length, tags = spec["batch"], spec["length"], spec["tags"]
        return {
            "potentials": rng.standard_normal((batch, length, tags), dtype=np.float32),
            "tags": rng.integers(0, tags, (batch, length), dtype=np.int32),
            "lengths": rng.integers(1, length + 1, batch, dtype=np.int32),
            "transitions": rng.standard_normal((tags, tags), dtype=np.float32),
        }
    if spec["kind"] == "sparse_step":
        count = int(spec["rows"] * spec["fraction"])
        return {
            "table": rng.standard_normal((spec["rows"], spec["dim"]), dtype=np.float32),
            "indices": rng.integers(0, spec["rows"], count, dtype=np.int32),
            "values": rng.standard_normal((count, spec["dim"]), dtype=np.float32),
        }
    if spec["kind"] == "beam":
        return nmt_arrays(spec, rng)
    raise ValueError(f"unknown workload kind {spec['kind']!r}")


def nmt_arrays(spec: dict, rng: np.random.Generator) -> dict:
    """Weights of the beam search workload's NMT model (TFA's tutorial shape) and a source batch.

    Embeddings of source and target, an LSTM encoder, the decoder's LSTM cell (its input: the
    target embedding and the previous attention), Luong attention's memory layer, the attention
    layer over `[cell output, context]` (no bias) and the output projection: Keras's weight
    orders, the same in Keras 2 and 3.
    """
    vocab, embed, units = spec["vocab"], spec["embedding_dim"], spec["units"]

    def weights(*shape):
        return (0.1 * rng.standard_normal(shape)).astype(np.float32)

    source_length = spec["source_length"]
    return {
        "source_embedding": weights(vocab, embed),
        "target_embedding": weights(vocab, embed),
        "encoder_kernel": weights(embed, 4 * units),
        "encoder_recurrent_kernel": weights(units, 4 * units),
        "encoder_bias": weights(4 * units),
        "decoder_kernel": weights(embed + units, 4 * units),
        "decoder_recurrent_kernel": weights(units, 4 * units),
        "decoder_bias": weights(4 * units),
        "memory_kernel": weights(units, units),
        "attention_kernel": weights(2 * units, units),
        "output_kernel": weights(units, vocab),
        "output_bias": weights(vocab),
        "source": rng.integers(2, vocab, (spec["batch"], source_length), dtype=np.int32),
        "source_lengths": rng.integers(
            source_length // 2, source_length + 1, spec["batch"], dtype=np.int32
        ),
    }


def digest(arrays: dict) -> str:
    sha = hashlib.sha256()
    for name in sorted(arrays):
        sha.update(np.ascontiguousarray(arrays[name]).tobytes())
    return sha.hexdigest()[:16]


def summarise(outputs: dict) -> dict:
    """Float64 sums and absolute sums of each output: what the driver compares."""
    summary = {}
    for name, value in outputs.items():
        array = np.asarray(value, dtype=np.float64)
        summary[name] = [float(array.sum()), float(np.abs(array).sum())]
    return summary


def set_nmt_weights(runner, arrays: dict) -> None:
    """The workload's weights into a built NMT runner (Keras's weight order, either stack)."""
    runner.source_embedding.set_weights([arrays["source_embedding"]])
    runner.target_embedding.set_weights([arrays["target_embedding"]])
    runner.encoder.set_weights(
        [arrays[f"encoder_{k}"] for k in ("kernel", "recurrent_kernel", "bias")]
    )
    runner.decoder_cell.set_weights(
        [arrays[f"decoder_{k}"] for k in ("kernel", "recurrent_kernel", "bias")]
    )
    runner.mechanism.memory_layer.set_weights([arrays["memory_kernel"]])
    runner.attention_layer.set_weights([arrays["attention_kernel"]])
    runner.output_layer.set_weights([arrays["output_kernel"], arrays["output_bias"]])
