"""Few-shot classification: ProtoNets, MAML and Reptile against learn2learn, like for like.

For each dataset (`digits_few_shot`: held-out digit classes, 8x8; `glyphs_few_shot`: unseen
alphabets rendered from the DejaVu fonts, 28x28) and each of 5-way 1-shot and 5-shot, the
training and the 600 test episodes are drawn once here (`EpisodeSampler`, seeds 0 and 1) and
given to every method: ours (`PrototypicalNetwork`, `MAML`, `Reptile`, all on the Conv-4
encoder) and learn2learn's MAML and ProtoNets (PyTorch, `benchmarks/meta_peer.py`, a worker
process in its own environment `L2L_PYTHON`, default `.venv-l2l/bin/python`). Both sides
start from the same initial weights (ours, copied into the PyTorch model), with the same
optimizer, learning rates, inner loop, meta-batch and BatchNorm/Adam epsilons; after a warm-up
chunk each, they train on the same episodes in alternating chunks (order reversed every
round), so the episodes per second compare under the same machine load. Reported: query
accuracy with its 95% interval over the test episodes (ours scored with the compiled
`episode_accuracies`), and meta-training episodes per second (ours/theirs). Our Conv-4 uses
`layers.FusedBatchNormalization` (TensorFlow's fused kernel, `Conv4Backbone`'s default);
`--keras-bn-baseline` adds a third side, the same learner on Keras's `BatchNormalization`,
trained in the same alternation (rows "... (Keras BN)"). Training is short
(a few hundred episodes; fewer on glyphs) to keep the run near 10 minutes on 2 cores: the
accuracies compare the implementations, they are not the papers' converged figures. A
nearest-prototype classifier on raw pixels is the floor any learned encoder should clear.

    python -m benchmarks.bench_meta           # make bench-meta
    python -m benchmarks.bench_meta --quick   # smoke test: a few episodes
    python -m benchmarks.bench_meta --methods protonet --keras-bn-baseline  # ProtoNets rows
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from benchmarks.peer_worker import PeerWorker
from zoo.meta import (
    MAML,
    Conv4Backbone,
    EpisodeSampler,
    FewShotAccuracy,
    PrototypicalNetwork,
    Reptile,
    digits_few_shot,
    few_shot_accuracy,
    glyphs_few_shot,
)

N_WAY, N_QUERY = 5, 15
FULL = {"train_episodes": 400, "meta_train_episodes": 160, "test_episodes": 600, "warmup": 16}
# 28x28 glyphs cost ~10x an 8x8 digit per episode: fewer training episodes keep the default run
# under ~12 minutes on 2 shared cores (the 600 test episodes stay).
FULL_GLYPHS = dict(FULL, train_episodes=200, meta_train_episodes=96)
QUICK = {"train_episodes": 24, "meta_train_episodes": 16, "test_episodes": 20, "warmup": 8}
META_BATCH = 4
# Speed: after a warm-up chunk per side, ours and theirs train on the same episodes in ROUNDS
# alternating chunks (the order reversed every round), so both see the same machine load.
ROUNDS = 4
# Episodes per compiled ProtoNet call (Keras's `steps_per_execution`): the per-step Python
# overhead of `fit` is most of an 8x8 episode's cost. MAML and Reptile: meta-batches per call.
STEPS_PER_EXECUTION = 16
META_STEPS_PER_EXECUTION = 4
PROTONET_LEARNING_RATE = 1e-3
# Both sides start from our initial weights and use Keras's epsilons (BatchNormalization 1e-3,
# Adam 1e-7; torch's defaults are 1e-5 and 1e-8): `meta_peer.py` takes them from the config.
BATCH_NORM_EPSILON = 1e-3
ADAM_EPSILON = 1e-7
MAML_HYPERPARAMETERS = {"inner_lr": 0.4, "inner_steps": 1, "learning_rate": 1e-3}  # Omniglot's
REPTILE_HYPERPARAMETERS = {"inner_lr": 1e-3, "inner_steps": 5, "meta_step_size": 1.0}
DATASETS = {"digits": digits_few_shot, "glyphs": glyphs_few_shot}
METHODS = ("protonet", "maml", "reptile")


def conv4_classifier(image_size: int, n_way: int, fused_batch_norm: bool = True) -> keras.Model:
    """Conv-4 (the same layers as `Conv4Backbone`) with a linear head: MAML's network."""
    backbone = Conv4Backbone(
        image_size=image_size, num_channels=1, fused_batch_norm=fused_batch_norm
    )
    images = keras.Input((image_size, image_size, 1))
    x = images
    for layer in backbone.layers[1:]:  # a flat copy: MAML rebuilds the layers it adapts
        x = layer.__class__.from_config(layer.get_config())(x)
    return keras.Model(images, keras.layers.Dense(n_way, name="logits")(x))


