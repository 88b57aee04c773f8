"""`NeighborSampler`: sampled subgraphs hold only real edges, at most `fanout` per node and hop,
seeds first; batches are deterministic per seed and reshuffled per epoch."""

import collections

import numpy as np
import pytest
import tensorflow as tf

from zoo.graph import Graph, NeighborSampler, check_fanouts, citation_benchmark


def random_graph(num_nodes=300, num_edges=2400, weighted=False, seed=0) -> Graph:
    """A directed multigraph with hubs, parallel edges, self-loops and nodes without in-edges.

    Feature 0 of a node is its id, so a sampled subgraph says which nodes it holds.
    """
    rng = np.random.default_rng(seed)
    sources = rng.integers(0, num_nodes, num_edges)
    hubs = (rng.pareto(1.5, num_edges) * 10).astype(int)
    targets = np.where(rng.random(num_edges) < 0.5, hubs, rng.integers(0, num_nodes, num_edges))
    targets %= num_nodes - 20  # the last 20 nodes have no in-edges
    edges = np.stack([np.concatenate([sources, [5, 5, 5]]), np.concatenate([targets, [7, 7, 7]])])
    features = np.stack([np.arange(num_nodes), rng.normal(size=num_nodes)], axis=1)
    return Graph(
        features,
        edges,
        rng.integers(0, 3, num_nodes),
        edge_weight=rng.random(edges.shape[1]) if weighted else None,
        train_mask=np.arange(num_nodes) % 3 == 0,
    )


def node_ids(inputs) -> np.ndarray:
    return np.asarray(inputs["node_features"])[:, 0].astype(int)


def depths(edge_index: np.ndarray, num_nodes: int, num_seeds: int) -> np.ndarray:
    """Hops from the seeds, following sampled edges backwards (target to source)."""
    depth = np.full(num_nodes, -1)
    depth[:num_seeds] = 0
    frontier = set(range(num_seeds))
    level = 0
    while frontier:
        level += 1
        reached = {int(s) for s, t in edge_index.T if t in frontier and depth[s] < 0}
        depth[list(reached)] = level
        frontier = reached
    return depth


def check_subgraph(graph: Graph, element, seeds, fanouts, replace=False):
    inputs, labels, weight = (
        {k: np.asarray(v) for k, v in element[0].items()},
        *map(np.asarray, element[1:]),
    )
    ids = node_ids(inputs)
    n, b = len(ids), len(seeds)
    assert len(set(ids.tolist())) == n  # every node once
    np.testing.assert_array_equal(ids[:b], seeds)  # seeds first, in batch order
    np.testing.assert_array_equal(weight, np.arange(n) < b)
    np.testing.assert_array_equal(labels, graph.labels[ids])
    edge_index = inputs["edge_index"]
    assert edge_index.dtype == np.int32 and edge_index.min() >= 0 and edge_index.max() < n
    # Every sampled edge is an edge of the graph, used at most as often as the graph has it.
    available = collections.Counter(zip(*graph.edge_index.tolist(), strict=True))
    sampled = collections.Counter(zip(*ids[edge_index].tolist(), strict=True))
    for pair, count in sampled.items():
        assert pair in available
        assert replace or count <= available[pair]
    # Every node is within len(fanouts) hops of a seed; hop-k nodes have <= fanouts[k] in-edges
    # (all of their in-edges when they have fewer), the last hop's none.
    depth = depths(edge_index, n, b)
    assert depth.min() >= 0 and depth.max() <= len(fanouts)
    assert (np.diff(depth) >= 0).all()  # numbered hop by hop
    in_degree = np.bincount(edge_index[1], minlength=n)
    degree = np.diff(graph.in_csr[0])[ids]
    for node in range(n):
        if depth[node] == len(fanouts):
            assert in_degree[node] == 0
        elif replace:
            assert in_degree[node] == (fanouts[depth[node]] if degree[node] else 0)
        else:
            assert in_degree[node] == min(degree[node], fanouts[depth[node]])
    return ids


def test_sampled_subgraphs_hold_real_edges_within_the_fanouts():
    graph = random_graph()
    sampler = NeighborSampler(graph, fanouts=[4, 3], batch_size=16)
    assert (len(sampler), sampler.steps_per_epoch, sampler.num_hops) == (7, 7, 2)
    dataset = sampler.dataset()
    assert dataset.cardinality() == 7
    order = sampler.epoch_order(0)
    for index, element in enumerate(dataset):
        check_subgraph(graph, element, order[16 * index : 16 * (index + 1)], [4, 3])


def test_sampling_with_replacement_takes_exactly_fanout_neighbours():
    graph = random_graph(seed=1)
    sampler = NeighborSampler(graph, [5, 2, 2], 32, replace=True, shuffle=False)
    for index, element in enumerate(sampler.dataset().take(3)):
        check_subgraph(
            graph, element, sampler.seeds[32 * index : 32 * (index + 1)], [5, 2, 2], True
        )


def test_edge_cases_no_in_neighbours_large_fanout_and_parallel_edges():
    graph = random_graph()
    lonely = 299  # targets are below 280: no in-edges
    inputs, labels, weight, ids = NeighborSampler(graph, seeds=[lonely]).sample([lonely])
    assert ids.tolist() == [lonely] and inputs["edge_index"].shape == (2, 0)
    assert inputs["node_features"].shape == (1, 2) and weight.tolist() == [1.0]
    # Node 7 has three parallel edges from node 5: each is a candidate of its own.
    sampler = NeighborSampler(graph, [1000], seeds=[7])
    inputs, _, _, ids = sampler.sample([7])
    sources = ids[inputs["edge_index"][0]]
    assert (sources == 5).sum() == (graph.edge_index[:, graph.edge_index[1] == 7][0] == 5).sum()
    assert inputs["edge_index"].shape[1] == np.diff(graph.in_csr[0])[7]


