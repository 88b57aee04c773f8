"""`zoo.graph.Graph` and the built-in graphs: what each holds, checks and round-trips."""

import itertools

import networkx as nx
import numpy as np
import pytest
import tensorflow as tf
from scipy import sparse

from zoo.graph import (
    Graph,
    batch_graphs,
    citation_benchmark,
    cycles_vs_trees,
    graph_batches,
    graphs_from_tfrecords,
    graphs_to_tfrecords,
    karate_club,
    planted_motif,
    synthetic_graph,
)


def small_graph(**kwargs) -> Graph:
    features = np.arange(10, dtype=np.float32).reshape(5, 2)
    edges = np.array([[0, 1, 2, 3, 3, 4], [1, 2, 0, 4, 4, 4]])
    return Graph(features, edges, np.array([0, 1, 2, 1, 0]), **kwargs)


def pair_set(edge_index) -> list:
    return sorted(zip(edge_index[0].tolist(), edge_index[1].tolist(), strict=True))


# Graph.


def test_graph_stores_read_only_float32_and_int32_arrays():
    mask = np.array([True, False, True, False, False])
    graph = small_graph(train_mask=mask, edge_weight=np.arange(6), graph_label=np.int64(3))
    assert (graph.num_nodes, graph.num_edges, graph.num_features, graph.num_classes) == (5, 6, 2, 3)
    assert graph.node_features.dtype == np.float32 and graph.edge_index.dtype == np.int32
    assert graph.labels.dtype == np.int32 and graph.edge_weight.dtype == np.float32
    assert graph.graph_label == 3 and type(graph.graph_label) is int
    with pytest.raises(ValueError, match="read-only"):
        graph.edge_index[0, 0] = 4
    # No copies of arrays that already have the stored dtype (memory for large graphs); the
    # caller's array stays writable.
    assert np.shares_memory(graph.train_mask, mask) and mask.flags.writeable
    assert repr(graph) == (
        "Graph(num_nodes=5, num_edges=6, num_features=2, num_classes=3, num_train=2, weighted, "
        "graph_label=3)"
    )


