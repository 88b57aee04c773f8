"""Built-in graphs that need no download: Zachary's karate club, a generated Cora-sized citation
benchmark, large random graphs for scale checks, two graph-classification generators, and the
disjoint batching of many small graphs.

No package on the registries this project uses ships Cora, CiteSeer or PubMed inside its wheel
(they are downloaded at run time), so `citation_benchmark` generates a graph of Cora's size
and statistics; `zoo.graph.load_planetoid` reads the real Planetoid files where you have them.
"""

from __future__ import annotations

import itertools

import numpy as np
import tensorflow as tf

from layers.validation import (
    check_int_at_least,
    check_non_negative_int,
    check_positive_float,
    check_positive_int,
)
from zoo.graph.graph import Graph

# Zachary (1977), as networkx's `karate_club_graph()` numbers it: 78 friendships.
_KARATE_EDGES = (
    "0-1 0-2 0-3 0-4 0-5 0-6 0-7 0-8 0-10 0-11 0-12 0-13 0-17 0-19 0-21 0-31 1-2 1-3 1-7 1-13 "
    "1-17 1-19 1-21 1-30 2-3 2-7 2-8 2-9 2-13 2-27 2-28 2-32 3-7 3-12 3-13 4-6 4-10 5-6 5-10 "
    "5-16 6-16 8-30 8-32 8-33 9-33 13-33 14-32 14-33 15-32 15-33 18-32 18-33 19-33 20-32 20-33 "
    "22-32 22-33 23-25 23-27 23-29 23-32 23-33 24-25 24-27 24-31 25-31 26-29 26-33 27-33 28-31 "
    "28-33 29-32 29-33 30-32 30-33 31-32 31-33 32-33"
)
# The members who followed the instructor ("Mr. Hi", club 0); the others followed the
# administrator ("Officer", club 1).
_KARATE_MR_HI = (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 16, 17, 19, 21)
_KARATE_TRAIN = (0, 33)  # the two leaders
_KARATE_VAL = (1, 2, 3, 4, 9, 14, 15, 18)  # the four lowest-numbered other members of each club

# Cora's class sizes (Sen et al. 2008; the Planetoid version's 2,708 nodes).
_CORA_CLASS_SIZES = np.array([351, 217, 418, 818, 426, 298, 180])
# `citation_benchmark`'s constants, tuned to Cora's statistics and accuracies (its docstring).
_AVG_DEGREE = 3.9
_HOMOPHILY = 0.95
_POPULARITY_SIGMA = 1.5
_AFFINITY_ALPHA = 0.3
_TOPIC_SHARE = 0.14
_TOPICAL = 0.37
_WORDS = 19
_GROUP_SIZE = 20
_IN_GROUP = 0.9
_JARGON = 0.5
_JARGON_WORDS = 30
_JARGON_TOPICS = 20
_LABEL_NOISE = 0.1


def karate_club() -> Graph:
    """Zachary's karate club: 34 members, 78 friendships (156 directed edges), two clubs.

    The graph of networkx's `karate_club_graph()` (embedded here, networkx is not needed), in
    the same node and edge order as `Graph.from_networkx(karate_club_graph(), label_key="club")`.
    Labels: 0 for "Mr. Hi" (17 members), 1 for "Officer" (17). Features: the identity matrix
    (34 x 34). Splits: train = the two leaders (nodes 0 and 33); val = the four lowest-numbered
    other members of each club (nodes 1, 2, 3, 4 and 9, 14, 15, 18); test = the other 24.

    Reference: W. W. Zachary, "An information flow model for conflict and fission in small
    groups", 1977.

    Example:

    ```python
    graph = karate_club()
    model.fit(graph.full_batch_dataset("train"), epochs=100)
    ```
    """
    pairs = np.array([pair.split("-") for pair in _KARATE_EDGES.split()], dtype=np.int32)
    labels = np.ones(34, dtype=np.int32)
    labels[list(_KARATE_MR_HI)] = 0
    train, val = _mask(34, _KARATE_TRAIN), _mask(34, _KARATE_VAL)
    graph = Graph.from_edge_list(pairs, num_nodes=34, labels=labels)
    return Graph(
        graph.node_features,
        graph.edge_index,
        labels,
        train_mask=train,
        val_mask=val,
        test_mask=~(train | val),
        name="karate_club",
    )