def test_edge_weights_follow_their_sampled_edges():
    graph = random_graph(weighted=True)
    sampler = NeighborSampler(graph, [3, 3], batch_size=10)
    inputs, _, _, ids = sampler.sample(sampler.seeds[:10])
    triples = set(zip(*graph.edge_index.tolist(), graph.edge_weight.tolist(), strict=True))
    pairs = ids[inputs["edge_index"]]
    for (s, t), w in zip(pairs.T.tolist(), inputs["edge_weight"].tolist(), strict=True):
        assert (s, t, w) in triples
    spec = sampler.dataset().element_spec[0]
    assert spec["edge_weight"].shape.as_list() == [None]


def epoch_of(dataset) -> tuple[list[np.ndarray], np.ndarray]:
    """One iteration: every batch's edges, and the seeds of the epoch in order."""
    edges, seeds = [], []
    for inputs, _, weight in dataset:
        edges.append(np.asarray(inputs["edge_index"]))
        seeds.append(node_ids(inputs)[np.asarray(weight) > 0])
    return edges, np.concatenate(seeds)


def test_batches_depend_only_on_the_seed_and_reshuffle_every_epoch():
    graph = random_graph()
    first = NeighborSampler(graph, [4, 3], 20, seed=5, num_parallel_calls=1).dataset()
    second = NeighborSampler(graph, [4, 3], 20, seed=5, num_parallel_calls=4).dataset()
    epochs = [epoch_of(first), epoch_of(first)]
    for got, expected in zip([epoch_of(second), epoch_of(second)], epochs, strict=True):
        for a, b in zip([*got[0], got[1]], [*expected[0], expected[1]], strict=True):
            np.testing.assert_array_equal(a, b)
    train = np.flatnonzero(graph.train_mask)
    # Each epoch covers every training node once, in a new order.
    (_, seeds_0), (_, seeds_1) = epochs
    np.testing.assert_array_equal(np.sort(seeds_0), train)
    np.testing.assert_array_equal(np.sort(seeds_1), train)
    assert not np.array_equal(seeds_0, seeds_1)
    _, other = epoch_of(NeighborSampler(graph, [4, 3], 20, seed=6).dataset())
    assert not np.array_equal(other, seeds_0)


def test_without_shuffle_seeds_come_in_the_given_order():
    graph = random_graph()
    seeds = np.array([9, 3, 250, 4, 100])
    sampler = NeighborSampler(graph, [2], 2, seeds=seeds, shuffle=False)
    firsts = [node_ids(x)[np.asarray(w) > 0].tolist() for x, _, w in sampler.dataset()]
    assert firsts == [[9, 3], [250, 4], [100]]


def test_elements_have_the_form_of_a_full_batch_element():
    graph = citation_benchmark(num_nodes=300, num_classes=3, num_features=20)
    full = graph.full_batch_dataset("train").element_spec
    sampled = NeighborSampler(graph, [10, 5], 32).dataset().element_spec
    assert tf.nest.map_structure(lambda s: s.dtype, sampled) == tf.nest.map_structure(
        lambda s: s.dtype, full
    )
    assert sampled[0]["node_features"].shape.as_list() == [None, 20]
    assert sampled[0]["edge_index"].shape.as_list() == [2, None]
    assert sampled[1].shape.as_list() == sampled[2].shape.as_list() == [None]
    unlabelled = Graph(graph.node_features, graph.edge_index, train_mask=graph.train_mask)
    _, labels, _, _ = NeighborSampler(unlabelled, [3]).sample([0, 1])
    assert labels.dtype == np.int32 and not labels.any()


def test_check_fanouts():
    assert check_fanouts([25, 10], 2) == (25, 10)
    assert check_fanouts((np.int64(5),), 1) == (5,)
    message = (
        r"`fanouts` has 2 entries, one per graph layer, but the model has 3 graph layers. "
        r"Received: fanouts=\[25, 10\]"
    )
    with pytest.raises(ValueError, match=message):
        check_fanouts([25, 10], 3)
    for fanouts in ([], [25, 0], "25", [2.5], None):
        with pytest.raises(ValueError, match="Received: fanouts="):
            check_fanouts(fanouts, 2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"fanouts": [10, 0]}, r"Received: fanouts=\[10, 0\]"),
        ({"fanouts": []}, r"Received: fanouts=\[\]"),
        ({"batch_size": 0}, "Received: batch_size=0"),
        ({"seeds": "val"}, "no val mask .* Received: split='val'"),
        ({"seeds": "dev"}, "Received: split='dev'"),
        ({"seeds": [1, 300]}, r"in \[0, 300\). Received: seeds with value 300"),
        ({"seeds": [-1]}, "Received: seeds with value -1"),
        ({"seeds": [4, 5, 4]}, "distinct node ids. Received: seeds with node 4 2 times"),
        ({"seeds": []}, "non-empty 1-D array"),
        ({"seeds": [1.0, 2.0]}, "dtype float64"),
        ({"shuffle": 1}, "Received: shuffle=1"),
        ({"replace": "no"}, "Received: replace='no'"),
        ({"seed": -1}, "Received: seed=-1"),
        ({"num_parallel_calls": 0}, "Received: num_parallel_calls=0"),
    ],
)
def test_sampler_checks_its_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NeighborSampler(random_graph(), **kwargs)


def test_sampler_needs_a_graph():
    with pytest.raises(TypeError, match="zoo.graph.Graph"):
        NeighborSampler({"node_features": np.zeros((2, 1))})
