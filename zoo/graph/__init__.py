"""Graph neural networks: the `Graph` container, built-in and generated graphs, the Planetoid
reader, disjoint batching of small graphs, GraphSAGE neighbour sampling, and the GCN, GAT,
GraphSAGE and GGNN families with their node and graph classifiers (`gcn_node`, `gat_node`,
`graphsage_node`, `ggnn_graph`)."""

from zoo.graph.datasets import (
    batch_graphs,
    citation_benchmark,
    cycles_vs_trees,
    graph_batches,
    karate_club,
    planted_motif,
    synthetic_graph,
)
from zoo.graph.gat import GATBackbone
from zoo.graph.gcn import GCNBackbone
from zoo.graph.ggnn import GGNNBackbone
from zoo.graph.graph import Graph, graphs_from_tfrecords, graphs_to_tfrecords
from zoo.graph.graph_classifier import GraphClassifier, GraphReadout
from zoo.graph.inputs import graph_inputs
from zoo.graph.node_classifier import NodeClassifier
from zoo.graph.planetoid import load_planetoid
from zoo.graph.sage import SAGEBackbone
from zoo.graph.sampler import NeighborSampler, check_fanouts

__all__ = [
    "GATBackbone",
    "GCNBackbone",
    "GGNNBackbone",
    "Graph",
    "GraphClassifier",
    "GraphReadout",
    "NeighborSampler",
    "NodeClassifier",
    "SAGEBackbone",
    "batch_graphs",
    "check_fanouts",
    "citation_benchmark",
    "cycles_vs_trees",
    "graph_batches",
    "graph_inputs",
    "graphs_from_tfrecords",
    "graphs_to_tfrecords",
    "karate_club",
    "load_planetoid",
    "planted_motif",
    "synthetic_graph",
]
