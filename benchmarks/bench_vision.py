"""ViT-Ti/16 and Swin-T at 224 px: forward and train-step throughput vs keras-hub, and GFLOP/s.

Both sides are built with identical configurations (equal parameter counts, printed and
checked) and timed in the same process, batch 8, float32, inside `tf.function` (`--jit` adds
`jit_compile=True` to both). The train step is one SGD step on the mean square of the
backbone's output tokens, the same for both. After a warm-up the two sides alternate call by
call (the order flips every round) so that a shared machine's load hits both alike; the table
gives medians. The ratio is ours/peer throughput: above 1 means ours is faster.

GFLOP/s uses analytic multiply-add counts of the matmuls and convolutions (2 FLOPs each; a
train step counted as 3x the forward pass) and is compared with a 2048x2048 float32 matmul
measured in the same run.

keras-hub is not a project dependency; run the peer side from a separate environment:

    make bench-hub  # creates .venv-hub with the project and keras-hub, runs both benchmarks
    .venv-hub/bin/python -m benchmarks.bench_vision [--steps 7] [--jit]

With only the project's environment the table has our figures and no ratios.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from zoo.vision import SwinBackbone, ViTBackbone  # noqa: E402

VIT_TI = dict(patch_size=16, hidden_dim=192, num_layers=12, num_heads=3, mlp_dim=768)
SWIN_T = dict(
    patch_size=4, embed_dim=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24), window_size=7
)


def vit_flops(image_size: int) -> float:
    """Forward FLOPs of ViT-Ti/16 (matmuls and the patch convolution)."""
    d, m, p = VIT_TI["hidden_dim"], VIT_TI["mlp_dim"], VIT_TI["patch_size"]
    patches = (image_size // p) ** 2
    n = patches + 1
    per_layer = 2 * n * (4 * d * d + 2 * d * m) + 2 * 2 * n * n * d
    return 2 * patches * p * p * 3 * d + VIT_TI["num_layers"] * per_layer


def swin_flops(image_size: int) -> float:
    """Forward FLOPs of Swin-T (matmuls, window attention, merging, patch convolution)."""
    p, c, w = SWIN_T["patch_size"], SWIN_T["embed_dim"], SWIN_T["window_size"]
    side = image_size // p
    total = 2 * side * side * p * p * 3 * c
    for stage, depth in enumerate(SWIN_T["depths"]):
        n = side * side
        window = min(w, side)
        per_block = 2 * n * (4 * c * c + 2 * c * 4 * c) + 2 * 2 * n * window * window * c
        total += depth * per_block
        if stage < len(SWIN_T["depths"]) - 1:
            total += 2 * (n // 4) * 4 * c * 2 * c
            side, c = side // 2, c * 2
    return total


def ours(family: str, image_size: int) -> keras.Model:
    if family == "vit":
        return ViTBackbone(image_size=image_size, layer_norm_epsilon=1e-6, **VIT_TI)
    return SwinBackbone(image_size=image_size, drop_path_rate=0.0, **SWIN_T)


def peer(family: str, image_size: int) -> keras.Model | None:
    try:
        import keras_hub
    except ImportError:
        return None
    if family == "vit":
        return keras_hub.models.ViTBackbone(
            image_shape=(image_size, image_size, 3),
            patch_size=VIT_TI["patch_size"],
            num_layers=VIT_TI["num_layers"],
            num_heads=VIT_TI["num_heads"],
            hidden_dim=VIT_TI["hidden_dim"],
            mlp_dim=VIT_TI["mlp_dim"],
            layer_norm_epsilon=1e-6,
        )
    return keras_hub.models.SwinTransformerBackbone(
        image_shape=(image_size, image_size, 3),
        patch_size=SWIN_T["patch_size"],
        embed_dim=SWIN_T["embed_dim"],
        depths=list(SWIN_T["depths"]),
        num_heads=list(SWIN_T["num_heads"]),
        window_size=SWIN_T["window_size"],
        drop_path=0.0,
    )


def first_output(outputs):
    """The token tensor: our backbones return a dict, keras-hub's a tensor (or a dict)."""
    if isinstance(outputs, dict):
        return outputs["sequence_output"]
    return outputs


def step_functions(model: keras.Model, jit: bool) -> tuple[Callable, Callable]:
    """`forward(inputs)` and `train_step(inputs)` (one SGD step) as compiled functions."""
    optimizer = keras.optimizers.SGD(1e-4)
    optimizer.build(model.trainable_variables)

    @tf.function(jit_compile=jit)
    def forward(inputs):
        return first_output(model(inputs, training=False))

    @tf.function(jit_compile=jit)
    def train_step(inputs):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(first_output(model(inputs, training=True))))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    return forward, train_step