def torch_layout_weights(model: keras.Model) -> list[np.ndarray]:
    """`model`'s initial weights in PyTorch's layout, layer by layer in forward order.

    Conv kernels HWIO -> OIHW, dense kernels transposed, BatchNormalization as gamma, beta,
    moving mean and moving variance: `meta_peer.py` loads them so that both sides start from
    the same weights.
    """
    arrays = []
    for layer in model._flatten_layers(include_self=False):  # nested models in forward order
        if isinstance(layer, keras.layers.Conv2D):
            arrays += [np.transpose(layer.kernel.numpy(), (3, 2, 0, 1)), layer.bias.numpy()]
        elif isinstance(layer, keras.layers.Dense):
            arrays += [layer.kernel.numpy().T, layer.bias.numpy()]
        elif isinstance(layer, keras.layers.BatchNormalization):
            arrays += [v.numpy() for v in (layer.gamma, layer.beta)]
            arrays += [v.numpy() for v in (layer.moving_mean, layer.moving_variance)]
    return [np.ascontiguousarray(a, "float32") for a in arrays]


def stacked_dataset(episodes: dict, batch: int | None = None) -> tf.data.Dataset:
    names = ("support_x", "support_y", "query_x", "query_y")
    dataset = tf.data.Dataset.from_tensor_slices(tuple(episodes[n] for n in names))
    return dataset.batch(batch) if batch else dataset


def take(episodes: dict, start: int, stop: int | None = None) -> dict:
    return {name: array[start:stop] for name, array in episodes.items()}


def chunk_bounds(num_episodes: int, warmup: int, rounds: int, multiple: int) -> list[int]:
    """Episode boundaries: the warm-up, then `rounds` chunks (multiples of `multiple`)."""
    per_round = max((num_episodes - warmup) // rounds // multiple * multiple, multiple)
    bounds = [0, warmup] + [warmup + per_round * (i + 1) for i in range(rounds - 1)]
    return [b for b in bounds if b < num_episodes] + [num_episodes]


class OurSide:
    """Our learner trained chunk by chunk, timed like the peer worker."""

    def __init__(self, method: str, learner, train: dict, test: dict):
        self.method, self.learner, self.train_episodes, self.test = method, learner, train, test
        self.batch = None if method == "protonet" else META_BATCH

    def train(self, start: int, stop: int) -> float:
        chunk = stacked_dataset(take(self.train_episodes, start, stop), self.batch)
        began = time.perf_counter()
        self.learner.fit(chunk, verbose=0, shuffle=False)
        return time.perf_counter() - began

    def evaluate(self) -> FewShotAccuracy:
        if self.method == "protonet":
            return few_shot_accuracy(self.learner.classify, stacked_dataset(self.test))
        return adapted_accuracy(self.learner, self.test)


class PeerSide:
    """learn2learn's side in its worker process (`meta_peer.py`)."""

    def __init__(self, worker: PeerWorker, episodes_path: str, config: dict):
        self.worker = worker
        self.versions = worker.request("setup", episodes=episodes_path, config=config)["versions"]

    def train(self, start: int, stop: int) -> float:
        return self.worker.request("train", start=start, stop=stop)["seconds"]

    def evaluate(self) -> FewShotAccuracy:
        return FewShotAccuracy.from_accuracies(self.worker.request("evaluate")["accuracies"])


def alternate(sides: dict, bounds: list[int]) -> dict:
    """Trains every side on the same chunks, alternating, the order reversed every round.

    Returns episodes per second of each side after the warm-up chunk (`bounds[0]:bounds[1]`).
    """
    order = list(sides)
    seconds = dict.fromkeys(order, 0.0)
    for index, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        for name in order if index % 2 == 0 else order[::-1]:
            elapsed = sides[name].train(start, stop)
            if index > 0:
                seconds[name] += elapsed
    return {name: (bounds[-1] - bounds[1]) / seconds[name] for name in order}


def adapted_accuracy(learner, test: dict) -> FewShotAccuracy:
    """Query accuracy of every test episode after adaptation (compiled `predict`)."""
    episodes = stacked_dataset(test, META_BATCH)
    return FewShotAccuracy.from_accuracies(learner.episode_accuracies(episodes, verbose=0))


def compile_episodic(learner, optimizer=None):
    learner.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        steps_per_execution=META_STEPS_PER_EXECUTION,
    )


