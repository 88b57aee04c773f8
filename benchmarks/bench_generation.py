"""GPT-2-small-shaped generation: new tokens/s against keras-hub and Hugging Face, and whether
the cost per token stays flat as the output grows (the key/value cache works).

Random weights of GPT-2 small's shape (124M), prompts of `--prompt-length` tokens, greedy
decoding of exactly `--new-tokens` new tokens (no end token), batch 1 and 8. Three sides, timed
in alternation round by round after a warm-up (which includes compilation), medians reported,
ratios as ours / peer throughput (above 1: ours is faster):

- ours: `GPT2CausalLM.generate` (prefill of the prompt, one position per new token against a
  per-layer key/value cache, the loop in one XLA-compiled `tf.function`);
- keras-hub: `keras_hub.models.GPT2CausalLM.generate` with its greedy sampler (its own cache
  and compiled loop), skipped when `keras_hub` is not importable (`make .venv-hub/bin/python`);
- Hugging Face: `GPT2LMHeadModel.generate(do_sample=False, min_new_tokens=N,
  max_new_tokens=N)` on PyTorch (CPU), in its own environment (`benchmarks/hf_peer.py`
  through `benchmarks.peer_worker.PeerWorker`).

The second table gives our milliseconds per new token at several output lengths (batch 1):
with a cache it stays about flat; without one it would grow with the length.

    .venv-hub/bin/python -m benchmarks.bench_generation --hf-python .venv-hf/bin/python \
        [--new-tokens 128] [--lengths 32 64 128] [--steps 3]
"""

from __future__ import annotations

import argparse
import os
import time

HF_PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hf_peer.py")


def prompts(batch: int, length: int):
    import numpy as np

    return np.random.default_rng(0).integers(0, 50000, size=(batch, length)).astype("int32")


def ours(model, batch: int, length: int, new_tokens: int):
    ids = prompts(batch, length)

    def run():
        start = time.perf_counter()
        out = model.generate(ids, max_length=length + new_tokens, end_token_id=None)
        assert out.shape == (batch, length + new_tokens)
        return time.perf_counter() - start

    return run


def keras_hub_model():
    """keras-hub's GPT-2 small with random weights, or `None` without keras-hub."""
    try:
        import keras_hub
    except ImportError:
        return None
    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=50257, num_layers=12, num_heads=12, hidden_dim=768,
        intermediate_dim=3072, dropout=0.0, max_sequence_length=1024,
    )  # fmt: skip
    model = keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)
    model.compile(sampler="greedy")
    return model


def keras_hub_side(model, batch: int, length: int, new_tokens: int):
    import numpy as np

    ids = prompts(batch, length)
    total = length + new_tokens
    # keras-hub generates into a fixed-length buffer: the prompt, then padding to fill.
    token_ids = np.zeros((batch, total), "int32")
    token_ids[:, :length] = ids
    mask = np.zeros((batch, total), bool)
    mask[:, :length] = True
    inputs = {"token_ids": token_ids, "padding_mask": mask}

    def run():
        start = time.perf_counter()
        out = model.generate(inputs, stop_token_ids=None)
        assert np.asarray(out["token_ids"]).shape == (batch, total)
        return time.perf_counter() - start

    return run


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--prompt-length", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--lengths", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--hf-python", default=".venv-hf/bin/python")
    args = parser.parse_args(argv)

    import numpy as np

    from benchmarks.peer_worker import PeerWorker
    from zoo.text.gpt2 import GPT2Backbone, GPT2CausalLM
    from zoo.text.gpt2.presets import GPT2_SMALL as OURS

    model = GPT2CausalLM(GPT2Backbone(**{**OURS, "dropout": 0.0}))
    hub = keras_hub_model()
    worker = None
    if args.hf_python and os.path.exists(args.hf_python):
        worker = PeerWorker("transformers", args.hf_python, HF_PEER, "/tmp/bench_gpt2_hf.log")
        info = worker.request("setup", model="gpt2", threads=args.threads)
        print(f"transformers {info['version']}, torch {info['torch']}: {info['parameters']:,}")
    print(f"ours: {model.count_params():,} weights", end="")
    print("" if hub is None else f"; keras-hub: {hub.count_params():,}")

    def measure(sides: dict) -> dict:
        for run in sides.values():
            for _ in range(args.warmup):
                run()
        times = {name: [] for name in sides}
        names = list(sides)
        for step in range(args.steps):
            for name in names if step % 2 == 0 else names[::-1]:
                times[name].append(sides[name]())
        return {name: float(np.median(t)) for name, t in times.items()}

    rows = []
    length, new_tokens = args.prompt_length, args.new_tokens
    for batch in args.batch_sizes:
        sides = {"ours": ours(model, batch, length, new_tokens)}
        if hub is not None:
            sides["keras-hub"] = keras_hub_side(hub, batch, length, new_tokens)
        if worker is not None:
            request = dict(batch=batch, length=length, new_tokens=new_tokens)
            sides["transformers"] = lambda r=request: worker.request("generate", **r)["seconds"]
        median = measure(sides)
        tokens = batch * new_tokens
        cells = [f"{tokens / median['ours']:,.0f}"]
        for peer in ("keras-hub", "transformers"):
            if peer in median:
                cells += [f"{tokens / median[peer]:,.0f}",
                          f"**{median[peer] / median['ours']:.2f}**"]  # fmt: skip
            else:
                cells += ["n/a", "n/a"]
        rows.append(f"| {batch} | {length} | {new_tokens} | " + " | ".join(cells) + " |")
        print(f"batch {batch}: {median}", flush=True)

    flat = []
    for n in args.lengths:
        seconds = measure({"ours": ours(model, 1, length, n)})["ours"]
        flat.append(f"| {n} | {1e3 * seconds / n:.1f} |")
        print(f"{n} new tokens: {seconds:.3f} s", flush=True)
    if worker is not None:
        worker.close()
    table = "\n".join(
        [
            "| batch | prompt | new tokens | ours tok/s | keras-hub tok/s | ours/keras-hub "
            "| transformers tok/s | ours/transformers |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "| new tokens (batch 1) | ours ms per token (incl. prefill) |",
            "|---|---|",
            *flat,
        ]
    )
    print(table)
    return table


if __name__ == "__main__":
    main()
