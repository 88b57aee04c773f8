"""DETR: the learning check on the synthetic shapes set, and DETR-R50 speed vs Hugging Face.

`learn` trains `detr_tiny` (ResNet stages 32/64, 2 + 2 transformer layers of width 64, 10
queries; 0.26M parameters) from scratch on `make_shapes_detection` (64 px, 1-4 coloured
squares, disks and triangles per image) with AdamW, gradient clipping at 0.1 and the paper's
schedule (the learning rate divided by 10 for the last third of the epochs), and reports
COCO AP, AP50 and AP75 (pycocotools) on 128 held-out images every few epochs; it draws 8
held-out images with their detections (score > 0.5; true boxes dashed) into
`docs/detr/shapes_predictions.png`.

`speed` times DETR-R50 (`detr_resnet50`: ResNet-50, 6 + 6 layers, 100 queries, 91 classes,
auxiliary losses) at 512x512, batch 2, float32 on the CPU against Hugging Face's
`DetrForObjectDetection` with the same configuration (transformers' ResNet-50,
`use_timm_backbone=False`, `auxiliary_loss=True`; checked: equal parameter counts, batch-norm
statistics aside; both freeze the batch norms, the stem and the first stage) on torch, run
from its own environment (`benchmarks/hf_peer.py`; `--peer-python`, default
`.venv-hf/bin/python`, made by `make .venv-hf/bin/python`) as a
`benchmarks.peer_worker.PeerWorker`, its OpenMP threads waiting passively. Forward: one
inference call. Train step: the set loss with Hungarian matching (scipy on both sides) on 3
boxes per image, backward and one SGD step. After warm-up the two sides alternate call by call; the
table gives medians and the ratio ours/peer throughput (above 1: ours faster).

Run:

    .venv/bin/python -m benchmarks.bench_detr learn [--images 512] [--epochs 60]
    .venv/bin/python -m benchmarks.bench_detr speed [--image-size 512] [--batch-size 2]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo.vision.detr as detr  # noqa: E402
from zoo.registry import create  # noqa: E402

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "detr")

HF_PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hf_peer.py")


def paper_schedule(learning_rate: float, total_steps: int):
    """The paper's schedule: `learning_rate`, divided by 10 for the last third of training."""
    return keras.optimizers.schedules.PiecewiseConstantDecay(
        [int(total_steps * 2 / 3)], [learning_rate, learning_rate / 10]
    )


