"""GCN, GAT, GraphSAGE and GGNN vs PyTorch Geometric: epoch time, accuracy, sampler memory.

Both sides train on identical arrays: every graph is built here (`zoo.graph`) and written to
an `.npz` (features, edges, labels, split masks) that the PyG side loads. The PyG side
(`benchmarks/pyg_graph_peer.py`) runs from its own environment, `PYG_PYTHON` (torch 2.13 CPU,
torch_geometric 2.8; `make bench-graph` makes `.venv-pyg`), as a worker process that this
module drives request by request, so the two sides alternate within one run. The models are
the same layer for layer (parameter counts printed and checked); ours is what `zoo.create`
gives (AdamW, lr 0.01, decoupled weight decay 5e-4 for the node classifiers; 1e-3 / 1e-4 for
`ggnn_graph`), PyG's `torch.optim.Adam` with the same learning rate and an L2 `weight_decay`
of the same value, as in PyG's examples.

1. Speed: seconds per training epoch (one full-batch step, or one pass of sampled subgraphs
   over the train split, fanouts [25, 10], batch 512), medians after warm-up; ours through
   `model.fit` (what a user gets: no XLA on a CPU-only machine), and again with
   `jit_compile=True`. After warm-up the sides run chunks of epochs in turn, the order
   flipping every round. Ratio = PyG seconds / our seconds: above 1 means ours is faster.
2. Learning: test accuracy at the first epoch of best validation accuracy (one full-graph
   inference pass per epoch on both sides), 200 epochs, on the generated citation benchmark
   and on Zachary's karate club; `ggnn_graph` vs GatedGraphConv + add pool + Linear on
   cycles-vs-trees (final test accuracy on a held-out 20 %).
3. Scale: sampled GraphSAGE on `synthetic_graph(N, avg_degree=10)`, each size in a fresh
   process: build time, CSR time, the time of an epoch over `GRAPH_SCALE_BATCHES` batches of
   512 random train seeds (two epochs: the first traces), and peak RSS (`VmHWM`, see
   `peak_rss_mb`) after imports, after the graph and its CSR index, after the epochs.

Both sides use `GRAPH_THREADS` threads (TF intra- and inter-op pools, `torch.set_num_threads`
and `set_num_interop_threads`; default 2, this machine's cores). Our sampler's `tf.data` map
has its own pool; PyG's `NeighborLoader` samples in the training process (`num_workers=0`).

Run: `PYG_PYTHON=.venv-pyg/bin/python .venv/bin/python -m benchmarks.bench_graph` (`make
bench-graph`). Env: `GRAPH_PARTS=speed,learn,scale`, `GRAPH_SEEDS=0,1,2`, `GRAPH_THREADS=2`,
`GRAPH_SPEED_NODES=100000`, `GRAPH_SCALE_NODES=100000,1000000`, `GRAPH_SCALE_BATCHES=20`,
`GRAPH_XLA=1`; `GRAPH_SEEDS=0` or `GRAPH_PARTS=speed` shrink the run (about 21 minutes as it
is on 2 cores). Without `PYG_PYTHON` the PyG columns are empty.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from benchmarks.peer_worker import PeerWorker  # noqa: E402

PARTS = tuple(os.environ.get("GRAPH_PARTS", "speed,learn,scale").split(","))
SEEDS = tuple(int(s) for s in os.environ.get("GRAPH_SEEDS", "0,1,2").split(","))
THREADS = int(os.environ.get("GRAPH_THREADS", "2"))
SPEED_NODES = int(os.environ.get("GRAPH_SPEED_NODES", "100000"))
SCALE_NODES = tuple(
    int(n) for n in os.environ.get("GRAPH_SCALE_NODES", "100000,1000000").split(",")
)
SCALE_BATCHES = int(os.environ.get("GRAPH_SCALE_BATCHES", "20"))
XLA = os.environ.get("GRAPH_XLA", "1") == "1"
PYG_PYTHON = os.environ.get("PYG_PYTHON", ".venv-pyg/bin/python")
PEER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyg_graph_peer.py")

FANOUTS, BATCH_SIZE = (25, 10), 512
EPOCHS = 200
MODELS = {"gcn": "gcn_node", "gat": "gat_node", "sage": "graphsage_node"}
GGNN_GRAPHS, GGNN_EPOCHS, GGNN_BATCH = 500, 50, 32


def configure_threads() -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(THREADS)


def peak_rss_mb() -> float:
    """This process's peak resident memory, MiB: `VmHWM` of `/proc/self/status`.

    Not `getrusage(RUSAGE_SELF).ru_maxrss`: Linux carries it across `exec`, so a child started
    by a big parent (`subprocess` forks, or vforks) reports at least the parent's peak.
    `VmHWM` belongs to the process's own address space. Falls back to `ru_maxrss` elsewhere.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ----------------------------------------------------------------------------- the PyG worker


