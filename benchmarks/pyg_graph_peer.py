"""The PyTorch Geometric side of `benchmarks.bench_graph`: run by it, in its own environment.

Not a `bench_*` module (`make bench` does not run it): `bench_graph` starts it with
`PYG_PYTHON` (torch, torch_geometric, numpy; `make bench-graph` makes `.venv-pyg`) as a worker
that reads one JSON request per line on stdin and answers one JSON line, prefixed `@@ `, on
stdout. The graphs come as `.npz` files written by `bench_graph` (the same arrays and split
masks our side trains on). The models mirror ours layer for layer (parameter counts are
returned and checked); the optimizer is `torch.optim.Adam` with L2 `weight_decay`, as in
PyG's examples.

Run alone only to check the environment: `$PYG_PYTHON benchmarks/pyg_graph_peer.py --check`.
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torch_geometric
from torch_geometric.data import Data
from torch_geometric.nn import GATConv, GatedGraphConv, GCNConv, SAGEConv, global_add_pool


def sampling_backend() -> str | None:
    """`"pyg-lib"`, `"torch-sparse"` or `None`: what `NeighborLoader` can sample with."""
    if torch_geometric.typing.WITH_PYG_LIB:
        return "pyg-lib"
    if torch_geometric.typing.WITH_TORCH_SPARSE:
        return "torch-sparse"
    return None


def versions() -> dict:
    return {
        "torch": torch.__version__,
        "torch_geometric": torch_geometric.__version__,
        "sampling": sampling_backend(),
        "threads": torch.get_num_threads(),
    }


def load_graph(path: str) -> Data:
    with np.load(path) as arrays:
        data = Data(
            x=torch.from_numpy(arrays["x"]),
            edge_index=torch.from_numpy(arrays["edge_index"].astype(np.int64)),
            y=torch.from_numpy(arrays["y"].astype(np.int64)),
        )
        for split in ("train", "val", "test"):
            data[f"{split}_mask"] = torch.from_numpy(arrays[f"{split}_mask"])
    return data


class GCN(torch.nn.Module):
    """Kipf & Welling's model as in PyG's examples/gcn.py (cached normalisation)."""

    def __init__(self, features: int, classes: int, hidden: int = 16, dropout: float = 0.5):
        super().__init__()
        self.dropout = dropout
        self.conv1 = GCNConv(features, hidden, cached=True)
        self.conv2 = GCNConv(hidden, classes, cached=True)

    def forward(self, x, edge_index):
        x = F.dropout(x, self.dropout, self.training)
        x = F.relu(self.conv1(x, edge_index))
        x = F.dropout(x, self.dropout, self.training)
        return self.conv2(x, edge_index)


class GAT(torch.nn.Module):
    """Velickovic et al.'s transductive model as in PyG's examples/gat.py."""

    def __init__(self, features: int, classes: int, hidden: int = 8, heads: int = 8):
        super().__init__()
        self.conv1 = GATConv(features, hidden, heads=heads, dropout=0.6)
        self.conv2 = GATConv(hidden * heads, classes, heads=1, concat=False, dropout=0.6)

    def forward(self, x, edge_index):
        x = F.dropout(x, 0.6, self.training)
        x = F.elu(self.conv1(x, edge_index))
        x = F.dropout(x, 0.6, self.training)
        return self.conv2(x, edge_index)


class SAGE(torch.nn.Module):
    """Two mean-aggregator SAGEConv layers, dropout 0.5 before each (our `graphsage_node`)."""

    def __init__(self, features: int, classes: int, hidden: int = 64):
        super().__init__()
        self.conv1 = SAGEConv(features, hidden)
        self.conv2 = SAGEConv(hidden, classes)

    def forward(self, x, edge_index):
        x = F.dropout(x, 0.5, self.training)
        x = F.relu(self.conv1(x, edge_index))
        x = F.dropout(x, 0.5, self.training)
        return self.conv2(x, edge_index)


class GGNN(torch.nn.Module):
    """GatedGraphConv (4 steps, sum), sum readout, linear head (our `ggnn_graph`)."""

    def __init__(self, units: int = 32, steps: int = 4, classes: int = 2):
        super().__init__()
        self.conv = GatedGraphConv(units, steps)
        self.head = torch.nn.Linear(units, classes)

    def forward(self, x, edge_index, batch):
        return self.head(global_add_pool(self.conv(x, edge_index), batch))


MODELS = {"gcn": GCN, "gat": GAT, "sage": SAGE}


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def neighbor_loader(data: Data, fanouts, batch_size: int, seeds, shuffle: bool = True):
    from torch_geometric.loader import NeighborLoader

    return NeighborLoader(
        data, num_neighbors=list(fanouts), batch_size=batch_size, input_nodes=seeds,
        shuffle=shuffle,
    )  # fmt: skip


class Trainer:
    """One model on one graph: full-batch steps or epochs of sampled subgraphs."""

    def __init__(self, data: Data, model: str, lr: float, weight_decay: float, sampled, seed):
        torch.manual_seed(seed)
        classes = int(data.y.max()) + 1
        self.data = data
        self.model = MODELS[model](data.num_features, classes)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr, weight_decay=weight_decay)
        self.loader = None
        if sampled:
            fanouts, batch_size = sampled
            self.loader = neighbor_loader(data, fanouts, batch_size, data.train_mask)

    def epoch(self) -> None:
        self.model.train()
        if self.loader is None:
            self.optimizer.zero_grad()
            out = self.model(self.data.x, self.data.edge_index)
            mask = self.data.train_mask
            F.cross_entropy(out[mask], self.data.y[mask]).backward()
            self.optimizer.step()
            return
        for batch in self.loader:
            self.optimizer.zero_grad()
            out = self.model(batch.x, batch.edge_index)[: batch.batch_size]
            F.cross_entropy(out, batch.y[: batch.batch_size]).backward()
            self.optimizer.step()

    @torch.no_grad()
    def accuracies(self) -> tuple[float, float]:
        """Validation and test accuracy of one full-graph inference pass."""
        self.model.eval()
        pred = self.model(self.data.x, self.data.edge_index).argmax(-1)
        correct = pred == self.data.y
        return tuple(float(correct[self.data[f"{s}_mask"]].float().mean()) for s in ("val", "test"))


def learn(trainer: Trainer, epochs: int) -> dict:
    """Test accuracy at the first epoch of best validation accuracy (PyG examples' rule)."""
    best_val, test, best_epoch = -1.0, 0.0, 0
    for epoch in range(epochs):
        trainer.epoch()
        val, tmp_test = trainer.accuracies()
        if val > best_val:
            best_val, test, best_epoch = val, tmp_test, epoch + 1
    return {"test": test, "val": best_val, "best_epoch": best_epoch, "final_test": tmp_test}


def ggnn(request: dict) -> dict:
    from torch_geometric.loader import DataLoader

    torch.manual_seed(request["seed"])
    with np.load(request["path"]) as arrays:
        x, edges, sizes = arrays["x"], arrays["edge_index"], arrays["graph_sizes"]
        edge_counts, labels = arrays["edge_counts"], arrays["labels"]
    node_starts = np.concatenate([[0], np.cumsum(sizes)])
    edge_starts = np.concatenate([[0], np.cumsum(edge_counts)])
    graphs = [
        Data(
            x=torch.from_numpy(x[node_starts[i] : node_starts[i + 1]]),
            edge_index=torch.from_numpy(
                edges[:, edge_starts[i] : edge_starts[i + 1]].astype(np.int64) - node_starts[i]
            ),
            y=torch.tensor([int(labels[i])]),
        )
        for i in range(len(sizes))
    ]
    train, test = graphs[: request["train"]], graphs[request["train"] :]
    model = GGNN()
    optimizer = torch.optim.Adam(
        model.parameters(), lr=request["lr"], weight_decay=request["weight_decay"]
    )
    loader = DataLoader(train, batch_size=request["batch_size"], shuffle=True)
    start = time.perf_counter()
    for _ in range(request["epochs"]):
        model.train()
        for batch in loader:
            optimizer.zero_grad()
            out = model(batch.x, batch.edge_index, batch.batch)
            F.cross_entropy(out, batch.y).backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    model.eval()
    correct = 0
    with torch.no_grad():
        for batch in DataLoader(test, batch_size=request["batch_size"]):
            correct += int(
                (model(batch.x, batch.edge_index, batch.batch).argmax(-1) == batch.y).sum()
            )
    return {"test": correct / len(test), "params": parameter_count(model), "seconds": seconds}


def peak() -> float:
    """Peak resident memory, MiB: `VmHWM` (`ru_maxrss` survives `exec`: see bench_graph)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scale(request: dict) -> dict:
    """Peak RSS and times of one sampled epoch over a fixed set of seeds (fresh process)."""
    rss = {"imports": peak()}
    start = time.perf_counter()
    data = load_graph(request["path"])
    rss["graph"], load_s = peak(), time.perf_counter() - start
    torch.manual_seed(0)
    model = SAGE(data.num_features, int(data.y.max()) + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    seeds = torch.from_numpy(np.load(request["seeds"]))
    start = time.perf_counter()
    loader = neighbor_loader(data, request["fanouts"], request["batch_size"], seeds)
    loader_s = time.perf_counter() - start
    times = []
    for _ in range(request["epochs"]):
        start = time.perf_counter()
        for batch in loader:
            optimizer.zero_grad()
            out = model(batch.x, batch.edge_index)[: batch.batch_size]
            F.cross_entropy(out, batch.y[: batch.batch_size]).backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    rss["epoch"] = peak()
    return {"load_s": load_s, "loader_s": loader_s, "epoch_s": times, "rss_mb": rss}


def serve() -> None:
    graphs: dict[str, Data] = {}
    trainer = None
    for line in sys.stdin:
        request = json.loads(line)
        op = request["op"]
        if op == "quit":
            break
        if op == "threads":
            torch.set_num_threads(request["threads"])
            torch.set_num_interop_threads(request["threads"])
            answer = versions()
        elif op == "graph":
            graphs[request["name"]] = load_graph(request["path"])
            answer = {}
        elif op == "setup":
            sampled = (request["fanouts"], request["batch_size"]) if request["sampled"] else None
            trainer = Trainer(
                graphs[request["graph"]],
                request["model"],
                request["lr"],
                request["weight_decay"],
                sampled,
                request["seed"],
            )
            answer = {"params": parameter_count(trainer.model)}
        elif op == "epochs":
            times = []
            for _ in range(request["epochs"]):
                start = time.perf_counter()
                trainer.epoch()
                times.append(time.perf_counter() - start)
            answer = {"times": times}
        elif op == "learn":
            sampled = (request["fanouts"], request["batch_size"]) if request["sampled"] else None
            trainer = Trainer(
                graphs[request["graph"]],
                request["model"],
                request["lr"],
                request["weight_decay"],
                sampled,
                request["seed"],
            )
            answer = {**learn(trainer, request["epochs"]), "params": parameter_count(trainer.model)}
        elif op == "ggnn":
            answer = ggnn(request)
        elif op == "scale":
            answer = scale(request)
        else:
            raise ValueError(f"unknown op {op!r}")
        print("@@ " + json.dumps(answer), flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        print(json.dumps(versions()))
    else:
        serve()
