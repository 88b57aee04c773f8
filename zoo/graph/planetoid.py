"""`load_planetoid`: the Planetoid files of Cora, CiteSeer and PubMed (Yang et al. 2016), read
the way the Planetoid and Kipf & Welling GCN code reads them."""

from __future__ import annotations

import os
import pickle
import warnings

import numpy as np

from zoo.graph.graph import Graph

PLANETOID_NAMES = ("cora", "citeseer", "pubmed")
_PICKLED = ("x", "y", "tx", "ty", "allx", "ally", "graph")
_NUM_VAL = 500


def _dense(value) -> np.ndarray:
    return np.asarray(value.toarray() if hasattr(value, "toarray") else value)


def _load_pickle(path: str):
    with open(path, "rb") as handle, warnings.catch_warnings():
        # The published files pickle `scipy.sparse.csr.csr_matrix`, a module path SciPy now
        # warns about; the class it names is the same.
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        return pickle.load(handle, encoding="latin1")


def load_planetoid(directory: str, name: str = "cora") -> Graph:
    """Reads a Planetoid data set from its original files into a `Graph`.

    The files are `ind.{name}.x`, `.y`, `.tx`, `.ty`, `.allx`, `.ally`, `.graph` and
    `.test.index`, as published with Planetoid and GCN (github.com/kimiyoung/planetoid). The
    first seven are Python pickles: this function unpickles them, and unpickling runs code
    named in the file, so only load files you trust.

    What it does, as the GCN code does: node features are `allx` followed by the test rows
    `tx`, placed at the node ids of `test.index` (a text file, one id per line, in the order of
    `tx`'s rows); the labels likewise from the one-hot `ally` and `ty`. CiteSeer has test ids
    without a row in `tx` (isolated nodes): they get zero features, label 0 and no split. The
    standard split: train = the first `len(y)` nodes, val = the next 500 (at most up to the end
    of `allx`), test = the `test.index` ids. Edges come from the adjacency lists of `.graph`
    (`{node: [neighbours]}`), made symmetric with duplicates removed; self-loops are kept as
    the lists give them (once), ordered by source then target.

    Args:
        directory: the folder holding the files.
        name: `"cora"`, `"citeseer"` or `"pubmed"`. Defaults to `"cora"`.

    Returns:
        A `Graph` named `name` with dense float32 features, int32 labels and the standard
        train/val/test masks (Cora: 2,708 nodes, 140/500/1,000).

    Raises:
        ValueError: an unknown `name`, or files that disagree with each other.
        FileNotFoundError: a missing file (named in the message).

    Example:

    ```python
    cora = load_planetoid("data/planetoid", "cora")
    model.fit(cora.full_batch_dataset("train"), epochs=200)
    ```
    """
    if name not in PLANETOID_NAMES:
        raise ValueError(f"`name` must be one of {list(PLANETOID_NAMES)}. Received: name={name!r}")
    directory = os.fspath(directory)
    paths = {key: os.path.join(directory, f"ind.{name}.{key}") for key in _PICKLED}
    paths["test.index"] = os.path.join(directory, f"ind.{name}.test.index")
    for path in paths.values():
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"Missing Planetoid file '{path}': load_planetoid needs "
                f"ind.{name}.{{x,y,tx,ty,allx,ally,graph,test.index}} in '{directory}'."
            )
    data = {key: _load_pickle(paths[key]) for key in _PICKLED}
    with open(paths["test.index"], encoding="utf-8") as handle:
        test_index = np.array([int(line) for line in handle if line.strip()], dtype=np.int64)

    y, allx, ally = _dense(data["y"]), _dense(data["allx"]), _dense(data["ally"])
    tx, ty = _dense(data["tx"]), _dense(data["ty"])
    if len(tx) != len(test_index) or len(ty) != len(test_index):
        raise ValueError(
            f"ind.{name}.tx and .ty must have one row per id of ind.{name}.test.index. "
            f"Received: {len(tx)} and {len(ty)} rows for {len(test_index)} ids"
        )
    if len(allx) != len(ally) or len(y) > len(ally):
        raise ValueError(
            f"ind.{name}.allx and .ally must have equal rows, at least those of .y. "
            f"Received: {len(allx)}, {len(ally)} and {len(y)} rows"
        )
    if len(test_index) and test_index.min() < len(allx):
        raise ValueError(
            f"ind.{name}.test.index ids must follow the {len(allx)} nodes of .allx. "
            f"Received: test id {test_index.min()}"
        )
    num_nodes = max(len(allx) + len(tx), int(test_index.max()) + 1 if len(test_index) else 0)
    features = np.zeros((num_nodes, allx.shape[1]), dtype=np.float32)
    features[: len(allx)] = allx
    features[test_index] = tx
    one_hot = np.zeros((num_nodes, ally.shape[1]), dtype=np.float32)
    one_hot[: len(ally)] = ally
    one_hot[test_index] = ty
    labels = one_hot.argmax(axis=1).astype(np.int32)

    train = np.zeros(num_nodes, dtype=bool)
    train[: len(y)] = True
    val = np.zeros(num_nodes, dtype=bool)
    val[len(y) : min(len(y) + _NUM_VAL, len(ally))] = True
    test = np.zeros(num_nodes, dtype=bool)
    test[test_index] = True
    return Graph(
        features,
        _adjacency_edges(data["graph"], num_nodes),
        labels,
        train_mask=train,
        val_mask=val,
        test_mask=test,
        name=name,
    )


def _adjacency_edges(adjacency: dict, num_nodes: int) -> np.ndarray:
    """Symmetric, duplicate-free `[2, E]` edges of `{node: [neighbours]}`, sorted."""
    keys = np.fromiter(adjacency.keys(), dtype=np.int64, count=len(adjacency))
    lists = [list(neighbours) for neighbours in adjacency.values()]
    lengths = np.array([len(n) for n in lists], dtype=np.int64)
    sources = np.repeat(keys, lengths)
    targets = np.fromiter((v for n in lists for v in n), dtype=np.int64, count=int(lengths.sum()))
    pairs = np.stack([np.concatenate([sources, targets]), np.concatenate([targets, sources])])
    if pairs.size and (pairs.min() < 0 or pairs.max() >= num_nodes):
        bad = int(pairs.min() if pairs.min() < 0 else pairs.max())
        raise ValueError(
            f"The adjacency lists name node {bad}, but the features have {num_nodes} rows. "
            f"Received: graph with node {bad}"
        )
    unique = np.unique(pairs[0] * num_nodes + pairs[1])
    return np.stack([unique // num_nodes, unique % num_nodes])
