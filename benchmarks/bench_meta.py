"""Few-shot classification: ProtoNets, MAML and Reptile against learn2learn on the same episodes.

For each dataset (`digits_few_shot`: held-out digit classes, 8x8; `glyphs_few_shot`: unseen
alphabets rendered from the DejaVu fonts, 28x28) and each of 5-way 1-shot and 5-shot, the
training and the 600 test episodes are drawn once here (`EpisodeSampler`, seeds 0 and 1) and
given to every method: ours (`PrototypicalNetwork`, `MAML`, `Reptile`, all on the Conv-4
encoder) and learn2learn's MAML and ProtoNets (PyTorch, `benchmarks/meta_peer.py`, run from its
own environment `L2L_PYTHON`, default `.venv-l2l/bin/python`, with the episodes as `.npz`).
Reported: query accuracy with its 95% interval over the test episodes and meta-training
episodes per second after a warm-up (ours/theirs). Training is short (a few hundred episodes)
to keep the whole run near 15 minutes on 2 cores: the accuracies compare the implementations,
they are not the papers' converged figures. A nearest-prototype classifier on raw pixels is
the floor any learned encoder should clear.

    python -m benchmarks.bench_meta           # make bench-meta
    python -m benchmarks.bench_meta --quick   # smoke test: a few episodes
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

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
QUICK = {"train_episodes": 24, "meta_train_episodes": 16, "test_episodes": 20, "warmup": 8}
META_BATCH = 4
# Episodes per compiled ProtoNet call (Keras's `steps_per_execution`): the per-step Python
# overhead of `fit` is most of an 8x8 episode's cost. MAML and Reptile keep one meta-batch per
# call: `_EpisodeAccuracies` reads one episode per `evaluate` step.
STEPS_PER_EXECUTION = 16
MAML_HYPERPARAMETERS = {"inner_lr": 0.4, "inner_steps": 1, "learning_rate": 1e-3}  # Omniglot's
REPTILE_HYPERPARAMETERS = {"inner_lr": 1e-3, "inner_steps": 5, "meta_step_size": 1.0}
DATASETS = {"digits": digits_few_shot, "glyphs": glyphs_few_shot}


def conv4_classifier(image_size: int, n_way: int) -> keras.Model:
    """Conv-4 (the same layers as `Conv4Backbone`) with a linear head: MAML's network."""
    backbone = Conv4Backbone(image_size=image_size, num_channels=1)
    images = keras.Input((image_size, image_size, 1))
    x = images
    for layer in backbone.layers[1:]:  # a flat copy: MAML rebuilds the layers it adapts
        x = layer.__class__.from_config(layer.get_config())(x)
    return keras.Model(images, keras.layers.Dense(n_way, name="logits")(x))


def stacked_dataset(episodes: dict, batch: int | None = None) -> tf.data.Dataset:
    names = ("support_x", "support_y", "query_x", "query_y")
    dataset = tf.data.Dataset.from_tensor_slices(tuple(episodes[n] for n in names))
    return dataset.batch(batch) if batch else dataset


def take(episodes: dict, start: int, stop: int | None = None) -> dict:
    return {name: array[start:stop] for name, array in episodes.items()}


def timed_fit(learner, episodes: dict, warmup: int, batch: int | None = None) -> float:
    """Fits on `episodes` (traced on the first `warmup`); episodes per second after them."""
    learner.fit(stacked_dataset(take(episodes, 0, warmup), batch), verbose=0, shuffle=False)
    rest = take(episodes, warmup)
    start = time.perf_counter()
    learner.fit(stacked_dataset(rest, batch), verbose=0, shuffle=False)
    return len(rest["query_y"]) / (time.perf_counter() - start)


class _EpisodeAccuracies(keras.callbacks.Callback):
    """Per-episode accuracy from `evaluate`'s running mean (one episode per step)."""

    def __init__(self):
        super().__init__()
        self.means = []

    def on_test_batch_end(self, batch, logs=None):
        self.means.append(logs["accuracy"])

    def accuracies(self, num_episodes: int) -> np.ndarray:
        if len(self.means) != num_episodes:
            raise RuntimeError(
                f"evaluate reported {len(self.means)} steps for {num_episodes} episodes: "
                "compile without steps_per_execution for per-episode accuracies"
            )
        totals = np.asarray(self.means, "float64") * np.arange(1, len(self.means) + 1)
        return np.diff(totals, prepend=0.0)


