"""learn2learn's (PyTorch) side of `benchmarks/bench_meta.py`: MAML and ProtoNets on episodes.

Run by `bench_meta` from learn2learn's own environment (never a project dependency):

    python3 -m venv .venv-l2l
    .venv-l2l/bin/pip install torch==2.13.0 numpy scipy cython
    # learn2learn 0.2.0's sdist ships C files Cython generated before Python 3.11: regenerate
    # them (cython -3 learn2learn/data/*.pyx) and install with --no-build-isolation --no-deps.

    .venv-l2l/bin/python benchmarks/meta_peer.py   # a worker: JSON requests on stdin

Driven by `bench_meta` as a `benchmarks.peer_worker.PeerWorker`, so that ours and theirs
train in alternating chunks of the same episodes: `setup` (an `episodes.npz` holding the
training and test episodes that `bench_meta` drew, `train_*`, `test_*`: `support_x [E, S, H,
W, 1]`, ..., and a config: the method, its hyperparameters and our initial weights),
`train` (episodes `start:stop`, answers the seconds it took), `evaluate` (the accuracy of
every test episode). The encoder is learn2learn's `CNN4Backbone` (the Conv-4 of the papers; for
8x8 images the last block's pool is skipped, as `zoo.meta.Conv4Backbone` does); MAML is
`learn2learn.algorithms.MAML` with a linear head; ProtoNets' loss is the paper's, written
here as learn2learn's ProtoNet example does (learn2learn has no ProtoNet outside Lightning).

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


def layers_in_forward_order(network: torch.nn.Module) -> list[torch.nn.Module]:
    """Conv, BatchNorm and Linear modules in the order the input meets them."""
    layers = []
    for module in network.modules():
        if hasattr(module, "conv") and hasattr(module, "normalize"):  # a CNN4 ConvBlock
            layers += [module.conv, module.normalize]
        elif isinstance(module, torch.nn.Linear):
            layers.append(module)
    return layers


def load_initial_weights(network: torch.nn.Module, config: dict) -> None:
    """Copies `bench_meta`'s initial weights (Keras's, in torch layout) into `network`.

    The `.npz` holds, per layer in forward order: conv weight and bias, BatchNorm weight,
    bias, running mean and running variance, Linear weight and bias. Also sets BatchNorm's
    epsilon to the config's (Keras's 1e-3), so that both sides compute the same function.
    """
    arrays = np.load(config["initial_weights"])
    values = [torch.from_numpy(arrays[f"arr_{i}"]) for i in range(len(arrays.files))]
    targets = []
    for layer in layers_in_forward_order(network):
        if isinstance(layer, torch.nn.BatchNorm2d):
            layer.eps = config["batch_norm_epsilon"]
            targets += [layer.weight, layer.bias, layer.running_mean, layer.running_var]
        else:
            targets += [layer.weight, layer.bias]
    if len(targets) != len(values):
        raise ValueError(f"{len(values)} initial arrays for {len(targets)} torch tensors")
    with torch.no_grad():
        for target, value in zip(targets, values, strict=True):
            if tuple(target.shape) != tuple(value.shape):
                raise ValueError(f"shape {tuple(value.shape)} for {tuple(target.shape)}")
            target.copy_(value)


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


class ProtoNetTrainer:
    """ProtoNets on the Conv-4 encoder: `train(start, stop)` episodes, then `evaluate()`."""

    def __init__(self, data, config):
        self.network = encoder(config["image_size"])
        if config.get("initial_weights"):
            load_initial_weights(self.network, config)
        self.optimizer = torch.optim.Adam(
            self.network.parameters(),
            lr=config["learning_rate"],
            eps=config.get("adam_epsilon", 1e-8),
        )
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.tasks = list(episodes(data, "train"))
        self.test = data

    def train(self, start: int, stop: int) -> None:
        self.network.train()
        for sx, sy, qx, qy in self.tasks[start:stop]:
            loss = self.loss_fn(proto_logits(self.network, sx, sy, qx), qy)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()

    def evaluate(self) -> list[float]:
        self.network.eval()  # moving statistics, as ours
        accuracies = []
        with torch.no_grad():
            for sx, sy, qx, qy in episodes(self.test, "test"):
                predicted = proto_logits(self.network, sx, sy, qx).argmax(-1)
                accuracies.append(float((predicted == qy).float().mean()))
        return accuracies


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


class MAMLTrainer:
    """learn2learn's MAML with a linear head: `train(start, stop)` episodes in meta-batches."""

    def __init__(self, data, config):
        network = classifier(config)
        if config.get("initial_weights"):
            load_initial_weights(network, config)
        self.maml = MAML(network, lr=config["inner_lr"], first_order=config["first_order"])
        self.optimizer = torch.optim.Adam(
            self.maml.parameters(),
            lr=config["learning_rate"],
            eps=config.get("adam_epsilon", 1e-8),
        )
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.tasks = list(episodes(data, "train"))
        self.test = data
        self.batch = config["meta_batch_size"]
        self.inner_steps = config["inner_steps"]

    def train(self, start: int, stop: int) -> None:
        # Batch-norm on batch statistics throughout (train mode), as ours: transductive.
        for first in range(start, stop, self.batch):
            self.optimizer.zero_grad()
            tasks = self.tasks[first : min(first + self.batch, stop)]
            for sx, sy, qx, qy in tasks:
                learner = adapt(self.maml.clone(), sx, sy, self.inner_steps, self.loss_fn)
                (self.loss_fn(learner(qx), qy) / len(tasks)).backward()
            self.optimizer.step()

    def evaluate(self) -> list[float]:
        accuracies = []
        for sx, sy, qx, qy in episodes(self.test, "test"):
            learner = adapt(self.maml.clone(), sx, sy, self.inner_steps, self.loss_fn)
            with torch.no_grad():
                accuracies.append(float((learner(qx).argmax(-1) == qy).float().mean()))
        return accuracies


TRAINERS = {"protonet": ProtoNetTrainer, "maml": MAMLTrainer}


def versions() -> dict:
    found = {"torch": torch.__version__}
    try:
        from importlib.metadata import version

        found["learn2learn"] = version("learn2learn")
    except Exception:  # noqa: BLE001
        found["learn2learn"] = "unknown"
    return found


def answer(request: dict, state: dict) -> dict:
    op = request["op"]
    if op == "setup":
        config = request["config"]
        torch.manual_seed(config.get("seed", 0))
        torch.set_num_threads(config.get("threads") or torch.get_num_threads())
        data = dict(np.load(request["episodes"]))
        state["trainer"] = TRAINERS[config["method"]](data, config)
        return {"versions": versions()}
    if op == "train":
        start = time.perf_counter()
        state["trainer"].train(request["start"], request["stop"])
        return {"seconds": time.perf_counter() - start}
    if op == "evaluate":
        return {"accuracies": state["trainer"].evaluate()}
    return {"error": f"unknown op {op!r}"}


def serve() -> None:
    """Answers `bench_meta`'s requests, one JSON line each (`benchmarks.peer_worker`)."""
    state = {}
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "quit":
            break
        try:
            result = answer(request, state)
        except Exception as error:  # noqa: BLE001 (reported to the driver)
            result = {"error": f"{type(error).__name__}: {error}"}
        print("@@ " + json.dumps(result), flush=True)


if __name__ == "__main__":
    serve()
