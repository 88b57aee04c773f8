"""SimCLR and MoCo v2 on upscaled digits: linear probe with 10% of the labels vs supervised.

The images ship offline: scikit-learn's 8x8 digits (`zoo.datasets.load_digits`, stratified
80/20 split), upscaled bilinearly to 32x32 and repeated over 3 channels. One encoder
architecture (`zoo.create("cnn_digits", input_shape=(32, 32, 3), filters=...)`) is:

- pre-trained with SimCLR and with MoCo v2 on all training images without labels, then
  measured by `linear_probe` trained on a stratified 10% of the labelled training images;
- trained supervised (`fine_tune` from random weights) on the same 10%: the baseline;
- after pre-training, fine-tuned end to end on the same 10% (the semi-supervised protocol);
- measured by `linear_probe` with random weights (the floor a learned encoder should clear).

All accuracies are on the 360 test images. The augmentation is `SimCLRAugmentation` without
the flip (a mirrored digit is another symbol) and with crops of 30-100% of the area.

Speed: the median step time of `fit` (SimCLR, MoCo, and a plain supervised step of the same
encoder, batch `--batch-size`, float32, graph mode) after one warm-up epoch, as ratios to the
supervised step: the cost of two augmented views (and MoCo's key encoder).

    python -m benchmarks.bench_ssl            # the full run (~10 minutes on 2 idle cores)
    python -m benchmarks.bench_ssl --quick    # smoke test
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from benchmarks.fit_timer import fit_timer  # noqa: E402
from zoo.vision.ssl import MoCo, SimCLR, SimCLRAugmentation, fine_tune, linear_probe  # noqa: E402
from zoo.vision.ssl.data import label_subset, upscaled_digits  # noqa: E402

SIZE = 32


def encoder(filters, seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return zoo.create("cnn_digits", input_shape=(SIZE, SIZE, 3), filters=filters, dropout=0.0)


def augmentation(seed: int) -> SimCLRAugmentation:
    return SimCLRAugmentation(
        crop_scale=(0.3, 1.0), flip=False, color_jitter=0.5, blur_probability=0.2, seed=seed
    )


def step_times(models, x, y, batch_size: int, steps: int, rounds: int = 3) -> list[float]:
    """Median milliseconds of a `fit` step of each model, after a warm-up epoch each.

    The models take turns, one epoch of `steps` steps each per round, the order reversed
    every round, so that a shared machine's load falls on all of them alike.
    """
    x, y = x[: batch_size * steps], y[: batch_size * steps]
    timers = []
    for model, labelled in models:
        model.fit(x, y if labelled else None, batch_size=batch_size, epochs=1, verbose=0)
        timers.append(fit_timer())
    order = list(range(len(models)))
    for _ in range(rounds):
        for i in order:
            model, labelled = models[i]
            model.fit(
                x,
                y if labelled else None,
                batch_size=batch_size,
                epochs=1,
                verbose=0,
                callbacks=[timers[i]],
            )
        order.reverse()
    return [float(np.median(timer.steps)) for timer in timers]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="pre-training epochs")
    parser.add_argument("--supervised-epochs", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--label-fraction", type=float, default=0.1)
    parser.add_argument("--filters", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--queue-size", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timing-steps", type=int, default=8)
    parser.add_argument(
        "--methods",
        nargs="+",
        default=["random", "supervised", "simclr", "moco", "timing"],
        help="rows to run (default: all)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke test: 1 epoch")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.supervised_epochs, args.timing_steps = 1, 2, 2
    filters = tuple(args.filters)
    (x_train, y_train), (x_test, y_test) = upscaled_digits(SIZE, args.seed)
    few = label_subset(y_train, args.label_fraction, args.seed)
    labelled = (x_train[few], y_train[few])
    test = (x_test, y_test)
    print(
        f"digits upscaled to {SIZE}x{SIZE}x3: {len(x_train)} unlabelled training images, "
        f"{len(few)} labelled ({args.label_fraction:.0%}), {len(x_test)} test; encoder "
        f"cnn_digits filters={filters}; batch {args.batch_size}; TF {tf.__version__}"
    )
    rows = []

    def run(name, fn):
        start = time.perf_counter()
        accuracy = fn()
        rows.append((name, accuracy, time.perf_counter() - start))
        print(f"  {name:<44} {accuracy:.3f}  ({rows[-1][2]:.0f} s)", flush=True)

    if "random" in args.methods:
        run(
            "random encoder, linear probe",
            lambda: linear_probe(encoder(filters, args.seed), labelled, test),
        )

    def supervised():
        model = fine_tune(
            encoder(filters, args.seed), labelled, epochs=args.supervised_epochs, batch_size=32
        )
        return model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]

    if "supervised" in args.methods:
        run(f"supervised on {args.label_fraction:.0%} labels (random init)", supervised)

    def pretrained(kind):
        net = encoder(filters, args.seed)
        if kind == "simclr":
            learner = SimCLR(
                net, projection_dims=64, temperature=0.2, augmentation=augmentation(args.seed)
            )
        else:
            learner = MoCo(
                net,
                queue_size=args.queue_size,
                momentum=0.99,
                temperature=0.2,
                projection_dims=64,
                augmentation=augmentation(args.seed),
            )
        usable = len(x_train) // args.batch_size * args.batch_size  # whole batches for the queue
        learner.fit(x_train[:usable], batch_size=args.batch_size, epochs=args.epochs, verbose=0)
        return net

    def evaluate_fine_tuned(net):
        model = fine_tune(net, labelled, epochs=args.supervised_epochs, batch_size=32)
        return model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]

    for kind, label in (("simclr", "SimCLR"), ("moco", "MoCo v2")):
        if kind not in args.methods:
            continue
        trained = {}

        def probe(kind=kind, trained=trained):
            trained["net"] = pretrained(kind)
            return linear_probe(trained["net"], labelled, test)

        run(f"{label} ({args.epochs} epochs), linear probe", probe)
        run(
            f"{label}, then fine-tuned on the same labels",
            lambda t=trained: evaluate_fine_tuned(t["net"]),
        )

    if "timing" not in args.methods:
        return
    print("\nstep time, batch", args.batch_size, flush=True)
    plain = fine_tune(encoder(filters, args.seed), labelled, epochs=1, batch_size=args.batch_size)
    simclr = SimCLR(encoder(filters, 1), projection_dims=64, augmentation=augmentation(1))
    moco = MoCo(
        encoder(filters, 2),
        queue_size=args.queue_size,
        projection_dims=64,
        augmentation=augmentation(2),
    )
    supervised_ms, simclr_ms, moco_ms = step_times(
        [(plain, True), (simclr, False), (moco, False)],
        x_train,
        y_train,
        args.batch_size,
        args.timing_steps,
    )
    print(f"  supervised {supervised_ms:.1f} ms")
    print(f"  SimCLR     {simclr_ms:.1f} ms  ({simclr_ms / supervised_ms:.2f}x supervised)")
    print(f"  MoCo v2    {moco_ms:.1f} ms  ({moco_ms / supervised_ms:.2f}x supervised)")


if __name__ == "__main__":
    main()
