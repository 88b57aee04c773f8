"""BERT-base and DistilBERT-base: forward tokens/s and train-step time vs keras-hub, and GFLOP/s.

Both sides are built with identical configurations (equal parameter counts, printed and
checked) and timed in the same process, batch 8, sequence 128, float32, inside `tf.function`
(no XLA unless `--jit`). The batch has padding (lengths 72 to 128) so the attention mask is
exercised. The train step is one SGD step on the mean square of the sequence output, with
dropout active (0.1 on both sides). The sides alternate call by call after a warm-up (the order
flips every round) and the table gives medians; the ratio is ours/peer throughput, so above 1
means ours is faster. keras-hub's BERT uses the tanh GELU, so ours is built with
`activation="gelu_approximate"` for the comparison; both DistilBERTs use the exact GELU.

GFLOP/s uses analytic multiply-add counts of the encoder matmuls (2 FLOPs each, padding
positions included; a train step counted as 3x the forward pass) and is compared with a
2048x2048 float32 matmul measured in the same run.

keras-hub is not a project dependency; run the peer side from a separate environment:

    make bench-hub  # creates .venv-hub with the project and keras-hub, runs both benchmarks
    .venv-hub/bin/python -m benchmarks.bench_text [--warmup 2] [--steps 5]

With only the project's environment the table has our figures and no ratios.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from benchmarks.bench_vision import (  # noqa: E402
    alternate,
    matmul_gflops,
    paired_models,
    ratio_cell,
    step_functions,
)
from zoo.text import BertBackbone, DistilBertBackbone  # noqa: E402

# The registered presets' arguments (keras-hub's backbones take the same names).
BERT_BASE = zoo.get_spec("bert_base_en_uncased").defaults
DISTILBERT_BASE = zoo.get_spec("distilbert_base_en_uncased").defaults
# keras-hub's BERT uses the tanh approximation (our BERT default is the exact GELU, as in the
# original); DistilBERT uses the exact GELU in both.
ACTIVATION = {"bert": "gelu_approximate", "distilbert": "gelu"}


def encoder_flops(config: dict, length: int) -> float:
    """Forward FLOPs of one sequence through the encoder layers (and the pooler, if any)."""
    d, i = config["hidden_dim"], config["intermediate_dim"]
    per_layer = 2 * length * (4 * d * d + 2 * d * i) + 2 * 2 * length * length * d
    return config["num_layers"] * per_layer


def ours(family: str) -> keras.Model:
    if family == "bert":
        return BertBackbone(**BERT_BASE, dropout=0.1, activation=ACTIVATION[family])
    return DistilBertBackbone(**DISTILBERT_BASE, dropout=0.1, activation=ACTIVATION[family])


def peer(family: str) -> keras.Model | None:
    try:
        import keras_hub
    except ImportError:
        return None
    if family == "bert":
        return keras_hub.models.BertBackbone(**BERT_BASE, dropout=0.1)
    return keras_hub.models.DistilBertBackbone(**DISTILBERT_BASE, dropout=0.1)


def text_batch(family: str, batch_size: int, length: int, vocabulary_size: int) -> dict:
    """Random token ids, padded to `length` from real lengths spread over [length/2+8, length]."""
    rng = np.random.default_rng(0)
    lengths = np.linspace(length // 2 + 8, length, batch_size).astype(int)
    mask = (np.arange(length)[None, :] < lengths[:, None]).astype("int32")
    token_ids = rng.integers(1, vocabulary_size, (batch_size, length)) * mask
    batch = {"token_ids": token_ids.astype("int32"), "padding_mask": mask}
    if family == "bert":
        segments = (np.arange(length)[None, :] >= lengths[:, None] // 2) * mask
        batch["segment_ids"] = segments.astype("int32")
    return {name: tf.constant(value) for name, value in batch.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5, help="timed calls per side")
    parser.add_argument("--jit", action="store_true", help="jit_compile=True on both sides")
    parser.add_argument("--models", default="bert,distilbert", help="comma list")
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    dense = matmul_gflops(jit=args.jit)
    tokens = args.batch_size * args.sequence_length
    print(
        f"batch {args.batch_size}, sequence {args.sequence_length}, float32, dropout 0.1, "
        f"{'XLA (jit_compile=True)' if args.jit else 'tf.function, no XLA'}; "
        f"{args.warmup} warm-up + {args.steps} timed calls per side, alternating, medians; "
        f"dense 2048^2 matmul: {dense:.1f} GFLOP/s\n"
    )
    rows, counts = [], []
    for family, name, config in (
        ("bert", "BERT-base", BERT_BASE),
        ("distilbert", "DistilBERT-base", DISTILBERT_BASE),
    ):
        if family not in args.models.split(","):
            continue
        flops = args.batch_size * encoder_flops(config, args.sequence_length)
        batch = text_batch(family, args.batch_size, args.sequence_length, config["vocabulary_size"])
        models, count = paired_models(name, ours(family), peer(family))
        counts.append(count)
        functions = {side: step_functions(model, args.jit) for side, model in models.items()}
        for index, (label, factor) in enumerate((("forward", 1), ("train step", 3))):
            seconds = alternate(
                {side: fns[index] for side, fns in functions.items()},
                batch,
                args.warmup,
                args.steps,
            )
            ours_s, peer_s = seconds["ours"], seconds.get("peer")
            if label == "forward":
                ours_cell = f"{tokens / ours_s:,.0f} tok/s"
                peer_cell = "n/a" if peer_s is None else f"{tokens / peer_s:,.0f} tok/s"
            else:
                ours_cell = f"{1e3 * ours_s:,.0f} ms"
                peer_cell = "n/a" if peer_s is None else f"{1e3 * peer_s:,.0f} ms"
            gflops = factor * flops / ours_s / 1e9
            peer_gflops = "n/a" if peer_s is None else f"{factor * flops / peer_s / 1e9:.1f}"
            rows.append(
                f"| {name} | {label} | {ours_cell} | {peer_cell} | "
                f"**{ratio_cell(ours_s, peer_s)}** | {gflops:.1f} | {peer_gflops} | "
                f"{100 * gflops / dense:.0f}% |"
            )
    print("\n".join(counts) + "\n")
    print(
        "| model | pass | ours | keras-hub | ratio (ours/hub) | ours GFLOP/s | "
        "keras-hub GFLOP/s | ours % of matmul |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