def _call(fn: Callable, inputs) -> float:
    start = time.perf_counter()
    np.asarray(tf.nest.flatten(fn(inputs))[0])  # waits for the result
    return time.perf_counter() - start


def alternate(fns: dict[str, Callable], inputs, warmup: int, steps: int) -> dict[str, float]:
    """Median seconds per call of each function, the functions called in alternation.

    Each function is warmed up (traced, compiled) first; then every round calls each once, the
    order reversed every other round, so slow phases of a shared machine hit all sides alike.
    """
    for fn in fns.values():
        for _ in range(warmup):
            _call(fn, inputs)
    times: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for step in range(steps):
        for name in names if step % 2 == 0 else names[::-1]:
            times[name].append(_call(fns[name], inputs))
    return {name: float(np.median(values)) for name, values in times.items()}


def matmul_gflops(size: int = 2048, steps: int = 5, jit: bool = False) -> float:
    """Achieved GFLOP/s of a `size` x `size` float32 matmul (the machine's dense peak)."""
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    fn = tf.function(lambda x: tf.matmul(x, b), jit_compile=jit)
    seconds = alternate({"matmul": fn}, a, warmup=2, steps=steps)["matmul"]
    return 2 * size**3 / seconds / 1e9


def ratio_cell(ours_s: float, peer_s: float | None) -> str:
    return "n/a" if peer_s is None else f"{peer_s / ours_s:.2f}"


def paired_models(name: str, ours_model, hub_model) -> tuple[dict, str]:
    """`{"ours": ..., "peer": ...}` (no peer without keras-hub) and a parameter-count line.

    Raises when both sides exist and differ in size: the comparison needs identical models.
    """
    models = {"ours": ours_model}
    hub_count = "n/a"
    if hub_model is not None:
        models["peer"] = hub_model
        hub_count = f"{hub_model.count_params():,}"
        if hub_model.count_params() != ours_model.count_params():
            raise RuntimeError(
                f"{name}: the two sides differ in size: ours {ours_model.count_params():,}, "
                f"keras-hub {hub_count}"
            )
    return models, f"{name}: ours {ours_model.count_params():,} parameters, keras-hub {hub_count}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=7, help="timed calls per side")
    parser.add_argument("--jit", action="store_true", help="jit_compile=True on both sides")
    parser.add_argument("--models", default="vit,swin", help="comma list of vit, swin")
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    x = tf.random.normal((args.batch_size, args.image_size, args.image_size, 3))
    dense = matmul_gflops(jit=args.jit)
    print(
        f"batch {args.batch_size}, {args.image_size} px, float32, "
        f"{'XLA (jit_compile=True)' if args.jit else 'tf.function, no XLA'}; "
        f"{args.warmup} warm-up + {args.steps} timed calls per side, alternating, medians; "
        f"dense 2048^2 matmul: {dense:.1f} GFLOP/s\n"
    )
    rows = []
    counts = []
    for family, name, flops in (
        ("vit", "ViT-Ti/16", vit_flops(args.image_size)),
        ("swin", "Swin-T", swin_flops(args.image_size)),
    ):
        if family not in args.models.split(","):
            continue
        models, count = paired_models(
            name, ours(family, args.image_size), peer(family, args.image_size)
        )
        counts.append(count)
        functions = {side: step_functions(model, args.jit) for side, model in models.items()}
        for index, (label, factor) in enumerate((("forward", 1), ("train step", 3))):
            seconds = alternate(
                {side: fns[index] for side, fns in functions.items()}, x, args.warmup, args.steps
            )
            ours_s, peer_s = seconds["ours"], seconds.get("peer")
            peer_rate = "n/a" if peer_s is None else f"{args.batch_size / peer_s:.1f}"
            work = factor * flops * args.batch_size / 1e9
            peer_gflops = "n/a" if peer_s is None else f"{work / peer_s:.1f}"
            gflops = work / ours_s
            rows.append(
                f"| {name} | {label} | {args.batch_size / ours_s:.1f} | {peer_rate} | "
                f"**{ratio_cell(ours_s, peer_s)}** | {gflops:.1f} | {peer_gflops} | "
                f"{100 * gflops / dense:.0f}% |"
            )
    print("\n".join(counts) + "\n")
    print(
        "| model | pass | ours img/s | keras-hub img/s | ratio (ours/hub) | ours GFLOP/s | "
        "keras-hub GFLOP/s | ours % of matmul |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
