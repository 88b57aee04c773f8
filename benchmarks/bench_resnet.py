"""ResNet-50: forward and train-step throughput vs `keras.applications.ResNet50`.

Both sides are the same network: ours is `zoo.create("resnet50", conv_bias=True)`, which holds
exactly the variables of `keras.applications.ResNet50(weights=None)` (checked: equal parameter
counts; keras.applications gives every convolution a bias). Same batch, input size, float32,
`tf.function` (`--jit` adds `jit_compile=True` to both), timed in one process. The train step
is one SGD step on sparse categorical cross-entropy of the logits (keras.applications is built
with `classifier_activation=None`), the same for both. After a warm-up the two sides alternate
call by call, the order flipping every round, so a shared machine's load hits both alike; the
table gives medians. The ratio is ours/peer throughput: above 1 means ours is faster.

Run:

    .venv/bin/python -m benchmarks.bench_resnet [--batch-size 8] [--image-size 224] [--steps 7]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo.vision.resnet  # noqa: E402, F401  (registers the presets)
from benchmarks.bench_vision import alternate, ratio_cell  # noqa: E402
from zoo.registry import create  # noqa: E402


def models(image_size: int) -> dict[str, keras.Model]:
    """Ours and keras.applications' ResNet-50, checked to hold the same number of parameters."""
    ours = create("resnet50", image_size=image_size, conv_bias=True)
    peer = keras.applications.ResNet50(
        weights=None, input_shape=(image_size, image_size, 3), classifier_activation=None
    )
    if ours.count_params() != peer.count_params():
        raise RuntimeError(
            f"the two sides differ in size: ours {ours.count_params():,}, "
            f"keras.applications {peer.count_params():,}"
        )
    return {"ours": ours, "peer": peer}


def step_functions(model: keras.Model, jit: bool) -> tuple[Callable, Callable]:
    """`forward(images)` and `train_step(images, labels)` (one SGD step), compiled."""
    optimizer = keras.optimizers.SGD(1e-4)
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(jit_compile=jit)
    def forward(batch):
        return model(batch[0], training=False)

    @tf.function(jit_compile=jit)
    def train_step(batch):
        images, labels = batch
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    return forward, train_step


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=7, help="timed calls per side")
    parser.add_argument("--jit", action="store_true", help="jit_compile=True on both sides")
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    size = args.image_size
    batch = (
        tf.random.normal((args.batch_size, size, size, 3)),
        tf.random.uniform((args.batch_size,), 0, 1000, dtype=tf.int32),
    )
    built = models(size)
    print(
        f"ResNet-50, batch {args.batch_size}, {size} px, float32, "
        f"{'XLA (jit_compile=True)' if args.jit else 'tf.function, no XLA'}; "
        f"{args.warmup} warm-up + {args.steps} timed calls per side, alternating, medians; "
        f"{built['ours'].count_params():,} parameters on both sides\n"
    )
    functions = {side: step_functions(model, args.jit) for side, model in built.items()}
    print("| model | pass | ours img/s | keras.applications img/s | ratio (ours/peer) |")
    print("|---|---|---:|---:|---:|")
    for index, label in enumerate(("forward", "train step")):
        seconds = alternate(
            {side: fns[index] for side, fns in functions.items()}, batch, args.warmup, args.steps
        )
        print(
            f"| ResNet-50, {size} px | {label} | {args.batch_size / seconds['ours']:.1f} | "
            f"{args.batch_size / seconds['peer']:.1f} | "
            f"**{ratio_cell(seconds['ours'], seconds['peer'])}** |"
        )


if __name__ == "__main__":
    main()
