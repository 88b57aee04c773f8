"""`load_planetoid` on a tiny Planetoid file set written here the way the published one is: pickled
SciPy sparse matrices (as old SciPy named them), NumPy one-hot labels, a defaultdict of
adjacency lists and a text file of permuted test ids, with a CiteSeer-style missing test node."""

import collections
import pickle

import numpy as np
import pytest
from scipy import sparse

from zoo.graph import load_planetoid

NUM_FEATURES, NUM_CLASSES = 5, 3
ALL_LABELLED = 7  # nodes 0-6: allx / ally; the first 3 (one per class) are x / y
TEST_ORDER = [10, 7, 11, 8]  # the order of tx's rows; node 9 has none (isolated, as in CiteSeer)
ADJACENCY = {0: [1, 1, 2], 1: [0], 2: [2, 7], 3: [4], 5: [11], 8: [10], 10: [8, 6]}


def one_hot(labels) -> np.ndarray:
    return np.eye(NUM_CLASSES, dtype=np.int32)[labels]


def old_scipy_pickle(matrix) -> bytes:
    """A protocol-2 pickle naming `scipy.sparse.csr.csr_matrix`, as the published files do."""
    data = pickle.dumps(sparse.csr_matrix(matrix), protocol=2)
    return data.replace(b"scipy.sparse._csr\n", b"scipy.sparse.csr\n")


@pytest.fixture
def planetoid(tmp_path):
    rng = np.random.default_rng(0)
    features = (rng.random((12, NUM_FEATURES)) < 0.4).astype(np.float32)
    features[9] = 0.0
    labels = np.array([0, 1, 2, 1, 0, 2, 1, 2, 0, 0, 1, 2])
    parts = {
        "x": old_scipy_pickle(features[:3]),
        "allx": old_scipy_pickle(features[:ALL_LABELLED]),
        "tx": old_scipy_pickle(features[TEST_ORDER]),
        "y": pickle.dumps(one_hot(labels[:3]), protocol=2),
        "ally": pickle.dumps(one_hot(labels[:ALL_LABELLED]), protocol=2),
        "ty": pickle.dumps(one_hot(labels[TEST_ORDER]), protocol=2),
        "graph": pickle.dumps(collections.defaultdict(list, ADJACENCY), protocol=2),
    }
    for key, data in parts.items():
        (tmp_path / f"ind.citeseer.{key}").write_bytes(data)
    (tmp_path / "ind.citeseer.test.index").write_text("".join(f"{i}\n" for i in TEST_ORDER))
    return tmp_path, features, labels


def test_load_planetoid_gives_back_what_the_files_hold(planetoid):
    directory, features, labels = planetoid
    graph = load_planetoid(directory, "citeseer")
    assert graph.name == "citeseer" and graph.num_nodes == 12
    np.testing.assert_array_equal(graph.node_features, features)
    expected_labels = labels.copy()
    expected_labels[9] = 0  # no row in ty: unlabelled
    np.testing.assert_array_equal(graph.labels, expected_labels)
    assert np.flatnonzero(graph.train_mask).tolist() == [0, 1, 2]
    assert np.flatnonzero(graph.val_mask).tolist() == [3, 4, 5, 6]  # up to the end of allx
    assert np.flatnonzero(graph.test_mask).tolist() == [7, 8, 10, 11]
    pairs = {(u, v) for u, targets in ADJACENCY.items() for v in targets}
    symmetric = sorted(pairs | {(v, u) for u, v in pairs})
    edges = list(zip(*graph.edge_index.tolist(), strict=True))
    assert edges == symmetric  # duplicates removed, sorted, self-loop (2, 2) kept once


def test_load_planetoid_names_what_is_missing(planetoid):
    directory, _, _ = planetoid
    with pytest.raises(
        ValueError, match=r"\['cora', 'citeseer', 'pubmed'\]. Received: name='cite'"
    ):
        load_planetoid(directory, "cite")
    with pytest.raises(FileNotFoundError, match="ind.cora.x"):
        load_planetoid(directory, "cora")
    (directory / "ind.citeseer.test.index").unlink()
    with pytest.raises(FileNotFoundError, match=r"ind\.citeseer\.test\.index"):
        load_planetoid(directory, "citeseer")


def test_load_planetoid_rejects_files_that_disagree(planetoid):
    directory, features, _ = planetoid
    (directory / "ind.citeseer.tx").write_bytes(old_scipy_pickle(features[:3]))
    with pytest.raises(ValueError, match="one row per id of ind.citeseer.test.index"):
        load_planetoid(directory, "citeseer")