def build_ours(method: str, image_size: int, fused_batch_norm: bool = True, seed: int = 0):
    """The learner of `method`, compiled, and the model whose initial weights the peer copies.

    The seed fixes the initial weights: the Keras-BN baseline starts from the same ones.
    """
    keras.utils.set_random_seed(seed)
    if method == "protonet":
        encoder = Conv4Backbone(
            image_size=image_size, num_channels=1, fused_batch_norm=fused_batch_norm
        )
        proto = PrototypicalNetwork(encoder)
        proto.compile(
            keras.optimizers.Adam(PROTONET_LEARNING_RATE, epsilon=ADAM_EPSILON),
            steps_per_execution=STEPS_PER_EXECUTION,
        )
        return proto, encoder
    model = conv4_classifier(image_size, N_WAY, fused_batch_norm)
    if method == "maml":
        learner = MAML(model, MAML_HYPERPARAMETERS["inner_lr"], MAML_HYPERPARAMETERS["inner_steps"])
        optimizer = keras.optimizers.Adam(
            MAML_HYPERPARAMETERS["learning_rate"], epsilon=ADAM_EPSILON
        )
        compile_episodic(learner, optimizer)
    else:
        learner = Reptile(model, inner_optimizer="adam", **REPTILE_HYPERPARAMETERS)
        compile_episodic(learner)
    return learner, model


def peer_config(
    method: str, image_size: int, initial_path: str, threads: int, seed: int = 0
) -> dict:
    config = {"method": method, "image_size": image_size, "n_way": N_WAY, "seed": seed}
    config["threads"] = threads
    config["initial_weights"] = initial_path
    config["batch_norm_epsilon"] = BATCH_NORM_EPSILON
    config["adam_epsilon"] = ADAM_EPSILON
    if method == "protonet":
        config["learning_rate"] = PROTONET_LEARNING_RATE
    else:
        config.update(MAML_HYPERPARAMETERS, first_order=False, meta_batch_size=META_BATCH)
    return config


def pixel_floor(test: dict) -> FewShotAccuracy:
    """Nearest class mean on raw pixels."""
    inputs = keras.Input(test["support_x"].shape[2:])
    flat = keras.Model(inputs, keras.layers.Flatten()(inputs))
    return few_shot_accuracy(PrototypicalNetwork(flat).classify, stacked_dataset(test))


def compare(
    dataset: str,
    k_shot: int,
    sizes: dict,
    peer: PeerWorker | None,
    threads: int,
    methods: tuple[str, ...] = METHODS,
    keras_bn_baseline: bool = False,
    init_seed: int = 0,
) -> list[dict]:
    data = DATASETS[dataset]()
    image_size = data.train.x.shape[1]
    train_sampler = EpisodeSampler(data.train.x, data.train.y, N_WAY, k_shot, N_QUERY, seed=0)
    test_sampler = EpisodeSampler(data.test.x, data.test.y, N_WAY, k_shot, N_QUERY, seed=1)
    train = train_sampler.as_numpy(sizes["train_episodes"])
    test = test_sampler.as_numpy(sizes["test_episodes"])
    rows = [{"method": "pixels (floor)", "ours": pixel_floor(test)}]
    with tempfile.TemporaryDirectory() as directory:
        episodes_path = os.path.join(directory, "episodes.npz")
        np.savez(
            episodes_path,
            **{f"train_{k}": v for k, v in train.items()},
            **{f"test_{k}": v for k, v in test.items()},
        )
        for method in methods:
            learner, model = build_ours(method, image_size, seed=init_seed)
            sides = {"ours": OurSide(method, learner, train, test)}
            if keras_bn_baseline:
                baseline, _ = build_ours(method, image_size, False, init_seed)
                sides["keras_bn"] = OurSide(method, baseline, train, test)
            if peer and method != "reptile":
                initial_path = os.path.join(directory, f"{method}_initial_weights.npz")
                np.savez(initial_path, *torch_layout_weights(model))  # the peer starts here too
                config = peer_config(method, image_size, initial_path, threads, init_seed)
                sides["peer"] = PeerSide(peer, episodes_path, config)
            count = sizes["train_episodes" if method == "protonet" else "meta_train_episodes"]
            multiple = STEPS_PER_EXECUTION if method == "protonet" else META_BATCH * 4
            bounds = chunk_bounds(count, sizes["warmup"], ROUNDS, multiple)
            speeds = alternate(sides, bounds)
            row = {"method": method, "ours": sides["ours"].evaluate(), "ours_speed": speeds["ours"]}
            if "peer" in sides:
                row["peer"], row["peer_speed"] = sides["peer"].evaluate(), speeds["peer"]
            rows.append(row)
            print(format_row(dataset, k_shot, row), flush=True)
            if "keras_bn" in sides:
                baseline_row = {
                    **row,
                    "method": f"{method} (Keras BN)",
                    "ours": sides["keras_bn"].evaluate(),
                    "ours_speed": speeds["keras_bn"],
                }
                rows.append(baseline_row)
                print(format_row(dataset, k_shot, baseline_row), flush=True)
    return rows