@pytest.mark.parametrize(
    "edges, message",
    [
        ([[0, -1], [1, 2]], r"`edge_index\[:, 1\] = \(-1, 2\)` refers to node -1"),
        ([[0, 1, 2, 2], [1, 2, 4, 7]], r"`edge_index\[:, 3\] = \(2, 7\)` refers to node 7, but "),
        (np.zeros((2, 3), np.float32), "must hold integers .* Received: dtype=float32"),
        (np.zeros((3, 2), np.int64), r"shape \[2, num_edges\].*Received: shape=\(3, 2\)"),
    ],
)
def test_graph_checks_its_edge_index(edges, message):
    with pytest.raises(ValueError, match=message):
        Graph(np.zeros((5, 1)), np.array(edges))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"node_features": np.zeros(5)}, r"num_nodes, num_features\]. Received: shape=\(5,\)"),
        ({"node_features": np.array([["a"]] * 5)}, "must hold numbers. Received: dtype=<U1"),
        ({"node_features": np.zeros((5, 0))}, r"at least one feature .* shape=\(5, 0\)"),
        ({"node_features": np.full((5, 1), np.nan)}, r"finite; row 0 .* node_features\[0\]"),
        ({"labels": [0, 1]}, r"`labels` must have shape \[num_nodes\] = \[5\]"),
        ({"labels": np.zeros(5)}, "integer classes. Received: dtype=float64"),
        ({"labels": [0, 1, -2, 0, 0]}, "non-negative class ids. Received: labels with value -2"),
        ({"train_mask": np.ones(5, int)}, "`train_mask` must be a boolean .* dtype=int64"),
        ({"test_mask": np.ones(4, bool)}, r"`test_mask` .* shape=\(4,\)"),
        ({"edge_weight": np.ones(5)}, r"`edge_weight` .* \[num_edges\] = \[6\]"),
        ({"edge_weight": [1, 1, np.inf, 1, 1, 1]}, r"finite. Received: edge_weight\[2\]=inf"),
        ({"graph_label": -1}, "Received: graph_label=-1"),
        ({"graph_label": True}, "Received: graph_label=True"),
        ({"name": 3}, "Received: name=3"),
    ],
)
def test_graph_checks_every_argument(kwargs, message):
    arguments = {
        "node_features": np.zeros((5, 2)),
        "edge_index": [[0, 1, 2, 3, 3, 4], [1, 2, 0, 4, 4, 4]],
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        Graph(**arguments)


def test_in_csr_groups_the_in_edges_of_every_node_in_edge_order():
    rng = np.random.default_rng(0)
    edges = rng.integers(0, 40, (2, 300))  # duplicates and self-loops included
    graph = Graph(np.ones((50, 1)), edges)  # nodes 40-49 have no edges
    indptr, sources, edge_ids = graph.in_csr
    assert graph.in_csr is graph.in_csr  # computed once
    assert indptr.shape == (51,) and indptr[-1] == 300
    for node in range(50):
        expected = np.flatnonzero(edges[1] == node)  # ascending edge ids: a stable grouping
        span = slice(indptr[node], indptr[node + 1])
        np.testing.assert_array_equal(edge_ids[span], expected)
        np.testing.assert_array_equal(sources[span], edges[0, expected])


def test_from_edge_list_adds_reverse_edges_unless_directed():
    pairs = [(0, 1), (1, 2), (2, 2)]
    graph = Graph.from_edge_list(pairs, labels=[0, 1, 1])
    assert pair_set(graph.edge_index) == [(0, 1), (1, 0), (1, 2), (2, 1), (2, 2)]
    np.testing.assert_array_equal(graph.node_features, np.eye(3))
    np.testing.assert_array_equal(graph.labels, [0, 1, 1])
    directed = Graph.from_edge_list(pairs, num_nodes=5, directed=True)
    np.testing.assert_array_equal(directed.edge_index, np.array(pairs).T)
    assert directed.num_nodes == 5
    features = np.arange(8.0).reshape(4, 2)
    assert Graph.from_edge_list([], node_features=features).num_edges == 0
    with pytest.raises(ValueError, match=r"shape \[num_pairs, 2\]. Received: shape=\(2, 3\)"):
        Graph.from_edge_list([[0, 1, 2], [1, 2, 0]])
    with pytest.raises(ValueError, match=r"`edge_index\[:, 1\] = \(1, 3\)`"):
        Graph.from_edge_list(pairs[:1] + [(1, 3)], num_nodes=3)


def test_from_scipy_keeps_weights_and_drops_explicit_zeros():
    rows, cols = np.array([0, 0, 1, 2, 2, 0]), np.array([1, 2, 0, 2, 0, 1])
    values = np.array([1.0, 0.0, 3.0, 4.0, 5.0, 2.0])  # (0, 1) twice: summed to 3
    matrix = sparse.coo_array((values, (rows, cols)), shape=(3, 3))
    graph = Graph.from_scipy(matrix, labels=[0, 0, 1])
    np.testing.assert_array_equal(graph.edge_index, [[0, 1, 2, 2], [1, 0, 0, 2]])
    np.testing.assert_array_equal(graph.edge_weight, [3.0, 3.0, 5.0, 4.0])
    dense = Graph.from_scipy(matrix.toarray(), node_features=np.ones((3, 4)))
    np.testing.assert_array_equal(dense.edge_index, graph.edge_index)
    assert dense.num_features == 4
    with pytest.raises(ValueError, match=r"square. Received: shape=\(2, 3\)"):
        Graph.from_scipy(np.ones((2, 3)))


def test_from_networkx_numbers_nodes_in_order_and_maps_labels():

    g = nx.Graph()
    g.add_nodes_from([("b", {"kind": "y", "v": [1, 2]}), ("a", {"kind": "x", "v": [3, 4]})])
    g.add_nodes_from([("c", {"kind": "y", "v": [5, 6]})])
    g.add_edges_from([("b", "a"), ("a", "c")])
    graph = Graph.from_networkx(g, feature_key="v", label_key="kind")
    assert pair_set(graph.edge_index) == [(0, 1), (1, 0), (1, 2), (2, 1)]
    np.testing.assert_array_equal(graph.node_features, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(graph.labels, [1, 0, 1])  # "x" -> 0, "y" -> 1
    directed = Graph.from_networkx(nx.DiGraph([(0, 1), (2, 1)]))
    np.testing.assert_array_equal(directed.edge_index, [[0, 2], [1, 1]])
    np.testing.assert_array_equal(directed.node_features, np.eye(3))
    with pytest.raises(ValueError, match="Node 'c' has no attribute 'w'"):
        g.nodes["a"]["w"] = 1
        g.nodes["b"]["w"] = 1
        Graph.from_networkx(g, label_key="w")


def test_from_networkx_karate_club_is_the_built_in_one():

    graph = Graph.from_networkx(nx.karate_club_graph(), label_key="club")
    built_in = karate_club()
    np.testing.assert_array_equal(graph.edge_index, built_in.edge_index)
    np.testing.assert_array_equal(graph.labels, built_in.labels)
    np.testing.assert_array_equal(graph.node_features, built_in.node_features)


def test_inputs_and_the_full_batch_dataset():
    mask = np.array([True, True, False, False, True])
    graph = small_graph(train_mask=mask)
    inputs = graph.inputs()
    assert sorted(inputs) == ["edge_index", "node_features"]
    dataset = graph.full_batch_dataset("train")
    assert dataset.cardinality() == 1
    (x, labels, weight) = next(iter(dataset))
    np.testing.assert_array_equal(x["node_features"], graph.node_features)
    np.testing.assert_array_equal(x["edge_index"], graph.edge_index)
    assert x["edge_index"].dtype == tf.int32 and labels.dtype == tf.int32
    np.testing.assert_array_equal(labels, [0, 1, 2, 1, 0])
    np.testing.assert_array_equal(weight, [1, 1, 0, 0, 1])
    assert weight.dtype == tf.float32
    weighted = small_graph(edge_weight=np.ones(6), val_mask=mask)
    assert "edge_weight" in next(iter(weighted.full_batch_dataset("val")))[0]
    with pytest.raises(
        ValueError, match="one of \\['train', 'val', 'test'\\]. Received: split='dev'"
    ):
        graph.full_batch_dataset("dev")
    with pytest.raises(ValueError, match="no val mask .* Received: split='val'"):
        graph.full_batch_dataset("val")
    unlabelled = Graph(np.ones((5, 1)), [[0], [1]], train_mask=mask)
    with pytest.raises(ValueError, match="no labels"):
        unlabelled.full_batch_dataset()


def test_tfrecords_round_trip_keeps_every_array(tmp_path):
    rng = np.random.default_rng(0)
    graph = Graph(
        rng.normal(size=(6, 3)),
        [[0, 1, 2, 5, 5], [1, 2, 0, 4, 4]],
        [0, 2, 1, 1, 0, 2],
        edge_weight=rng.random(5),
        train_mask=np.arange(6) < 2,
        val_mask=np.arange(6) == 2,
        test_mask=np.arange(6) > 2,
        graph_label=1,
        name="six",
    )
    files = graph.to_tfrecords(str(tmp_path / "six"))
    assert [f.split("/")[-1] for f in files] == ["six-00000-of-00001.tfrecord"]
    assert (tmp_path / "six.schema.json").exists()
    back = Graph.from_tfrecords(str(tmp_path / "six"))
    for key in ("node_features", "edge_index", "labels", "edge_weight", "train_mask", "val_mask"):
        np.testing.assert_array_equal(getattr(back, key), getattr(graph, key))
        assert getattr(back, key).dtype == getattr(graph, key).dtype
    assert (back.graph_label, back.name, back.test_mask.sum()) == (1, "six", 3)


def test_many_graphs_round_trip_in_order(tmp_path):
    graphs = cycles_vs_trees(num_graphs=7, seed=1) + [
        Graph(np.ones((1, 1)), [[], []], graph_label=0)
    ]
    graphs_to_tfrecords(graphs, tmp_path / "cycles")
    back = graphs_from_tfrecords(tmp_path / "cycles")
    assert len(back) == 8 and back[-1].num_edges == 0 and back[0].labels is None
    for before, after in zip(graphs, back, strict=True):
        np.testing.assert_array_equal(after.edge_index, before.edge_index)
        assert after.graph_label == before.graph_label and after.name is None
    with pytest.raises(ValueError, match="holds 8 graphs"):
        Graph.from_tfrecords(tmp_path / "cycles")
    with pytest.raises(ValueError, match=r"graphs\[1\] with num_features=2"):
        graphs_to_tfrecords([graphs[0], Graph(np.ones((2, 2)), [[0], [1]])], tmp_path / "x")
    with pytest.raises(ValueError, match=r"same optional arrays .* graphs\[1\]"):
        graphs_to_tfrecords([graphs[0], Graph(np.ones((2, 1)), [[0], [1]])], tmp_path / "x")


# Built-in graphs.


def test_karate_club():
    graph = karate_club()
    assert (graph.num_nodes, graph.num_edges, graph.num_features) == (34, 156, 34)
    assert np.bincount(graph.labels).tolist() == [17, 17]
    assert graph.labels[0] == 0 and graph.labels[33] == 1  # the two leaders
    assert len(set(pair_set(graph.edge_index))) == 156
    assert pair_set(graph.edge_index) == pair_set(graph.edge_index[::-1])
    assert np.flatnonzero(graph.train_mask).tolist() == [0, 33]
    assert np.flatnonzero(graph.val_mask).tolist() == [1, 2, 3, 4, 9, 14, 15, 18]
    assert graph.test_mask.sum() == 24
    assert not (graph.train_mask & graph.val_mask).any()
    assert (graph.train_mask | graph.val_mask | graph.test_mask).all()
    assert np.bincount(graph.labels[graph.val_mask]).tolist() == [4, 4]


def homophily(graph: Graph) -> float:
    return float((graph.labels[graph.edge_index[0]] == graph.labels[graph.edge_index[1]]).mean())


def test_citation_benchmark_has_coras_size_statistics_and_split():
    graph = citation_benchmark()
    assert (graph.num_nodes, graph.num_features, graph.num_classes) == (2708, 1433, 7)
    assert np.bincount(graph.labels).tolist() == [351, 217, 418, 818, 426, 298, 180]
    assert 0.7 <= homophily(graph) <= 0.9
    assert graph.num_edges / graph.num_nodes == pytest.approx(3.9, abs=0.01)
    edges = pair_set(graph.edge_index)
    assert len(set(edges)) == len(edges) and edges == pair_set(graph.edge_index[::-1])
    assert not (graph.edge_index[0] == graph.edge_index[1]).any()
    assert np.bincount(graph.edge_index[1], minlength=2708).min() >= 1
    assert set(np.unique(graph.node_features)) == {0.0, 1.0}
    assert 15 < graph.node_features.sum(axis=1).mean() < 21  # Cora: 18.2 words per paper
    masks = np.stack([graph.train_mask, graph.val_mask, graph.test_mask])
    assert masks.sum(axis=1).tolist() == [140, 500, 1000]
    assert masks.sum(axis=0).max() == 1  # disjoint
    assert np.bincount(graph.labels[graph.train_mask]).tolist() == [20] * 7


def test_citation_benchmark_is_determined_by_its_seed():
    first, again, other = (
        citation_benchmark(seed=3),
        citation_benchmark(seed=3),
        citation_benchmark(),
    )
    for key in ("node_features", "edge_index", "labels", "train_mask", "test_mask"):
        np.testing.assert_array_equal(getattr(first, key), getattr(again, key))
    assert not np.array_equal(first.train_mask, other.train_mask)
    small = citation_benchmark(num_nodes=300, num_classes=3, num_features=50, seed=1)
    assert [small.train_mask.sum(), small.val_mask.sum(), small.test_mask.sum()] == [60, 80, 160]
    assert np.bincount(small.labels).min() >= 30
    with pytest.raises(
        ValueError, match=r"at least 90 \(30 nodes per class\). Received: num_nodes=89"
    ):
        citation_benchmark(num_nodes=89, num_classes=3)


def test_citation_benchmark_features_alone_do_worse_than_propagated_features():
    from sklearn.linear_model import LogisticRegression

    graph = citation_benchmark()
    n = graph.num_nodes
    adjacency = sparse.csr_array(
        (np.ones(graph.num_edges), (graph.edge_index[0], graph.edge_index[1])), shape=(n, n)
    ) + sparse.eye_array(n)
    scale = sparse.diags_array(1 / np.sqrt(adjacency.sum(axis=1)))
    smoothing = scale @ adjacency @ scale
    features = graph.node_features / graph.node_features.sum(axis=1, keepdims=True)
    accuracies = []
    for x in (features, smoothing @ (smoothing @ features)):
        model = LogisticRegression(max_iter=2000).fit(
            x[graph.train_mask], graph.labels[graph.train_mask]
        )
        accuracies.append(model.score(x[graph.test_mask], graph.labels[graph.test_mask]))
    # Measured at seed 0: 0.516 and 0.728 (Cora: about 0.58 and 0.81); GCN: 0.825.
    assert 0.45 <= accuracies[0] <= 0.65
    assert accuracies[1] >= accuracies[0] + 0.15


def test_synthetic_graph_is_symmetric_int32_and_split():
    graph = synthetic_graph(2000, avg_degree=10, num_features=8, num_classes=4, seed=1)
    assert (graph.num_nodes, graph.num_edges, graph.num_features) == (2000, 20000, 8)
    assert graph.edge_index.dtype == np.int32 and graph.node_features.dtype == np.float32
    half = graph.num_edges // 2
    np.testing.assert_array_equal(graph.edge_index[:, :half], graph.edge_index[::-1, half:])
    assert not (graph.edge_index[0] == graph.edge_index[1]).any()
    assert 0.7 <= homophily(graph) <= 0.85  # 0.7 inside a class, plus chance
    masks = np.stack([graph.train_mask, graph.val_mask, graph.test_mask]).astype(int)
    assert (masks.sum(axis=0) == 1).all()
    assert masks.sum(axis=1) / 2000 == pytest.approx([0.6, 0.2, 0.2], abs=0.03)
    again = synthetic_graph(2000, avg_degree=10, num_features=8, num_classes=4, seed=1)
    np.testing.assert_array_equal(again.edge_index, graph.edge_index)
    np.testing.assert_array_equal(again.node_features, graph.node_features)


@pytest.mark.slow
def test_synthetic_graph_at_a_million_nodes_and_ten_million_edges():
    graph = synthetic_graph(1_000_000, avg_degree=10)
    assert (graph.num_nodes, graph.num_edges) == (1_000_000, 10_000_000)
    arrays = (graph.node_features, graph.edge_index, graph.labels, graph.train_mask)
    assert sum(a.nbytes for a in arrays) < 150 * 2**20  # int32 edges, float32 features
    indptr, sources, edge_ids = graph.in_csr
    assert indptr[-1] == 10_000_000 and sources.dtype == edge_ids.dtype == np.int32


# Graph classification.


def has_cycle(graph: Graph) -> bool:
    """Union-find over the undirected pairs (each pair is stored in both directions)."""
    parent = list(range(graph.num_nodes))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for u, v in graph.edge_index.T[: graph.num_edges // 2].tolist():
        a, b = root(u), root(v)
        if a == b:
            return True
        parent[a] = b
    return False


def is_connected(graph: Graph) -> bool:
    matrix = sparse.csr_array(
        (np.ones(graph.num_edges), tuple(graph.edge_index)), shape=(graph.num_nodes,) * 2
    )
    return sparse.csgraph.connected_components(matrix)[0] == 1


def test_cycles_vs_trees_labels_say_whether_there_is_a_cycle():
    graphs = cycles_vs_trees(num_graphs=200, min_nodes=6, max_nodes=14, seed=0)
    labels = np.array([g.graph_label for g in graphs])
    assert np.bincount(labels).tolist() == [100, 100]
    for graph in graphs:
        assert has_cycle(graph) == (graph.graph_label == 0)
        assert is_connected(graph) and 6 <= graph.num_nodes <= 14
        assert graph.num_edges // 2 == graph.num_nodes - graph.graph_label  # one cycle or none
        np.testing.assert_array_equal(graph.node_features, np.ones((graph.num_nodes, 1)))
    sizes = np.array([g.num_nodes for g in graphs])
    # The node counts come from one distribution for both labels.
    assert abs(sizes[labels == 0].mean() - sizes[labels == 1].mean()) < 1.0
    with pytest.raises(ValueError, match="Received: max_nodes=4"):
        cycles_vs_trees(min_nodes=5, max_nodes=4)


def test_cycles_vs_trees_match_networkx():

    for graph in cycles_vs_trees(num_graphs=40, seed=5):
        g = nx.Graph(graph.edge_index.T.tolist())
        assert nx.is_tree(g) == (graph.graph_label == 1)
        assert len(nx.cycle_basis(g)) == 1 - graph.graph_label


def has_4_clique(graph: Graph) -> bool:
    adjacency = np.zeros((graph.num_nodes,) * 2, dtype=bool)
    adjacency[graph.edge_index[0], graph.edge_index[1]] = True
    return any(
        all(adjacency[a, b] for a, b in itertools.combinations(four, 2))
        for four in itertools.combinations(range(graph.num_nodes), 4)
    )


def test_planted_motif_labels_say_whether_there_is_a_4_clique():
    graphs = planted_motif(num_graphs=60, num_nodes=12, seed=0)
    labels = np.array([g.graph_label for g in graphs])
    assert np.bincount(labels).tolist() == [30, 30]
    edges = np.array([g.num_edges // 2 for g in graphs])
    for graph in graphs:
        assert has_4_clique(graph) == (graph.graph_label == 1)
    # Edge counts are drawn alike for both labels: n to 3n/2.
    assert edges.min() >= 12 and edges.max() <= 18
    assert abs(edges[labels == 0].mean() - edges[labels == 1].mean()) < 1.5


def test_planted_motif_matches_networkx():

    for graph in planted_motif(num_graphs=20, num_nodes=10, seed=2):
        g = nx.Graph(graph.edge_index.T.tolist())
        clique = max(len(c) for c in nx.find_cliques(g))
        assert (clique >= 4) == (graph.graph_label == 1)


def test_batch_graphs_offsets_every_graph():
    graphs = cycles_vs_trees(num_graphs=4, seed=3)
    inputs, labels = batch_graphs(graphs)
    sizes = [g.num_nodes for g in graphs]
    assert inputs["graph_sizes"].tolist() == sizes
    np.testing.assert_array_equal(inputs["graph_ids"], np.repeat(np.arange(4), sizes))
    assert labels.tolist() == [g.graph_label for g in graphs] and labels.dtype == np.int32
    assert inputs["edge_index"].dtype == np.int32
    start = 0
    offset = 0
    for graph in graphs:
        block = inputs["edge_index"][:, start : start + graph.num_edges]
        np.testing.assert_array_equal(block, graph.edge_index + offset)
        start, offset = start + graph.num_edges, offset + graph.num_nodes
    assert inputs["node_features"].shape == (sum(sizes), 1)
    with pytest.raises(ValueError, match=r"graph_label.*graphs\[1\] with graph_label=None"):
        batch_graphs([graphs[0], Graph(np.ones((2, 1)), [[0], [1]])])
    with pytest.raises(ValueError, match="non-empty list"):
        batch_graphs([])


def numbered_graphs(count: int) -> list[Graph]:
    """Graphs whose node features are their index, so a batch says which graphs it holds."""
    return [Graph(np.full((2 + i % 3, 1), i), [[0], [1]], graph_label=i % 2) for i in range(count)]


def epoch(dataset) -> list[int]:
    order = []
    for inputs, labels in dataset:
        starts = np.concatenate([[0], np.cumsum(inputs["graph_sizes"])[:-1]])
        order += inputs["node_features"].numpy()[starts, 0].astype(int).tolist()
        assert labels.numpy().tolist() == [i % 2 for i in order[-len(labels) :]]
    return order


def test_graph_batches_reshuffle_every_epoch_deterministically():
    graphs = numbered_graphs(10)
    dataset = graph_batches(graphs, batch_size=4, seed=7)
    spec = dataset.element_spec[0]
    assert spec["node_features"].shape.as_list() == [None, 1]
    assert spec["edge_index"].shape.as_list() == [2, None]
    assert spec["graph_sizes"].shape.as_list() == [None]
    assert dataset.cardinality() == 3
    first, second = epoch(dataset), epoch(dataset)
    assert sorted(first) == sorted(second) == list(range(10))
    assert first != second
    again = graph_batches(graphs, batch_size=4, seed=7)
    assert [epoch(again), epoch(again)] == [first, second]
    assert epoch(graph_batches(graphs, batch_size=4, shuffle=False)) == list(range(10))
    inputs, _ = next(iter(graph_batches(graphs, batch_size=3, shuffle=False)))
    np.testing.assert_array_equal(inputs["edge_index"], [[0, 2, 5], [1, 3, 6]])