class Peer(PeerWorker):
    """The PyG worker (`pyg_graph_peer.py` in `PYG_PYTHON`); `info` is its set-up answer."""

    def __init__(self, log_path: str):
        super().__init__("PyG", PYG_PYTHON, PEER_SCRIPT, log_path)
        self.info = self.request("threads", threads=THREADS)


def start_peer(workdir: str, name: str = "pyg") -> Peer | None:
    if not os.path.exists(PYG_PYTHON):
        return None
    return Peer(os.path.join(workdir, f"{name}.log"))


def save_graph(graph, path: str) -> str:
    np.savez(
        path,
        x=graph.node_features,
        edge_index=graph.edge_index,
        y=graph.labels,
        train_mask=graph.mask("train"),
        val_mask=graph.mask("val"),
        test_mask=graph.mask("test"),
    )
    return path


# ----------------------------------------------------------------------------- our side


def timer_callback():
    import keras

    class EpochTimes(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    return EpochTimes()


def hyperparameters(model) -> dict:
    """Our compiled optimizer's learning rate and weight decay, for the PyG side."""
    optimizer = model.optimizer
    return {
        "lr": float(f"{float(np.asarray(optimizer.learning_rate)):.6g}"),
        "weight_decay": float(f"{float(optimizer.weight_decay):.6g}"),
    }


class Ours:
    """`zoo.create(name)` on one graph, trained with `fit`, full-batch or sampled."""

    def __init__(self, graph, model: str, sampled: bool, seed: int, jit: bool = False):
        import keras

        import zoo
        from zoo.graph import NeighborSampler

        keras.utils.set_random_seed(seed)
        self.graph = graph
        self.model = zoo.create(
            MODELS[model], num_features=graph.num_features, num_classes=graph.num_classes
        )
        if jit:
            self.model.compile(jit_compile=True)
        if sampled:
            sampler = NeighborSampler(graph, FANOUTS, BATCH_SIZE, seeds="train", seed=seed)
            self.dataset = sampler.dataset()
        else:
            self.dataset = graph.full_batch_dataset("train")

    def epochs(self, count: int, callbacks=()) -> list[float]:
        timer = timer_callback()
        self.model.fit(self.dataset, epochs=count, verbose=0, callbacks=[timer, *callbacks])
        return timer.times


# ----------------------------------------------------------------------------- 1. speed


def alternate_chunks(sides: dict, warmup: int, chunk: int, rounds: int) -> dict[str, float]:
    """Median seconds per epoch of each side; `sides` maps a name to `epochs(count) -> times`.

    Each side runs `warmup` epochs first (tracing, compiling, caches); then every round runs
    `chunk` epochs of each side in turn, the order reversed every other round.
    """
    for run in sides.values():
        run(warmup)
    times: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            times[name] += sides[name](chunk)
    return {name: float(np.median(values)) for name, values in times.items()}


def _seconds(value: float | None) -> str:
    return f"{value:.4f}" if value else "n/a"


def _ratio(peer_s: float | None, ours_s: float | None) -> str:
    """PyG seconds / our seconds: above 1 means ours is faster."""
    return f"{peer_s / ours_s:.2f}" if peer_s and ours_s else "n/a"


def speed(peer: Peer | None, graphs: dict, workdir: str) -> list[str]:
    rows = []
    cases = [
        ("gcn", "citation", False, 2, 10, 3),
        ("gat", "citation", False, 2, 10, 3),
        ("sage", "citation", True, 2, 5, 3),
        ("gcn", "synthetic", False, 2, 2, 3),
        ("gat", "synthetic", False, 2, 2, 3),
        ("sage", "synthetic", True, 1, 1, 3),
    ]
    for model, graph_name, sampled, warmup, chunk, rounds in cases:
        graph = graphs[graph_name]
        ours = Ours(graph, model, sampled, seed=0)
        sides = {"ours": ours.epochs}
        # XLA compiles one program per input shape: sampled subgraphs differ in size every
        # batch, so the 100k graph's 118 batches would each compile (minutes); citation's one
        # batch per epoch shows that cost.
        with_xla = XLA and not (sampled and graph_name == "synthetic")
        if with_xla:
            sides["ours XLA"] = Ours(graph, model, sampled, seed=0, jit=True).epochs
        count = ours.model.count_params()
        if peer is not None and (peer.info["sampling"] or not sampled):
            answer = peer.request(
                "setup",
                graph=graph_name,
                model=model,
                sampled=sampled,
                fanouts=list(FANOUTS),
                batch_size=BATCH_SIZE,
                seed=0,
                **hyperparameters(ours.model),
            )
            peer_count = answer["params"]
            if peer_count != count:
                raise AssertionError(f"{model}: ours has {count} parameters, PyG {peer_count}")
            sides["PyG"] = lambda n: peer.request("epochs", epochs=n)["times"]
        start = time.perf_counter()
        medians = alternate_chunks(sides, warmup, chunk, rounds)
        seconds = time.perf_counter() - start
        pyg, xla = medians.get("PyG"), medians.get("ours XLA")
        label = "GraphSAGE" if model == "sage" else model.upper()
        label += " sampled [25, 10] x 512" if sampled else " full-batch"
        row = (
            f"| {label} | {graph_name} ({graph.num_nodes:,} / {graph.num_edges:,}) | {count:,} | "
            f"{_seconds(medians['ours'])} | {_seconds(xla)} | {_seconds(pyg)} | "
            f"{_ratio(pyg, medians['ours'])} | {_ratio(pyg, xla)} |"
        )
        rows.append(row)
        print(row + f"  <!-- {seconds:.0f} s -->", flush=True)
    return rows


SPEED_HEADER = (
    "| model | graph (nodes / edges) | params (ours = PyG) | ours s/epoch | ours XLA s/epoch "
    "| PyG s/epoch | ratio PyG/ours | ratio PyG/ours XLA |\n|---|---|---:|---:|---:|---:|---:|---:|"
)


# ----------------------------------------------------------------------------- 2. learning


def accuracy_callback(graph, record: dict):
    """Val and test accuracy after every epoch (one inference pass); keeps the first best val."""
    import keras
    import tensorflow as tf

    inputs = graph.inputs()
    labels = graph.labels
    val, test = graph.mask("val"), graph.mask("test")

    class BestValidation(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.forward = tf.function(lambda x: self.model(x, training=False))

        def on_epoch_end(self, epoch, logs=None):
            correct = np.asarray(self.forward(inputs)).argmax(-1) == labels
            val_acc, test_acc = float(correct[val].mean()), float(correct[test].mean())
            if val_acc > record["val"]:
                record.update(val=val_acc, test=test_acc, best_epoch=epoch + 1)
            record["final_test"] = test_acc

    return BestValidation()


def learn_ours(graph, model: str, sampled: bool, seed: int) -> dict:
    ours = Ours(graph, model, sampled, seed)
    record = {"val": -1.0}
    start = time.perf_counter()
    ours.epochs(EPOCHS, callbacks=[accuracy_callback(graph, record)])
    record["seconds"] = time.perf_counter() - start
    record["params"] = ours.model.count_params()
    return record


def learn_ggnn_ours(graphs, train: int, seed: int) -> dict:
    import keras

    import zoo
    from zoo.graph import graph_batches

    keras.utils.set_random_seed(seed)
    model = zoo.create("ggnn_graph", num_features=1)
    start = time.perf_counter()
    model.fit(
        graph_batches(graphs[:train], GGNN_BATCH, shuffle=True, seed=seed),
        epochs=GGNN_EPOCHS,
        verbose=0,
    )
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(
        graph_batches(graphs[train:], GGNN_BATCH, shuffle=False), verbose=0
    )
    return {"test": accuracy, "params": model.count_params(), "seconds": seconds}


def _mean_std(values: list[float]) -> str:
    if not values:
        return "n/a"
    values = np.asarray(values) * 100
    return f"{values.mean():.1f} ± {values.std():.1f}" if len(values) > 1 else f"{values[0]:.1f}"


def _check_params(name: str, ours: list[dict], pyg: list[dict]) -> None:
    if pyg and ours[0]["params"] != pyg[0]["params"]:
        raise AssertionError(
            f"{name}: ours has {ours[0]['params']} parameters, PyG {pyg[0]['params']}"
        )


def learning(peer: Peer | None, graphs: dict, workdir: str) -> list[str]:
    import zoo

    rows = []
    cases = [
        ("citation", "gcn", False),
        ("citation", "gat", False),
        ("citation", "sage", False),
        ("citation", "sage", True),
        ("karate", "gcn", False),
        ("karate", "gat", False),
        ("karate", "sage", False),
    ]
    for graph_name, model, sampled in cases:
        graph = graphs[graph_name]
        reference = zoo.create(
            MODELS[model], num_features=graph.num_features, num_classes=graph.num_classes
        )
        request = dict(
            graph=graph_name,
            model=model,
            sampled=sampled,
            fanouts=list(FANOUTS),
            batch_size=BATCH_SIZE,
            epochs=EPOCHS,
            **hyperparameters(reference),
        )
        results = {"ours": [], "PyG": []}
        for i, seed in enumerate(SEEDS):
            for side in ["ours", "PyG"] if i % 2 == 0 else ["PyG", "ours"]:
                if side == "ours":
                    results["ours"].append(learn_ours(graph, model, sampled, seed))
                elif peer is not None and (peer.info["sampling"] or not sampled):
                    start = time.perf_counter()
                    record = peer.request("learn", seed=seed, **request)
                    record["seconds"] = time.perf_counter() - start
                    results["PyG"].append(record)
        _check_params(model, results["ours"], results["PyG"])
        rows.append(_learning_row(graph_name, model, sampled, results))
        print(rows[-1], flush=True)

    from zoo.graph import cycles_vs_trees

    ggnn_graphs = cycles_vs_trees(GGNN_GRAPHS, seed=0)
    train = int(0.8 * len(ggnn_graphs))
    path = os.path.join(workdir, "cycles_vs_trees.npz")
    _save_graph_list(ggnn_graphs, path)
    request = dict(
        path=path,
        epochs=GGNN_EPOCHS,
        batch_size=GGNN_BATCH,
        train=train,
        **hyperparameters(zoo.create("ggnn_graph", num_features=1)),
    )
    results = {"ours": [], "PyG": []}
    for i, seed in enumerate(SEEDS):
        for side in ["ours", "PyG"] if i % 2 == 0 else ["PyG", "ours"]:
            if side == "ours":
                results["ours"].append(learn_ggnn_ours(ggnn_graphs, train, seed))
            elif peer is not None:
                results["PyG"].append(peer.request("ggnn", seed=seed, **request))
    _check_params("ggnn", results["ours"], results["PyG"])
    rows.append(_learning_row("cycles_vs_trees", "ggnn", False, results))
    print(rows[-1], flush=True)
    return rows


def _save_graph_list(graphs, path: str) -> None:
    from zoo.graph import batch_graphs

    inputs, labels = batch_graphs(graphs)
    np.savez(
        path,
        x=inputs["node_features"],
        edge_index=inputs["edge_index"],
        graph_sizes=inputs["graph_sizes"],
        edge_counts=np.array([g.num_edges for g in graphs]),
        labels=labels,
    )


def _best_epochs(records: list[dict]) -> str:
    return "/".join(str(r["best_epoch"]) for r in records) if records else "n/a"


def _run_seconds(records: list[dict]) -> str:
    return f"{np.mean([r['seconds'] for r in records]):.1f}" if records else "n/a"


def _learning_row(graph_name: str, model: str, sampled: bool, results: dict) -> str:
    names = {"gcn": "gcn_node", "gat": "gat_node", "sage": "graphsage_node", "ggnn": "ggnn_graph"}
    label = names[model] + (" sampled" if sampled else "")
    ours, pyg = results["ours"], results["PyG"]
    epochs = model != "ggnn"  # the graph classifier has no validation split: final accuracy
    return (
        f"| {label} | {graph_name} | {ours[0]['params']:,} | "
        f"{_mean_std([r['test'] for r in ours])} | {_mean_std([r['test'] for r in pyg])} | "
        f"{_best_epochs(ours) if epochs else '-'} | {_best_epochs(pyg) if epochs else '-'} | "
        f"{_run_seconds(ours)} | {_run_seconds(pyg)} |"
    )


LEARNING_HEADER = (
    "| model | graph | params (ours = PyG) | ours test acc % | PyG test acc % | ours best-val "
    "epoch | PyG best-val epoch | ours s / run | PyG s / run |\n"
    "|---|---|---:|---:|---:|---|---|---:|---:|"
)


# ----------------------------------------------------------------------------- 3. scale


def scale_child(num_nodes: int, workdir: str | None) -> dict:
    """Runs in a fresh process: one size's build time, epoch times and peak RSS."""
    import tensorflow as tf  # noqa: F401

    configure_threads()
    import zoo
    from zoo.graph import NeighborSampler, synthetic_graph

    rss = {"imports": peak_rss_mb()}
    start = time.perf_counter()
    graph = synthetic_graph(num_nodes, avg_degree=10)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    indptr, sources, edge_ids = graph.in_csr
    csr_s = time.perf_counter() - start
    rss["graph"] = peak_rss_mb()
    arrays = sum(a.nbytes for a in (graph.node_features, graph.edge_index, graph.labels))
    arrays += sum(graph.mask(s).nbytes for s in ("train", "val", "test"))
    csr = indptr.nbytes + sources.nbytes + edge_ids.nbytes
    rng = np.random.default_rng(0)
    seeds = rng.choice(
        np.flatnonzero(graph.mask("train")), SCALE_BATCHES * BATCH_SIZE, replace=False
    )
    sampler = NeighborSampler(graph, FANOUTS, BATCH_SIZE, seeds=seeds, seed=0)
    model = zoo.create(
        "graphsage_node", num_features=graph.num_features, num_classes=graph.num_classes
    )
    timer = timer_callback()
    model.fit(sampler.dataset(), epochs=2, verbose=0, callbacks=[timer])
    rss["epoch"] = peak_rss_mb()
    result = {
        "nodes": graph.num_nodes,
        "edges": graph.num_edges,
        "build_s": build_s,
        "csr_s": csr_s,
        "epoch_s": timer.times,
        "rss_mb": rss,
        "arrays_mb": arrays / 2**20,
        "csr_mb": csr / 2**20,
    }
    if workdir is not None:
        save_graph(graph, os.path.join(workdir, f"scale_{num_nodes}.npz"))
        np.save(os.path.join(workdir, f"scale_{num_nodes}_seeds.npy"), seeds.astype(np.int64))
    return result


def scale(workdir: str) -> list[str]:
    rows = []
    with_peer = os.path.exists(PYG_PYTHON)
    for num_nodes in SCALE_NODES:
        args = [sys.executable, "-m", "benchmarks.bench_graph", "--scale-child", str(num_nodes)]
        if with_peer:
            args += ["--workdir", workdir]
        out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
        ours = json.loads(out.strip().splitlines()[-1])
        rss = ours["rss_mb"]
        rows.append(
            f"| ours | {ours['nodes']:,} / {ours['edges']:,} | {ours['build_s']:.2f} + "
            f"{ours['csr_s']:.2f} | {ours['epoch_s'][0]:.1f} | {ours['epoch_s'][1]:.1f} | "
            f"{ours['arrays_mb']:.0f} + {ours['csr_mb']:.0f} | {rss['imports']:.0f} | "
            f"{rss['graph']:.0f} | {rss['epoch']:.0f} |"
        )
        print(rows[-1], flush=True)
        if not with_peer:
            continue
        peer = start_peer(workdir, f"pyg_scale_{num_nodes}")
        info = (
            peer.request(
                "scale",
                path=os.path.join(workdir, f"scale_{num_nodes}.npz"),
                seeds=os.path.join(workdir, f"scale_{num_nodes}_seeds.npy"),
                fanouts=list(FANOUTS),
                batch_size=BATCH_SIZE,
                epochs=2,
            )
            if peer.info["sampling"]
            else None
        )
        peer.close()
        os.remove(os.path.join(workdir, f"scale_{num_nodes}.npz"))
        if info is None:
            rows.append(
                f"| PyG | {ours['nodes']:,} / {ours['edges']:,} | no sampler (pyg-lib or "
                "torch-sparse needed) | | | | | | |"
            )
        else:
            rss = info["rss_mb"]
            rows.append(
                f"| PyG | {ours['nodes']:,} / {ours['edges']:,} | {info['load_s']:.1f} (load) + "
                f"{info['loader_s']:.1f} | {info['epoch_s'][0]:.1f} | {info['epoch_s'][1]:.1f} | "
                f"| {rss['imports']:.0f} | {rss['graph']:.0f} | {rss['epoch']:.0f} |"
            )
        print(rows[-1], flush=True)
    return rows


SCALE_HEADER = (
    "| side | nodes / edges | build + CSR s | epoch 1 s | epoch 2 s | arrays + CSR MB | "
    "RSS imports MB | RSS graph MB | RSS epochs MB |\n|---|---|---:|---:|---:|---:|---:|---:|---:|"
)


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else [])
    if args.scale_child:
        print(json.dumps(scale_child(args.scale_child, args.workdir)))
        return

    import keras
    import tensorflow as tf

    configure_threads()
    from zoo.graph import citation_benchmark, karate_club, synthetic_graph

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        peer = start_peer(workdir)
        if peer is None:
            print(f"{PYG_PYTHON} not found (run `make bench-graph`): PyG columns are empty.")
        print(
            f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {THREADS} threads; PyG: "
            + (json.dumps(peer.info) if peer else "n/a"),
            flush=True,
        )
        graphs = {"citation": citation_benchmark(), "karate": karate_club()}
        if "speed" in PARTS:
            graphs["synthetic"] = synthetic_graph(SPEED_NODES, avg_degree=10)
        if peer is not None:
            for name, graph in graphs.items():
                peer.request(
                    "graph", name=name, path=save_graph(graph, os.path.join(workdir, f"{name}.npz"))
                )
        sections = []
        if "speed" in PARTS:
            print(SPEED_HEADER, flush=True)
            sections.append(("Speed", SPEED_HEADER, speed(peer, graphs, workdir)))
        if "learn" in PARTS:
            print(LEARNING_HEADER, flush=True)
            sections.append(("Learning", LEARNING_HEADER, learning(peer, graphs, workdir)))
        if peer is not None:
            peer.close()
        if "scale" in PARTS:
            print(SCALE_HEADER, flush=True)
            sections.append(("Scale", SCALE_HEADER, scale(workdir)))
    print(f"\nTotal {time.perf_counter() - start:.0f} s. Tables:\n")
    for title, header, rows in sections:
        print(f"{title}\n\n{header}\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
