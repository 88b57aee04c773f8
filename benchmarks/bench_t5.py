"""T5-small-shaped encode + greedy decode: new tokens/s against keras-hub and Hugging Face.

Random weights of T5-small's shape (60.5M), encoder inputs of `--input-length` tokens, greedy
decoding of exactly `--new-tokens` tokens (no end token), batch 1 and 8. Three sides, timed in
alternation round by round, medians reported, ratios as ours / peer throughput (above 1: ours
is faster):

- ours: `T5Seq2SeqLM.generate` (encoder once, cross-attention keys/values precomputed, decoder
  self-attention cache, the loop in one XLA-compiled `tf.function`);
- keras-hub: `keras_hub.models.T5Seq2SeqLM.generate` (greedy sampler, no stop token; its own
  key/value cache, XLA), from ids (`preprocessor=None`); skipped when `keras_hub` is not
  importable;
- Hugging Face: `T5ForConditionalGeneration.generate(do_sample=False, min_new_tokens=N,
  max_new_tokens=N)` on PyTorch (CPU), with its cache, in its own environment
  (`benchmarks/hf_peer.py` through `benchmarks.peer_worker.PeerWorker`).

Seconds per new token at two output lengths show whether the cost per token stays flat.

    make bench-hub  # creates .venv-hub (the project + keras-hub)
    .venv-hub/bin/python -m benchmarks.bench_t5 --hf-python .venv-hf/bin/python \
        [--new-tokens 16 64] [--steps 3]
"""

from __future__ import annotations

import argparse
import os
import time

HF_PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hf_peer.py")


def ours(batch: int, length: int, new_tokens: int):
    import numpy as np

    from zoo.text.t5 import T5Backbone, T5Seq2SeqLM
    from zoo.text.t5.presets import T5_SMALL as OURS

    model = T5Seq2SeqLM(T5Backbone(**{**OURS, "dropout": 0.0}), end_token_id=None)
    ids = np.random.default_rng(0).integers(3, 32000, size=(batch, length)).astype("int32")

    def run():
        start = time.perf_counter()
        out = model.generate(ids, max_length=new_tokens + 1)
        assert out.shape == (batch, new_tokens + 1)
        return time.perf_counter() - start

    return run, model.count_params()


def keras_hub_side(batch: int, length: int, new_tokens: int):
    """keras-hub's `T5Seq2SeqLM.generate` (its own cache, XLA), or `None` without keras-hub."""
    try:
        import keras_hub
    except ImportError:
        return None
    import numpy as np

    backbone = keras_hub.models.T5Backbone(
        vocabulary_size=32128, num_layers=6, num_heads=8, hidden_dim=512,
        intermediate_dim=2048, key_value_dim=64, dropout=0.0, activation="relu",
        use_gated_activation=False, tie_embedding_weights=True,
    )  # fmt: skip
    model = keras_hub.models.T5Seq2SeqLM(backbone, preprocessor=None)
    model.compile(sampler="greedy")
    total = new_tokens + 1
    encoder_ids = np.random.default_rng(0).integers(3, 32000, size=(batch, length))
    decoder_mask = np.zeros((batch, total), "int32")
    decoder_mask[:, 0] = 1  # the start token (0) is the whole decoder prompt
    inputs = {
        "encoder_token_ids": encoder_ids.astype("int32"),
        "encoder_padding_mask": np.ones((batch, length), "int32"),
        "decoder_token_ids": np.zeros((batch, total), "int32"),
        "decoder_padding_mask": decoder_mask,
    }

    def run():
        start = time.perf_counter()
        out = model.generate(inputs, stop_token_ids=None)
        assert np.shape(out["decoder_token_ids"]) == (batch, total)
        return time.perf_counter() - start

    return run, backbone.count_params()


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--input-length", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--hf-python", default=".venv-hf/bin/python")
    args = parser.parse_args(argv)

    import numpy as np

    from benchmarks.peer_worker import PeerWorker

    worker = None
    if args.hf_python and os.path.exists(args.hf_python):
        worker = PeerWorker("transformers", args.hf_python, HF_PEER, "/tmp/bench_t5_hf.log")
        info = worker.request("setup", model="t5", threads=args.threads)
    rows = []
    for batch in args.batch_sizes:
        for new_tokens in args.new_tokens:
            sides = {"ours": ours(batch, args.input_length, new_tokens)}
            hub = keras_hub_side(batch, args.input_length, new_tokens)
            if hub is not None:
                sides["keras-hub"] = hub
            if worker is not None:
                request = dict(batch=batch, length=args.input_length, new_tokens=new_tokens)
                sides["transformers"] = (
                    lambda r=request: worker.request("generate", **r)["seconds"],
                    info["parameters"],
                )
            for run, _ in sides.values():
                for _ in range(args.warmup):
                    run()
            times = {name: [] for name in sides}
            names = list(sides)
            for step in range(args.steps):
                for name in names if step % 2 == 0 else names[::-1]:
                    times[name].append(sides[name][0]())
            median = {name: float(np.median(t)) for name, t in times.items()}
            tokens = batch * new_tokens
            cells = [f"{tokens / median['ours']:,.0f}", f"{1e3 * median['ours'] / new_tokens:.1f}"]
            for peer in ("keras-hub", "transformers"):
                if peer in median:
                    cells += [f"{tokens / median[peer]:,.0f}",
                              f"**{median[peer] / median['ours']:.2f}**"]  # fmt: skip
                else:
                    cells += ["n/a", "n/a"]
            rows.append(f"| {batch} | {new_tokens} | " + " | ".join(cells) + " |")
            counts = {name: count for name, (_, count) in sides.items()}
            print(f"batch {batch}, {new_tokens} new tokens: {median} (weights {counts})")
    if worker is not None:
        worker.close()
    table = "\n".join(
        [
            "| batch | new tokens | ours tok/s | ours ms/step | keras-hub tok/s | ours/keras-hub "
            "| transformers tok/s | ours/transformers |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    print(table)
    return table


if __name__ == "__main__":
    main()