def format_row(dataset: str, k_shot: int, row: dict) -> str:
    cells = [dataset, f"5-way {k_shot}-shot", row["method"], str(row["ours"])]
    cells.append(str(row["peer"]) if "peer" in row else "-")
    if "ours_speed" in row:
        cells.append(f"{row['ours_speed']:.1f}")
    else:
        cells.append("-")
    if "peer_speed" in row:
        cells += [f"{row['peer_speed']:.1f}", f"{row['ours_speed'] / row['peer_speed']:.2f}x"]
        gap = abs(row["ours"].mean - row["peer"].mean)
        cells.append("yes" if gap <= max(row["ours"].ci95, row["peer"].ci95) else "no")
    else:
        cells += ["-", "-", "-"]
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| data | task | method | ours: accuracy (95% CI) | learn2learn: accuracy | ours: "
    "episodes/s | learn2learn: episodes/s | speed ratio | within CI |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few episodes: a smoke test")
    parser.add_argument("--datasets", default="digits,glyphs")
    parser.add_argument("--shots", default="1,5")
    parser.add_argument(
        "--methods", default=",".join(METHODS), help=f"a subset of {','.join(METHODS)}"
    )
    parser.add_argument(
        "--keras-bn-baseline",
        action="store_true",
        help="also train our learners on Keras's BatchNormalization (unfused), alternating "
        "with the others, and report them as '<method> (Keras BN)' rows",
    )
    parser.add_argument(
        "--init-seed",
        type=int,
        default=0,
        help="seed of the initial weights (ours; the peer copies them); the episodes stay",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads of each side (TensorFlow's intra- and inter-op pools, torch's); one "
        "keeps a shared machine's load from swamping the OpenMP spin-waits of either side",
    )
    parser.add_argument(
        "--peer-python",
        default=os.environ.get("L2L_PYTHON", ".venv-l2l/bin/python"),
        help="learn2learn's interpreter; 'none' skips the peer",
    )
    args = parser.parse_args(argv)
    methods = tuple(args.methods.split(","))
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"--methods: unknown {unknown}; choose from {list(METHODS)}")
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    sizes = QUICK if args.quick else FULL
    python = None if args.peer_python == "none" else args.peer_python
    if python and not os.path.exists(python):
        print(f"No learn2learn environment at {python}: the peer columns stay empty.")
        python = None
    here = os.path.dirname(os.path.abspath(__file__))
    peer = None
    if python:
        log = os.path.join(tempfile.gettempdir(), "bench_meta_peer.log")
        peer = PeerWorker("learn2learn", python, os.path.join(here, "meta_peer.py"), log)
    print(
        f"Episodes: {sizes} (glyphs: {QUICK if args.quick else FULL_GLYPHS}); meta-batch "
        f"{META_BATCH} for MAML and Reptile; {args.threads} CPU thread(s) per side; "
        f"{ROUNDS} alternating rounds after a warm-up chunk; methods {','.join(methods)}"
        f"{' with a Keras-BN baseline' if args.keras_bn_baseline else ''}; initial-weight "
        f"seed {args.init_seed}; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}."
    )
    print(HEADER, flush=True)
    start = time.perf_counter()
    for dataset in args.datasets.split(","):
        for k_shot in (int(k) for k in args.shots.split(",")):
            dataset_sizes = FULL_GLYPHS if dataset == "glyphs" and not args.quick else sizes
            floor = compare(
                dataset,
                k_shot,
                dataset_sizes,
                peer,
                args.threads,
                methods,
                args.keras_bn_baseline,
                args.init_seed,
            )[0]
            print(format_row(dataset, k_shot, floor), flush=True)
    if peer:
        peer.close()
    print(
        f"Total: {time.perf_counter() - start:.0f} s; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