def learn(args) -> dict:
    """Trains `detr_tiny` on the shapes set; returns the COCO scores of the last evaluation."""
    keras.utils.set_random_seed(args.seed)
    train = detr.make_shapes_detection(args.images, seed=args.seed)
    test = detr.make_shapes_detection(128, seed=args.seed + 1)
    x = train["images"].astype("float32") / 255.0
    x_test = test["images"].astype("float32") / 255.0
    targets = detr.pad_targets(train["boxes"], train["labels"], (64, 64), max_boxes=10)
    detector = create("detr_tiny")
    optimizer = keras.optimizers.AdamW(
        paper_schedule(args.learning_rate, args.epochs * -(-args.images // 16)),
        weight_decay=1e-4,
        clipnorm=0.1,
    )
    detector.compile(optimizer=optimizer)
    print(f"detr_tiny: {detector.count_params():,} parameters; {args.images} training images")
    start, scores = time.perf_counter(), {}
    for epoch in range(1, args.epochs + 1):
        history = detector.fit(x, targets, batch_size=16, epochs=1, verbose=0)
        if epoch % args.eval_every == 0 or epoch == args.epochs:
            scores = detr.evaluate_detector(detector, x_test, test["boxes"], test["labels"])
            print(
                f"epoch {epoch:3d}  {time.perf_counter() - start:6.0f} s  "
                f"loss {history.history['loss'][-1]:.3f}  AP {scores['AP']:.3f}  "
                f"AP50 {scores['AP50']:.3f}  AP75 {scores['AP75']:.3f}",
                flush=True,
            )
    found = detr.postprocess(detector.predict(x_test[:8], verbose=0), (64, 64), threshold=0.5)
    path = detr.draw_detections(
        test["images"][:8],
        found,
        os.path.join(args.docs, "shapes_predictions.png"),
        class_names=detr.SHAPE_NAMES,
        ground_truth_boxes=test["boxes"][:8],
    )
    print(f"wrote {os.path.relpath(path)}")
    return scores


def _ours_parameter_count(model: keras.Model) -> int:
    """Parameters as torch counts them: frozen batch norms hold buffers, not parameters."""
    norms = [
        w
        for layer in model.backbone.layers
        if isinstance(layer, keras.layers.BatchNormalization)
        for w in layer.weights
    ]
    return model.count_params() - sum(int(np.prod(w.shape)) for w in norms)


def speed(args) -> None:
    from benchmarks.peer_worker import PeerWorker

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(0)
    size, batch = args.image_size, args.batch_size
    rng = np.random.default_rng(0)
    images = rng.normal(size=(batch, size, size, 3)).astype("float32")
    labels = rng.integers(0, 91, size=(batch, 3)).astype("int64")
    centres = rng.uniform(0.3, 0.7, size=(batch, 3, 2))
    sides = rng.uniform(0.1, 0.3, size=(batch, 3, 2))
    boxes = np.concatenate([centres, sides], -1).astype("float32")
    ours = create("detr_resnet50")
    ours.compile(optimizer=keras.optimizers.SGD(1e-4))
    targets = {"labels": labels.astype("int32"), "boxes": boxes}

    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "batch.npz")
        np.savez(data, images=images, labels=labels, boxes=boxes)
        # torch's OpenMP threads spin while waiting; on a shared machine with more runnable
        # threads than cores that made every op 30-100x slower. Passive waiting, as TF's pool.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
        worker = PeerWorker("HF", args.peer_python, HF_PEER, os.path.join(tmp, "peer.log"))
        try:
            setup = worker.request("setup", model="detr", threads=args.threads, data=data)
            ours_count = _ours_parameter_count(ours)
            print(f"parameters: ours {ours_count:,}, HF {setup['parameters']:,}")
            forward = tf.function(lambda x: ours(x, training=False))
            x = tf.constant(images)
            sides_fns = {
                "forward": (lambda: forward(x), "forward"),
                "train step": (lambda: ours.train_on_batch(images, targets), "train"),
            }
            rows = []
            for name, (fn, op) in sides_fns.items():
                for _ in range(args.warmup):
                    fn()
                    worker.request(op)
                ours_t, peer_t = [], []
                for step in range(args.steps):
                    order = ("ours", "peer") if step % 2 == 0 else ("peer", "ours")
                    for side in order:
                        if side == "ours":
                            start = time.perf_counter()
                            out = fn()
                            keras.tree.map_structure(np.asarray, out)
                            ours_t.append(time.perf_counter() - start)
                        else:
                            peer_t.append(worker.request(op)["seconds"])
                o, p = float(np.median(ours_t)), float(np.median(peer_t))
                rows.append((name, o, p))
        finally:
            worker.close()
    print(f"\nDETR-R50, {size}x{size}, batch {batch}, float32 CPU, {args.threads} threads each; "
          f"HF transformers {setup['version']}, torch {setup['torch']}")  # fmt: skip
    print("| step | ours (s) | HF torch (s) | ours/HF throughput |")
    print("|---|---|---|---|")
    for name, o, p in rows:
        print(f"| {name} | {o:.2f} | {p:.2f} | {p / o:.2f} |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    learn_parser = commands.add_parser("learn", help="detr_tiny on the shapes set")
    learn_parser.add_argument("--images", type=int, default=512)
    learn_parser.add_argument("--epochs", type=int, default=60)
    learn_parser.add_argument("--eval-every", type=int, default=10)
    learn_parser.add_argument("--learning-rate", type=float, default=1e-3)
    learn_parser.add_argument("--seed", type=int, default=0)
    learn_parser.add_argument("--docs", default=DOCS)
    speed_parser = commands.add_parser("speed", help="DETR-R50 vs Hugging Face on torch")
    speed_parser.add_argument("--image-size", type=int, default=512)
    speed_parser.add_argument("--batch-size", type=int, default=2)
    speed_parser.add_argument("--warmup", type=int, default=1)
    speed_parser.add_argument("--steps", type=int, default=3)
    speed_parser.add_argument("--threads", type=int, default=2)
    speed_parser.add_argument("--peer-python", default=".venv-hf/bin/python")
    args = parser.parse_args(argv)
    if args.command == "speed":
        speed(args)
    else:  # `make bench` runs main() without arguments: the learning check, shortened
        if args.command is None:
            args = parser.parse_args(["learn", "--epochs", "10", *(argv or [])])
        print(json.dumps(learn(args)))


if __name__ == "__main__":
    main()
