"""learn2learn's (PyTorch) side of `benchmarks/bench_meta.py`: MAML and ProtoNets on episodes.

Run by `bench_meta` from learn2learn's own environment (never a project dependency):

    python3 -m venv .venv-l2l
    .venv-l2l/bin/pip install torch==2.13.0 numpy scipy cython
    # learn2learn 0.2.0's sdist ships C files Cython generated before Python 3.11: regenerate
    # them (cython -3 learn2learn/data/*.pyx) and install with --no-build-isolation --no-deps.

    .venv-l2l/bin/python benchmarks/meta_peer.py episodes.npz config.json result.json

`episodes.npz` holds the training and test episodes that `bench_meta` drew (`train_*`,
`test_*`: `support_x [E, S, H, W, 1]`, ...), `config.json` the method and its
hyperparameters. The encoder is learn2learn's `CNN4Backbone` (the Conv-4 of the papers; for
8x8 images the last block's pool is skipped, as `zoo.meta.Conv4Backbone` does); MAML is
`learn2learn.algorithms.MAML` with a linear head; ProtoNets' loss is the paper's, written
here as learn2learn's ProtoNet example does (learn2learn has no ProtoNet outside Lightning).
Writes `result.json`: training episodes per second (after a warm-up) and the accuracy of
every test episode.

learn2learn's package `__init__` imports torchvision, gym and its Lightning modules; only
`learn2learn.algorithms.maml` and `learn2learn.vision.models.cnn4` are used, so the package is
entered without running that `__init__` (PyPI's torchvision wheels do not load with the CPU
torch wheel).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import types

import numpy as np
import torch


def _import_learn2learn_parts():
    """`MAML` and `CNN4Backbone` without learn2learn's package `__init__`."""
    spec = importlib.util.find_spec("learn2learn")
    stubs = (
        "learn2learn",
        "learn2learn.algorithms",
        "learn2learn.vision",
        "learn2learn.vision.models",
    )
    for name in stubs:
        package = types.ModuleType(name)
        package.__path__ = [
            spec.submodule_search_locations[0] + name[len("learn2learn") :].replace(".", "/")
        ]
        sys.modules[name] = package
    from learn2learn.algorithms.maml import MAML
    from learn2learn.vision.models.cnn4 import CNN4Backbone

    return MAML, CNN4Backbone


MAML, CNN4Backbone = _import_learn2learn_parts()


def encoder(image_size: int) -> torch.nn.Module:
    network = CNN4Backbone(hidden_size=64, layers=4, channels=1, max_pool=True, max_pool_factor=1)
    size = image_size
    for block in network:
        if size < 2:
            block.max_pool = torch.nn.Identity()
        size = max(size // 2, 1)
    return network


def to_torch(array) -> torch.Tensor:
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    return tensor.permute(0, 3, 1, 2) if tensor.ndim == 4 else tensor.long()


def episodes(data, prefix: str):
    names = ("support_x", "support_y", "query_x", "query_y")
    arrays = [data[f"{prefix}_{n}"] for n in names]
    for i in range(len(arrays[0])):
        yield tuple(to_torch(a[i]) for a in arrays)


def proto_logits(network, support_x, support_y, query_x):
    embeddings = network(torch.cat([support_x, query_x]))
    support, queries = embeddings[: len(support_x)], embeddings[len(support_x) :]
    n_way = int(support_y.max()) + 1
    prototypes = torch.stack([support[support_y == c].mean(0) for c in range(n_way)])
    return -(torch.cdist(queries, prototypes) ** 2)


def run_protonet(data, config):
    network = encoder(config["image_size"])
    optimizer = torch.optim.Adam(network.parameters(), lr=config["learning_rate"])
    loss_fn = torch.nn.CrossEntropyLoss()
    network.train()
    start, warmup = None, config["warmup_episodes"]
    for i, (sx, sy, qx, qy) in enumerate(episodes(data, "train")):
        if i == warmup:
            start = time.perf_counter()
        loss = loss_fn(proto_logits(network, sx, sy, qx), qy)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - start
    network.eval()
    accuracies = []
    with torch.no_grad():
        for sx, sy, qx, qy in episodes(data, "test"):
            predicted = proto_logits(network, sx, sy, qx).argmax(-1)
            accuracies.append(float((predicted == qy).float().mean()))
    return (i + 1 - warmup) / seconds, accuracies


def classifier(config):
    network = encoder(config["image_size"])
    with torch.no_grad():
        probe = torch.zeros(2, 1, config["image_size"], config["image_size"])
        size = network(probe).shape[-1]
    return torch.nn.Sequential(network, torch.nn.Linear(size, config["n_way"]))


def adapt(learner, sx, sy, steps, loss_fn):
    for _ in range(steps):
        learner.adapt(loss_fn(learner(sx), sy))
    return learner


def run_maml(data, config):
    maml = MAML(classifier(config), lr=config["inner_lr"], first_order=config["first_order"])
    optimizer = torch.optim.Adam(maml.parameters(), lr=config["learning_rate"])
    loss_fn = torch.nn.CrossEntropyLoss()
    tasks = list(episodes(data, "train"))
    batch = config["meta_batch_size"]
    warmup = config["warmup_episodes"] // batch
    start = None
    for step in range(len(tasks) // batch):
        if step == warmup:
            start = time.perf_counter()
        optimizer.zero_grad()
        for sx, sy, qx, qy in tasks[step * batch : (step + 1) * batch]:
            learner = adapt(maml.clone(), sx, sy, config["inner_steps"], loss_fn)
            (loss_fn(learner(qx), qy) / batch).backward()
        optimizer.step()
    seconds = time.perf_counter() - start
    accuracies = []
    for sx, sy, qx, qy in episodes(data, "test"):
        learner = adapt(maml.clone(), sx, sy, config["inner_steps"], loss_fn)
        with torch.no_grad():
            accuracies.append(float((learner(qx).argmax(-1) == qy).float().mean()))
    trained = (len(tasks) // batch - warmup) * batch
    return trained / seconds, accuracies


def main(argv=None) -> None:
    episodes_path, config_path, result_path = argv or sys.argv[1:]
    with open(config_path) as f:
        config = json.load(f)
    torch.manual_seed(config.get("seed", 0))
    if config.get("threads"):
        torch.set_num_threads(config["threads"])
    data = dict(np.load(episodes_path))
    run = {"protonet": run_protonet, "maml": run_maml}[config["method"]]
    episodes_per_second, accuracies = run(data, config)
    versions = {"torch": torch.__version__}
    try:
        from importlib.metadata import version

        versions["learn2learn"] = version("learn2learn")
    except Exception:  # noqa: BLE001
        versions["learn2learn"] = "unknown"
    with open(result_path, "w") as f:
        json.dump(
            {
                "episodes_per_second": episodes_per_second,
                "accuracies": accuracies,
                "versions": versions,
            },
            f,
        )


if __name__ == "__main__":
    main()
