"""ViT-Ti/16 and Swin-T at 224 px: forward and train-step throughput vs keras-hub, and GFLOP/s.

Both sides are built with identical configurations and timed in the same process, batch 8,
inside `tf.function` (no XLA), float32. The train step is one SGD step on the mean square of
the backbone's output tokens, the same for both. GFLOP/s uses analytic multiply-add counts of
the matmuls and convolutions (2 FLOPs each; a train step counted as 3x the forward pass) and is
compared with a 2048x2048 float32 matmul measured in the same run.

keras-hub is not a project dependency; run the peer side from a separate environment:

    python3 -m venv /tmp/hub-venv && /tmp/hub-venv/bin/pip install -e . keras-hub
    /tmp/hub-venv/bin/python -m benchmarks.bench_vision [--steps 5] [--image-size 224]

With only the project's environment the table has our figures and no ratios.
"""

from __future__ import annotations

import argparse
import os
import time

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
        return ViTBackbone(image_size=image_size, **VIT_TI)
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
    cls = getattr(keras_hub.models, "SwinTransformerBackbone", None)
    if cls is None:
        return None
    return cls(
        image_shape=(image_size, image_size, 3),
        patch_size=SWIN_T["patch_size"],
        embed_dim=SWIN_T["embed_dim"],
        depths=list(SWIN_T["depths"]),
        num_heads=list(SWIN_T["num_heads"]),
        window_size=SWIN_T["window_size"],
        drop_path=0.0,
    )


def _tokens(outputs):
    if isinstance(outputs, dict):
        return outputs.get("sequence_output", next(iter(outputs.values())))
    return outputs


def _time(fn, x, steps: int) -> float:
    fn(x)  # trace
    fn(x)
    start = time.perf_counter()
    for _ in range(steps):
        result = fn(x)
    np.asarray(tf.nest.flatten(result)[0])
    return (time.perf_counter() - start) / steps


def measure(model: keras.Model, x: tf.Tensor, steps: int) -> tuple[float, float]:
    """Seconds per forward pass and per train step."""
    optimizer = keras.optimizers.SGD(1e-4)
    optimizer.build(model.trainable_variables)

    @tf.function
    def forward(images):
        return _tokens(model(images, training=False))

    @tf.function
    def train_step(images):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(_tokens(model(images, training=True))))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    return _time(forward, x, steps), _time(train_step, x, steps)


def matmul_gflops(size: int = 2048, steps: int = 5) -> float:
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    seconds = _time(tf.function(lambda x: tf.matmul(x, b)), a, steps)
    return 2 * size**3 / seconds / 1e9


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args(argv)
    x = tf.random.normal((args.batch_size, args.image_size, args.image_size, 3))
    dense = matmul_gflops()
    print(
        f"batch {args.batch_size}, {args.image_size} px, {args.steps} timed steps; "
        f"dense 2048^2 matmul: {dense:.1f} GFLOP/s\n"
    )
    print(
        "| model | pass | ours img/s | keras-hub img/s | ratio (ours/hub) | ours GFLOP/s | "
        "% of matmul |"
    )
    print("|---|---|---|---|---|---|---|")
    for family, name, flops in (
        ("vit", "ViT-Ti/16", vit_flops(args.image_size)),
        ("swin", "Swin-T", swin_flops(args.image_size)),
    ):
        ours_times = measure(ours(family, args.image_size), x, args.steps)
        hub_model = peer(family, args.image_size)
        hub_times = measure(hub_model, x, args.steps) if hub_model is not None else (None, None)
        for label, ours_s, hub_s, factor in zip(
            ("forward", "train step"), ours_times, hub_times, (1, 3), strict=True
        ):
            ours_rate = args.batch_size / ours_s
            hub_rate = "n/a" if hub_s is None else f"{args.batch_size / hub_s:.1f}"
            ratio = "n/a" if hub_s is None else f"{hub_s / ours_s:.2f}"
            gflops = factor * flops * args.batch_size / ours_s / 1e9
            print(
                f"| {name} | {label} | {ours_rate:.1f} | {hub_rate} | {ratio} | "
                f"{gflops:.1f} | {100 * gflops / dense:.0f}% |"
            )


if __name__ == "__main__":
    main()