def _mask(num_nodes: int, nodes) -> np.ndarray:
    mask = np.zeros(num_nodes, dtype=bool)
    mask[np.asarray(nodes, dtype=np.int64)] = True
    return mask


def _class_sizes(num_nodes: int, num_classes: int, minimum: int, rng) -> np.ndarray:
    """Uneven class sizes summing to `num_nodes`, each at least `minimum`: Cora's proportions
    for 7 classes (exactly Cora's sizes for 2,708 nodes), a random profile otherwise."""
    if num_classes == len(_CORA_CLASS_SIZES):
        shares = _CORA_CLASS_SIZES / _CORA_CLASS_SIZES.sum()
    else:
        shares = rng.dirichlet(np.full(num_classes, 4.0))
    sizes = np.round(shares * num_nodes).astype(np.int64)
    if sizes.min() < minimum:
        sizes = minimum + np.floor(shares * (num_nodes - minimum * num_classes)).astype(np.int64)
    sizes[np.argmax(shares)] += num_nodes - sizes.sum()
    return sizes


def _weighted_pick(cumulative: np.ndarray, low: np.ndarray, high: np.ndarray, rng) -> np.ndarray:
    """Indices `i` drawn with probability proportional to their weight, each within the range
    of `cumulative` (the running sum of the weights) between the values `low` and `high`."""
    point = low + rng.random(len(low)) * (high - low)
    index = np.searchsorted(cumulative, point, side="right")
    return np.minimum(index, len(cumulative) - 1)