def adapted_accuracy(learner, test: dict) -> FewShotAccuracy:
    callback = _EpisodeAccuracies()
    learner.evaluate(stacked_dataset(test, 1), verbose=0, callbacks=[callback])
    return FewShotAccuracy.from_accuracies(callback.accuracies(len(test["query_y"])))


def compile_episodic(learner, optimizer=None):
    learner.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )


def run_ours(method: str, image_size: int, train: dict, test: dict, sizes: dict):
    keras.utils.set_random_seed(0)
    if method == "protonet":
        proto = PrototypicalNetwork(Conv4Backbone(image_size=image_size, num_channels=1))
        proto.compile(steps_per_execution=STEPS_PER_EXECUTION)
        speed = timed_fit(proto, train, sizes["warmup"])
        return speed, few_shot_accuracy(proto.classify, stacked_dataset(test))
    model = conv4_classifier(image_size, N_WAY)
    if method == "maml":
        learner = MAML(model, MAML_HYPERPARAMETERS["inner_lr"], MAML_HYPERPARAMETERS["inner_steps"])
        compile_episodic(learner, keras.optimizers.Adam(MAML_HYPERPARAMETERS["learning_rate"]))
    else:
        learner = Reptile(model, inner_optimizer="adam", **REPTILE_HYPERPARAMETERS)
        compile_episodic(learner)
    meta_train = take(train, 0, sizes["meta_train_episodes"])
    speed = timed_fit(learner, meta_train, sizes["warmup"], batch=META_BATCH)
    return speed, adapted_accuracy(learner, test)


def run_peer(
    python: str, method: str, image_size: int, episodes_path: str, sizes: dict, threads: int
):
    config = {"method": method, "image_size": image_size, "n_way": N_WAY, "seed": 0}
    config["threads"] = threads
    config["warmup_episodes"] = sizes["warmup"]
    if method == "protonet":
        config["learning_rate"] = 1e-3
    else:
        config.update(MAML_HYPERPARAMETERS, first_order=False, meta_batch_size=META_BATCH)
    with tempfile.TemporaryDirectory() as directory:
        config_path = os.path.join(directory, "config.json")
        result_path = os.path.join(directory, "result.json")
        with open(config_path, "w") as f:
            json.dump(config, f)
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.run(
            [python, os.path.join(here, "meta_peer.py"), episodes_path, config_path, result_path],
            check=True,
        )
        with open(result_path) as f:
            result = json.load(f)
    return result["episodes_per_second"], FewShotAccuracy.from_accuracies(result["accuracies"])


def pixel_floor(test: dict) -> FewShotAccuracy:
    """Nearest class mean on raw pixels."""
    inputs = keras.Input(test["support_x"].shape[2:])
    flat = keras.Model(inputs, keras.layers.Flatten()(inputs))
    return few_shot_accuracy(PrototypicalNetwork(flat).classify, stacked_dataset(test))


def compare(
    dataset: str, k_shot: int, sizes: dict, peer_python: str | None, threads: int
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
        meta_train = take(train, 0, sizes["meta_train_episodes"])
        np.savez(
            episodes_path,
            **{f"train_{k}": v for k, v in train.items()},
            **{f"test_{k}": v for k, v in test.items()},
        )
        maml_path = os.path.join(directory, "maml_episodes.npz")
        np.savez(
            maml_path,
            **{f"train_{k}": v for k, v in meta_train.items()},
            **{f"test_{k}": v for k, v in test.items()},
        )
        for method in ("protonet", "maml", "reptile"):
            speed, accuracy = run_ours(method, image_size, train, test, sizes)
            row = {"method": method, "ours": accuracy, "ours_speed": speed}
            if peer_python and method != "reptile":
                path = episodes_path if method == "protonet" else maml_path
                row["peer_speed"], row["peer"] = run_peer(
                    peer_python, method, image_size, path, sizes, threads
                )
            rows.append(row)
            print(format_row(dataset, k_shot, row), flush=True)
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
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    sizes = QUICK if args.quick else FULL
    peer = None if args.peer_python == "none" else args.peer_python
    if peer and not os.path.exists(peer):
        print(f"No learn2learn environment at {peer}: the peer columns stay empty.")
        peer = None
    print(
        f"Episodes: {sizes}; meta-batch {META_BATCH} for MAML and Reptile; "
        f"{args.threads} CPU thread(s) per side."
    )
    print(HEADER, flush=True)
    start = time.perf_counter()
    for dataset in args.datasets.split(","):
        for k_shot in (int(k) for k in args.shots.split(",")):
            floor = compare(dataset, k_shot, sizes, peer, args.threads)[0]
            print(format_row(dataset, k_shot, floor), flush=True)
    print(f"Total: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
