"""DARTS: search cost per epoch against a plain training epoch of the same supernet, and the
DARTS-found architecture against random architectures of the same size, trained from scratch.

Speed (the issue's goal: a first-order search epoch costs at most 2.5x a training epoch of the
same supernet, as the paper's first-order variant implies): one `DartsSearchModel` epoch
(architecture step on the validation half, then weight step on the training half, per batch)
against one epoch of the same supernet with only the weight step, on the same batches; the two
alternate epoch by epoch after a traced warm-up epoch each; median seconds per epoch. The
second-order (unrolled) epoch is timed in the same rotation.

Learning: a first-order search on the digits' training split (upscaled in the model) derives a
genotype; random genotypes of the paper's space (two distinct sources per node, no `none`) are
drawn until one has a parameter count within 15% of it; both train from scratch the same way
(AdamW, same epochs and batch) for each seed; test accuracy, mean of the seeds.

Run: `python -m benchmarks.bench_nas` (`--quick` for a smoke run).
"""

from __future__ import annotations

import argparse
import json
import time

import keras
import numpy as np

from zoo.datasets import load_digits
from zoo.nas.darts import (
    DartsSearchModel,
    Genotype,
    build_from_genotype,
    darts_search,
    search_batches,
)
from zoo.nas.darts.data import steps_per_epoch
from zoo.nas.ops import OP_NAMES


class WeightsOnlySupernet(DartsSearchModel):
    """The supernet trained plainly: the weight step alone (softmax mixture, alphas fixed)."""

    def train_step(self, data):
        (x, y), _ = data
        import tensorflow as tf

        weights = self.weight_variables
        with tf.GradientTape() as tape:
            loss, logits = self._loss(x, y)
        grads = tape.gradient(loss, weights)
        grads = [g + self.weight_decay * w for g, w in zip(grads, weights, strict=True)]
        grads, _ = tf.clip_by_global_norm(grads, self.grad_clip)
        self.optimizer.apply_gradients(zip(grads, weights, strict=True))
        self.loss_tracker.update_state(loss)
        self.accuracy_metric.update_state(y, logits)
        return {"loss": self.loss_tracker.result()}


def time_epochs(
    space: dict, x, y, batch_size: int, rounds: int, second_order: bool
) -> dict[str, float]:
    """Median seconds per epoch of the search (first, and second order) and the plain epoch."""
    data = search_batches(x, y, batch_size=batch_size, seed=0)
    models = {
        "plain training epoch": WeightsOnlySupernet(**space),
        "DARTS first-order search epoch": DartsSearchModel(**space),
    }
    if second_order:
        models["DARTS second-order search epoch"] = DartsSearchModel(unrolled=True, **space)
    for model in models.values():
        model.compile()
        model.fit(data, epochs=1, verbose=0)  # traces the step
    times = {name: [] for name in models}
    names = list(models)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            models[name].fit(data, epochs=1, verbose=0)
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def random_genotype(rng: np.random.Generator, num_nodes: int) -> Genotype:
    """A uniformly random genotype of the paper's space (no `none`, two distinct sources)."""
    ops = [op for op in OP_NAMES if op != "none"]
    cells = []
    for _ in range(2):
        edges = []
        for node in range(num_nodes):
            for source in sorted(rng.choice(2 + node, size=2, replace=False)):
                edges.append((str(rng.choice(ops)), int(source)))
        cells.append(edges)
    return Genotype(normal=cells[0], reduce=cells[1])


def train_from_scratch(genotype, network: dict, digits, epochs: int, seed: int) -> float:
    """Test accuracy of `genotype`'s network trained `epochs` epochs from seed `seed`."""
    keras.utils.set_random_seed(seed)
    model = build_from_genotype(genotype, **network)
    model.fit(digits.train.x, digits.train.y, epochs=epochs, batch_size=64, verbose=0)
    return float(model.evaluate(digits.test.x, digits.test.y, verbose=0)[1])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--search-epochs", type=int, default=10)
    parser.add_argument("--train-epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=4, help="intermediate nodes per cell")
    parser.add_argument("--second-order", action="store_true", help="also time second order")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-learning", action="store_true")
    args = parser.parse_args(argv)
    digits = load_digits(dtype="float32")
    num_nodes = 2 if args.quick else args.nodes
    space = dict(num_classes=10, input_shape=(8, 8, 1), image_size=8, channels=4, num_cells=3)
    space["num_nodes"] = num_nodes
    results: dict = {"space": {**space, "op_names": list(OP_NAMES)}}

    if not args.skip_speed:
        x, y = digits.train.x[:512], digits.train.y[:512]
        batch = 64
        results["steps_per_epoch"] = steps_per_epoch(len(x), batch)
        times = time_epochs(space, x, y, batch, 2 if args.quick else 5, args.second_order)
        plain = times["plain training epoch"]
        results["seconds_per_epoch"] = times
        results["ratio_to_plain_epoch"] = {name: t / plain for name, t in times.items()}

    if not args.skip_learning:
        search_epochs = 1 if args.quick else args.search_epochs
        _, found = darts_search(
            digits.train.x,
            digits.train.y,
            epochs=search_epochs,
            batch_size=64,
            verbose=0,
            **{k: v for k, v in space.items() if k not in ("num_classes", "input_shape")},
        )
        network = dict(num_classes=10, input_shape=(8, 8, 1), image_size=16, channels=8)
        network["num_cells"] = 3
        params = build_from_genotype(found, **network).count_params()
        rng = np.random.default_rng(0)
        for _ in range(200):
            candidate = random_genotype(rng, num_nodes)
            candidate_params = build_from_genotype(candidate, **network).count_params()
            if abs(candidate_params - params) <= 0.15 * params:
                break
        seeds = range(1 if args.quick else args.seeds)
        epochs = 1 if args.quick else args.train_epochs
        found_acc = [train_from_scratch(found, network, digits, epochs, s) for s in seeds]
        random_acc = [train_from_scratch(candidate, network, digits, epochs, s) for s in seeds]
        results["learning"] = {
            "search_epochs": search_epochs,
            "train_epochs": epochs,
            "network": network,
            "darts": {"genotype": found.to_dict(), "params": params, "accuracy": found_acc},
            "random": {
                "genotype": candidate.to_dict(),
                "params": candidate_params,
                "accuracy": random_acc,
            },
            "mean_accuracy": {
                "darts": float(np.mean(found_acc)),
                "random": float(np.mean(random_acc)),
            },
        }
    print(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
