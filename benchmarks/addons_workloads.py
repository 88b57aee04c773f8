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
    if spec["kind"] == "image_op":
        batch, size = spec["batch"], spec["size"]
        images = rng.uniform(0, 1, (batch, size, size, 3)).astype(np.float32)
        if spec["op"] == "dense_image_warp":
            flow = (2 * rng.standard_normal((batch, size, size, 2))).astype(np.float32)
            return {"images": images, "flow": flow}
        if spec["op"] == "connected_components":
            return {"images": images[..., 0] > spec["threshold"]}
        return {"images": images}
    if spec["kind"] == "optimizer_step":
        arrays = {}
        for index, shape in enumerate(resnet_sized_shapes()):
            arrays[f"weight{index:03d}"] = rng.standard_normal(shape, dtype=np.float32)
            arrays[f"grad{index:03d}"] = rng.standard_normal(shape, dtype=np.float32)
        return arrays
    if spec["kind"] == "metric_update":
        count, classes = spec["count"], spec["classes"]
        return {
            "labels": rng.integers(0, classes, count, dtype=np.int32),
            "predictions": rng.integers(0, classes, count, dtype=np.int32),
        }
    raise ValueError(f"unknown workload kind {spec['kind']!r}")


def resnet_sized_shapes() -> list[tuple[int, ...]]:
    """160 weight shapes, 26.2M floats: the size of ResNet-50's parameter set."""
    return [(256, 256)] * 96 + [(3, 3, 128, 128)] * 48 + [(1, 1, 1024, 768)] * 16


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


class NamespaceCall:
    """A call into TFA's API, or into `layers.addons` (the same names), in a `tf.function`.

    Both sides of `bench_addons` run their image-op and metric workloads through this class
    with their own `tf` and their own namespace (`tensorflow_addons`, or `layers.addons`), so
    the two sides call the very same functions with the very same arguments.
    """

    def __init__(self, spec: dict, arrays: dict, tf, namespace, jit: bool = False):
        self.spec, self.tf = spec, tf
        if spec["kind"] == "image_op":
            op = getattr(namespace.image, spec["op"])
            keys = ["images", "flow"] if spec["op"] == "dense_image_warp" else ["images"]
            self.args = [tf.constant(arrays[k]) for k in keys]
            kwargs = dict(spec.get("kwargs", {}))
            self.function = tf.function(lambda *args: op(*args, **kwargs), jit_compile=jit)
        elif spec["kind"] == "optimizer_step":  # one apply_gradients of every weight
            count = len(resnet_sized_shapes())
            self.weights = [tf.Variable(arrays[f"weight{i:03d}"]) for i in range(count)]
            self.grads = [tf.constant(arrays[f"grad{i:03d}"]) for i in range(count)]
            self.optimizer = getattr(namespace.optimizers, spec["optimizer"])()
            self.args = []
            self.function = tf.function(self.step, jit_compile=jit)
        else:  # metric_update: one update_state of the whole prediction vector
            self.metric = getattr(namespace.metrics, spec["metric"])(**spec["kwargs"])
            self.args = [tf.constant(arrays["labels"]), tf.constant(arrays["predictions"])]
            self.function = tf.function(self.update, jit_compile=jit)

    def step(self):
        self.optimizer.apply_gradients(zip(self.grads, self.weights, strict=True))
        return self.weights[0][0]

    def update(self, labels, predictions):
        self.metric.update_state(labels, predictions)
        return self.metric.result()

    def call(self):
        if self.spec["kind"] == "metric_update":
            self.metric.reset_state()
        return {"output": self.function(*self.args)}