def citation_benchmark(
    num_nodes: int = 2708, num_classes: int = 7, num_features: int = 1433, seed: int = 0
) -> Graph:
    """A generated citation graph of Cora's size and statistics (not Cora: see the module note).

    The graph is a degree-corrected stochastic block model with local communities. Every
    class is split into groups of about 20 nodes; every node has a log-normal "popularity"
    (sigma 1.5), first gets one edge, then edges are added between nodes drawn by popularity
    until the average degree is 3.9 (median 2, about a third of the nodes of degree 1, hubs of
    50-200). An edge stays inside its class with probability 0.95, and then inside its group
    with probability 0.9; otherwise it goes to another class drawn from a random
    class-affinity matrix (related fields cite each other). Edges are undirected (both
    directions stored), without duplicates or self-loops; every node has at least one.

    Features are binary bags of words over a `num_features`-word vocabulary. Each class has a
    topic (14 % of the vocabulary, weights 1/sqrt(rank)); each group has one of 20 shared
    "jargon" topics of 30 random words, the same for groups of any class. Every node draws 1 +
    Poisson(19) words: from its class topic with probability 0.37, from its group's jargon with
    probability 0.5, else from a Zipf background (18.1 distinct words per node; Cora's papers
    have 18.2). Neighbours share jargon that says nothing of their class, so averaging over
    the neighbourhood helps less than it would with independent words.

    Finally 10 % of the nodes have their labels shuffled among themselves (annotation noise,
    as real labels have), which keeps the class sizes: Cora's for 7 classes, a random uneven
    profile otherwise (at least 30 nodes per class). The noise caps every method near 92 %;
    the observed edge homophily is 0.80 (Cora: 0.81).

    Measured at the defaults (140 training and 1,000 test nodes; features row-normalised as in
    GCN): scikit-learn `LogisticRegression()` on the features alone 56 % +- 4 test accuracy,
    on two-hop propagated features (`(D^-1/2 (A + I) D^-1/2)^2 X`, as in SGC) 80 % +- 4
    (seeds 0-15); the registered `gcn_node` model (200 full-batch epochs) 82 % +- 2 (seeds
    0-4). On Cora the same models reach about 58 %, 81 % and 81.5 %. Seed 0: 52 %, 73 %
    and 82.5 %.

    Split, Planetoid-style and seeded: 20 labelled training nodes per class, then 500
    validation and 1,000 test nodes drawn from the rest, all disjoint (fewer when the graph is
    too small: a third of the rest for validation, the remainder, up to 1,000, for test).

    Args:
        num_nodes: the number of nodes, at least 30 per class. Defaults to `2708`.
        num_classes: the number of classes, at least 2. Defaults to `7`.
        num_features: the vocabulary size, at least 8. Defaults to `1433`.
        seed: the generator's seed. Defaults to `0`.

    Returns:
        A `Graph` with float32 binary features, labels and train/val/test masks.

    Example:

    ```python
    graph = citation_benchmark()
    model.fit(graph.full_batch_dataset("train"), epochs=200)
    ```
    """
    check_int_at_least("num_classes", num_classes, 2)
    check_int_at_least("num_nodes", num_nodes, 30 * num_classes, "30 nodes per class")
    check_int_at_least("num_features", num_features, 8)
    check_non_negative_int("seed", seed)
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(num_nodes, num_classes, 30, rng)
    labels = rng.permutation(np.repeat(np.arange(num_classes, dtype=np.int32), sizes))
    groups = _local_groups(labels, sizes, rng)
    edge_index = _block_model_edges(labels, groups, num_classes, rng)
    features = _bag_of_words(labels, groups, num_classes, num_features, rng)
    if _LABEL_NOISE:
        noisy = rng.choice(num_nodes, int(round(_LABEL_NOISE * num_nodes)), replace=False)
        labels[noisy] = labels[rng.permutation(noisy)]

    train = np.concatenate(
        [rng.choice(np.flatnonzero(labels == c), 20, replace=False) for c in range(num_classes)]
    )
    rest = rng.permutation(np.setdiff1d(np.arange(num_nodes), train))
    num_val = min(500, len(rest) // 3)
    num_test = min(1000, len(rest) - num_val)
    return Graph(
        features,
        edge_index,
        labels,
        train_mask=_mask(num_nodes, train),
        val_mask=_mask(num_nodes, rest[:num_val]),
        test_mask=_mask(num_nodes, rest[num_val : num_val + num_test]),
        name="citation_benchmark",
    )


class _PopularityPicker:
    """Draws members of given groups (classes), each with probability proportional to its
    popularity."""

    def __init__(self, groups: np.ndarray, num_groups: int, popularity: np.ndarray):
        self.members = np.argsort(groups, kind="stable")
        self.cumulative = np.cumsum(popularity[self.members])
        ends = np.cumsum(np.bincount(groups, minlength=num_groups)) - 1
        self.bounds = np.concatenate([[0.0], self.cumulative[ends]])

    def pick(self, groups: np.ndarray, rng) -> np.ndarray:
        low, high = self.bounds[groups], self.bounds[groups + 1]
        return self.members[_weighted_pick(self.cumulative, low, high, rng)]


def _local_groups(labels, sizes, rng) -> np.ndarray:
    """Splits every class into groups of about `_GROUP_SIZE` nodes (local communities)."""
    per_class = np.maximum(1, np.round(sizes / _GROUP_SIZE).astype(np.int64))
    first = np.concatenate([[0], np.cumsum(per_class)[:-1]])
    order = np.argsort(labels, kind="stable")
    rank = np.arange(len(labels)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    groups = np.empty(len(labels), dtype=np.int64)
    groups[order] = first[labels[order]] + rank * per_class[labels[order]] // sizes[labels[order]]
    return groups


def _block_model_edges(labels, groups, num_classes: int, rng) -> np.ndarray:
    num_nodes = len(labels)
    popularity = rng.lognormal(0.0, _POPULARITY_SIGMA, num_nodes)
    by_class = _PopularityPicker(labels, num_classes, popularity)
    by_group = _PopularityPicker(groups, int(groups.max()) + 1, popularity)
    affinity = rng.dirichlet(np.full(num_classes, _AFFINITY_ALPHA), size=num_classes)
    np.fill_diagonal(affinity, 0.0)
    affinity = np.cumsum(affinity / affinity.sum(axis=1, keepdims=True), axis=1)

    wanted = int(round(num_nodes * _AVG_DEGREE / 2))
    drawn = num_nodes + int(wanted * 1.1)
    others = np.searchsorted(
        np.cumsum(popularity), rng.random(drawn - num_nodes) * popularity.sum()
    )
    sources = np.concatenate([np.arange(num_nodes), np.minimum(others, num_nodes - 1)])
    target_class = labels[sources].astype(np.int64)
    across = rng.random(drawn) >= _HOMOPHILY
    draw = rng.random(int(across.sum()))[:, None]
    target_class[across] = np.minimum(
        (affinity[target_class[across]] < draw).sum(axis=1), num_classes - 1
    )
    targets = by_class.pick(target_class, rng)
    local = np.flatnonzero(~across & (rng.random(drawn) < _IN_GROUP))
    targets[local] = by_group.pick(groups[sources[local]], rng)
    loops = np.flatnonzero(targets == sources)
    while loops.size:  # redraw self-loops (only inside a class), a few rounds at most
        targets[loops] = by_class.pick(target_class[loops], rng)
        loops = loops[targets[loops] == sources[loops]]

    low, high = np.minimum(sources, targets), np.maximum(sources, targets)
    _, first = np.unique(low * num_nodes + high, return_index=True)
    keep = np.sort(first)[:wanted]  # the first draw of each pair; every node's own edge first
    low, high = low[keep], high[keep]
    return np.stack([np.concatenate([low, high]), np.concatenate([high, low])]).astype(np.int32)


def _bag_of_words(labels, groups, num_classes: int, vocabulary: int, rng) -> np.ndarray:
    num_nodes = len(labels)
    background = 1.0 / np.arange(1, vocabulary + 1)
    background = np.cumsum(rng.permutation(background))
    topic_words = max(2, round(vocabulary * _TOPIC_SHARE))
    topics = np.zeros((num_classes, vocabulary))
    for c in range(num_classes):
        words = rng.choice(vocabulary, topic_words, replace=False)
        topics[c, words] = rng.permutation(1.0 / np.sqrt(np.arange(1, topic_words + 1)))
    topics = np.cumsum(topics / topics.sum(axis=1, keepdims=True), axis=1)
    # One search over all topics: class c's cumulative weights shifted into [c, c + 1].
    stacked = (topics + np.arange(num_classes)[:, None]).ravel()

    counts = 1 + rng.poisson(_WORDS, num_nodes)
    nodes = np.repeat(np.arange(num_nodes), counts)
    kind = rng.random(len(nodes))
    topical = kind < _TOPICAL
    jargon = (kind >= _TOPICAL) & (kind < _TOPICAL + _JARGON)
    jargon_words = rng.integers(0, vocabulary, (_JARGON_TOPICS, _JARGON_WORDS))
    group_topic = rng.integers(0, _JARGON_TOPICS, int(groups.max()) + 1)
    words = np.empty(len(nodes), dtype=np.int64)
    words[jargon] = jargon_words[
        group_topic[groups[nodes[jargon]]], rng.integers(0, _JARGON_WORDS, jargon.sum())
    ]
    classes = labels[nodes[topical]].astype(np.int64)
    words[topical] = _weighted_pick(stacked, classes, classes + 1, rng) - classes * vocabulary
    plain = int((~topical & ~jargon).sum())
    words[~topical & ~jargon] = _weighted_pick(
        background, np.zeros(plain), np.full(plain, background[-1]), rng
    )
    features = np.zeros((num_nodes, vocabulary), dtype=np.float32)
    features[nodes, np.clip(words, 0, vocabulary - 1)] = 1.0
    return features


def synthetic_graph(
    num_nodes: int,
    avg_degree: float,
    num_features: int = 16,
    num_classes: int = 4,
    seed: int = 0,
) -> Graph:
    """A large random graph for scale checks: vectorised, int32 edges, memory ~ the edges.

    `num_nodes * avg_degree / 2` node pairs are drawn; a pair stays inside the first node's
    class with probability 0.7 and is otherwise uniform; both directions are stored, so the
    graph has about `num_nodes * avg_degree` directed edges (duplicates are rare and kept,
    self-loops are moved to the next node). Classes are uniform; features are float32 standard
    normal noise plus half of a random per-class centre, so features alone classify a part of
    the nodes and neighbours help. Masks: a random 60 % train, 20 % val, 20 % test.

    1M nodes and 10M edges build in about 1.2 s on two cores, peaking at about 270 MB of
    NumPy memory for 144 MB of arrays (80 MB of int32 edges, 64 MB of features); `in_csr` adds
    84 MB (about 1.7 s, the first time).

    Args:
        num_nodes: the number of nodes, at least 2.
        avg_degree: directed edges per node (the average in-degree), positive: the graph has
            about `num_nodes * avg_degree` edges.
        num_features: feature width. Defaults to `16`.
        num_classes: the number of classes. Defaults to `4`.
        seed: the generator's seed. Defaults to `0`.

    Example:

    ```python
    graph = synthetic_graph(1_000_000, avg_degree=10)
    sampler = NeighborSampler(graph, fanouts=[25, 10], batch_size=512)
    ```
    """
    check_int_at_least("num_nodes", num_nodes, 2)
    check_positive_float("avg_degree", avg_degree, allow_numpy=True)
    check_positive_int("num_features", num_features)
    check_positive_int("num_classes", num_classes)
    check_non_negative_int("seed", seed)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, num_nodes, dtype=np.int32)
    by_class = np.argsort(labels, kind="stable").astype(np.int32)
    sizes = np.bincount(labels, minlength=num_classes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    pairs = max(1, int(round(num_nodes * avg_degree / 2)))
    sources = rng.integers(0, num_nodes, pairs, dtype=np.int32)
    targets = rng.integers(0, num_nodes, pairs, dtype=np.int32)
    inside = np.flatnonzero(rng.random(pairs, dtype=np.float32) < 0.7)
    classes = labels[sources[inside]]
    offsets = (rng.random(len(inside)) * sizes[classes]).astype(np.int64)
    targets[inside] = by_class[starts[classes] + offsets]
    del inside, classes, offsets
    loops = targets == sources
    targets[loops] = (targets[loops] + 1) % num_nodes
    edge_index = np.empty((2, 2 * pairs), dtype=np.int32)
    edge_index[0, :pairs], edge_index[0, pairs:] = sources, targets
    edge_index[1, :pairs], edge_index[1, pairs:] = targets, sources
    del sources, targets

    centres = rng.standard_normal((num_classes, num_features), dtype=np.float32)
    features = rng.standard_normal((num_nodes, num_features), dtype=np.float32)
    features += 0.5 * centres[labels]
    part = rng.random(num_nodes, dtype=np.float32)
    return Graph(
        features,
        edge_index,
        labels,
        train_mask=part < 0.6,
        val_mask=(part >= 0.6) & (part < 0.8),
        test_mask=part >= 0.8,
        name="synthetic_graph",
    )


# Graph classification.


def _balanced_labels(num_graphs: int, rng) -> np.ndarray:
    return rng.permutation(np.arange(num_graphs) % 2)


def _relabelled(pairs: np.ndarray, num_nodes: int, rng) -> np.ndarray:
    """Undirected pairs with random node ids, as a `[2, 2 * pairs]` edge index."""
    order = rng.permutation(num_nodes)
    pairs = order[pairs]
    return np.concatenate([pairs, pairs[:, ::-1]]).T.astype(np.int32)


def cycles_vs_trees(
    num_graphs: int = 200, min_nodes: int = 6, max_nodes: int = 14, seed: int = 0
) -> list[Graph]:
    """Connected graphs with a cycle (label 0) or without (label 1), for graph classification.

    Label 0: a cycle of random length 3..n with random trees hanging off it (each further node
    joins a uniformly random earlier node), so exactly one cycle. Label 1: a random recursive
    tree (each node joins a uniformly random earlier node). Node counts are uniform in
    `[min_nodes, max_nodes]` for both labels and node ids are shuffled, so counting nodes or
    reading ids tells nothing. Node features: a constant 1 (width 1), so the structure is all
    there is; a model must aggregate over edges (a cycle graph has n edges, a tree n - 1; sum
    aggregation of messages sees the degrees). Labels are balanced (half of each, shuffled).

    Args:
        num_graphs: the number of graphs. Defaults to `200`.
        min_nodes: the fewest nodes of a graph, at least 3. Defaults to `6`.
        max_nodes: the most nodes of a graph, at least `min_nodes`. Defaults to `14`.
        seed: the generator's seed. Defaults to `0`.

    Returns:
        A list of `Graph`s, each with `graph_label` 0 (has a cycle) or 1 (tree).

    Example:

    ```python
    graphs = cycles_vs_trees(200)
    model.fit(graph_batches(graphs, batch_size=32), epochs=50)
    ```
    """
    check_positive_int("num_graphs", num_graphs)
    check_int_at_least("min_nodes", min_nodes, 3)
    check_int_at_least("max_nodes", max_nodes, min_nodes, "at least min_nodes")
    check_non_negative_int("seed", seed)
    rng = np.random.default_rng(seed)
    graphs = []
    for label in _balanced_labels(num_graphs, rng):
        n = int(rng.integers(min_nodes, max_nodes + 1))
        if label == 0:
            k = int(rng.integers(3, n + 1))
            ring = np.stack([np.arange(k), (np.arange(k) + 1) % k], axis=1)
            branches = np.stack([np.arange(k, n), rng.integers(0, np.arange(k, n))], axis=1)
            pairs = np.concatenate([ring, branches.reshape(-1, 2)])
        else:
            pairs = np.stack([np.arange(1, n), rng.integers(0, np.arange(1, n))], axis=1)
        graphs.append(
            Graph(
                np.ones((n, 1), dtype=np.float32),
                _relabelled(pairs, n, rng),
                graph_label=int(label),
            )
        )
    return graphs


def _pair_list(num_nodes: int) -> np.ndarray:
    return np.array(list(itertools.combinations(range(num_nodes), 2)), dtype=np.int64)


def _contains_4_clique(edge_index, num_nodes: int) -> bool:
    """Whether an undirected graph has 4 mutually adjacent nodes (vectorised, small graphs).

    A 4-clique exists exactly when some edge's two ends have two common neighbours that are
    adjacent themselves.
    """
    adjacency = np.zeros((num_nodes, num_nodes), dtype=np.int64)
    adjacency[edge_index[0], edge_index[1]] = 1
    adjacency[edge_index[1], edge_index[0]] = 1
    np.fill_diagonal(adjacency, 0)
    sources, targets = np.nonzero(np.triu(adjacency))
    common = adjacency[sources] & adjacency[targets]  # [pairs, nodes]
    return bool((np.einsum("ei,ij,ej->e", common, adjacency, common) > 0).any())


def planted_motif(num_graphs: int = 200, num_nodes: int = 12, seed: int = 0) -> list[Graph]:
    """Random graphs with a planted 4-clique (label 1) or without any 4-clique (label 0).

    Every graph is an Erdos-Renyi G(n, m) graph with `n = num_nodes` and `m` uniform in
    `[n, 3n/2]` edges, drawn for both labels alike, so edge and node counts tell nothing. Label
    1: 4 random nodes are joined into a clique (6 of the m edges), the other m - 6 edges are
    random. Label 0: a G(n, m) graph redrawn until it holds no 4-clique. Node features: a
    constant 1 (width 1). Labels are balanced (half of each, shuffled).

    Args:
        num_graphs: the number of graphs. Defaults to `200`.
        num_nodes: nodes per graph, at least 6. Defaults to `12`.
        seed: the generator's seed. Defaults to `0`.

    Returns:
        A list of `Graph`s, each with `graph_label` 1 (has the clique) or 0.

    Example:

    ```python
    graphs = planted_motif(200)
    inputs, labels = batch_graphs(graphs[:32])
    ```
    """
    check_positive_int("num_graphs", num_graphs)
    check_int_at_least("num_nodes", num_nodes, 6)
    check_non_negative_int("seed", seed)
    rng = np.random.default_rng(seed)
    pairs = _pair_list(num_nodes)
    pair_id = {tuple(p): i for i, p in enumerate(pairs.tolist())}
    graphs = []
    for label in _balanced_labels(num_graphs, rng):
        m = int(rng.integers(num_nodes, num_nodes * 3 // 2 + 1))
        if label == 1:
            clique = np.sort(rng.choice(num_nodes, 4, replace=False))
            planted = [pair_id[(int(a), int(b))] for a, b in itertools.combinations(clique, 2)]
            rest = np.setdiff1d(np.arange(len(pairs)), planted)
            chosen = np.concatenate([planted, rng.choice(rest, m - 6, replace=False)])
            edge_index = _relabelled(pairs[chosen], num_nodes, rng)
        else:
            while True:
                chosen = rng.choice(len(pairs), m, replace=False)
                edge_index = _relabelled(pairs[chosen], num_nodes, rng)
                if not _contains_4_clique(edge_index, num_nodes):
                    break
        graphs.append(
            Graph(np.ones((num_nodes, 1), np.float32), edge_index, graph_label=int(label))
        )
    return graphs


# Disjoint batches.


def batch_graphs(graphs) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The disjoint union of graphs, as the graph-level models' inputs.

    Node features are stacked, each graph's edge indices are offset by the nodes before it,
    `graph_ids` says which graph each node belongs to (sorted, 0..G-1) and `graph_sizes` how
    many nodes each graph has; `edge_weight` is included when every graph has one.

    Args:
        graphs: a non-empty list of `Graph`s with the same `num_features`, each with a
            `graph_label`.

    Returns:
        `(inputs, labels)`: `{"node_features": float32 [N, F], "edge_index": int32 [2, E],
        "graph_ids": int32 [N], "graph_sizes": int32 [G]}` and int32 labels `[G]`.

    Example:

    ```python
    inputs, labels = batch_graphs(cycles_vs_trees(32))
    logits = model(inputs)
    ```
    """
    graphs = list(graphs)
    _check_graph_list(graphs)
    sizes = np.array([g.num_nodes for g in graphs], dtype=np.int64)
    edge_counts = np.array([g.num_edges for g in graphs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    inputs = {
        "node_features": np.concatenate([g.node_features for g in graphs]),
        "edge_index": (
            np.concatenate([g.edge_index for g in graphs], axis=1) + np.repeat(offsets, edge_counts)
        ).astype(np.int32),
        "graph_ids": np.repeat(np.arange(len(graphs), dtype=np.int32), sizes),
        "graph_sizes": sizes.astype(np.int32),
    }
    if graphs[0].edge_weight is not None:
        inputs["edge_weight"] = np.concatenate([g.edge_weight for g in graphs])
    labels = np.array([g.graph_label for g in graphs], dtype=np.int32)
    return inputs, labels


def _check_graph_list(graphs: list) -> None:
    if not graphs or not all(isinstance(g, Graph) for g in graphs):
        raise ValueError(
            f"`graphs` must be a non-empty list of Graphs. Received: graphs={graphs!r:.200}"
        )
    first = graphs[0]
    for i, graph in enumerate(graphs):
        if graph.graph_label is None:
            raise ValueError(
                f"Every graph needs a `graph_label` to be batched for graph classification. "
                f"Received: graphs[{i}] with graph_label=None"
            )
        if graph.num_features != first.num_features:
            raise ValueError(
                f"Every graph must have {first.num_features} node features, as graphs[0] has. "
                f"Received: graphs[{i}] with num_features={graph.num_features}"
            )
        if (graph.edge_weight is None) != (first.edge_weight is None):
            raise ValueError(
                "Either every graph has edge weights or none has. "
                f"Received: graphs[{i}] with edge_weight={graph.edge_weight is not None}"
            )


def graph_batches(graphs, batch_size: int, shuffle: bool = True, seed: int = 0) -> tf.data.Dataset:
    """A `tf.data.Dataset` of `batch_graphs` batches, for graph classification with `fit`.

    The graphs are packed into flat arrays once; each batch is cut from them with NumPy. With
    `shuffle`, the graph order is a new permutation every epoch (every new iteration of the
    dataset), drawn from `(seed, epoch)`, so two datasets with the same seed give the same
    batches. The last batch may be smaller. Shapes of N, E and G are dynamic.

    Args:
        graphs: a non-empty list of `Graph`s, each with a `graph_label` (see `batch_graphs`).
        batch_size: graphs per batch.
        shuffle: reshuffle the graphs every epoch. Defaults to `True`.
        seed: the shuffling seed. Defaults to `0`.

    Returns:
        A dataset of `(inputs, labels)`, with the cardinality set to the number of batches.

    Example:

    ```python
    graphs = planted_motif(200)
    model.fit(graph_batches(graphs[:160], 32), validation_data=graph_batches(graphs[160:], 32))
    ```
    """
    graphs = list(graphs)
    _check_graph_list(graphs)
    check_positive_int("batch_size", batch_size)
    if not isinstance(shuffle, bool):
        raise ValueError(f"`shuffle` must be a bool. Received: shuffle={shuffle!r}")
    check_non_negative_int("seed", seed)
    packed, labels = batch_graphs(graphs)
    node_starts = np.concatenate([[0], np.cumsum(packed["graph_sizes"], dtype=np.int64)])
    edge_counts = np.array([g.num_edges for g in graphs], dtype=np.int64)
    edge_starts = np.concatenate([[0], np.cumsum(edge_counts)])
    weighted = "edge_weight" in packed
    num_batches = -(-len(graphs) // batch_size)
    epochs = itertools.count()

    def batch(ids: np.ndarray):
        sizes = packed["graph_sizes"][ids].astype(np.int64)
        counts = edge_counts[ids]
        nodes = _concatenated_ranges(node_starts[ids], sizes)
        edges = _concatenated_ranges(edge_starts[ids], counts)
        # Packed edges hold global ids; shift each graph's block to its place in the batch.
        shift = np.concatenate([[0], np.cumsum(sizes)[:-1]]) - node_starts[ids]
        inputs = {
            "node_features": packed["node_features"][nodes],
            "edge_index": (packed["edge_index"][:, edges] + np.repeat(shift, counts)).astype(
                np.int32
            ),
            "graph_ids": np.repeat(np.arange(len(ids), dtype=np.int32), sizes),
            "graph_sizes": sizes.astype(np.int32),
        }
        if weighted:
            inputs["edge_weight"] = packed["edge_weight"][edges]
        return inputs, labels[ids]

    def generate():
        epoch = next(epochs)
        order = np.arange(len(graphs))
        if shuffle:
            order = np.random.default_rng([seed, epoch]).permutation(len(graphs))
        for start in range(0, len(graphs), batch_size):
            yield batch(order[start : start + batch_size])

    features = packed["node_features"].shape[1]
    signature = {
        "node_features": tf.TensorSpec([None, features], tf.float32),
        "edge_index": tf.TensorSpec([2, None], tf.int32),
        "graph_ids": tf.TensorSpec([None], tf.int32),
        "graph_sizes": tf.TensorSpec([None], tf.int32),
    }
    if weighted:
        signature["edge_weight"] = tf.TensorSpec([None], tf.float32)
    dataset = tf.data.Dataset.from_generator(
        generate, output_signature=(signature, tf.TensorSpec([None], tf.int32))
    )
    return dataset.apply(tf.data.experimental.assert_cardinality(num_batches))


def _concatenated_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """`concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])`, without the loop."""
    total = int(lengths.sum())
    firsts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return np.repeat(starts - firsts, lengths) + np.arange(total)
