"""Graph neural network layers with PyTorch Geometric's semantics, and their helpers.

Every message-passing layer is called as `layer(node_features, edge_index)` (or on the list
`[node_features, edge_index, ...]`): `node_features` float `[num_nodes, F]`, `edge_index`
integer `[2, num_edges]` with row 0 the sources and row 1 the targets; messages flow from
source to target. Readouts take `(node_features, graph_ids, num_graphs)`.
"""

from layers.graph.gat import GATConv
from layers.graph.gated import GatedGraphConv
from layers.graph.gcn import GCNConv
from layers.graph.message_passing import (
    add_remaining_self_loops,
    add_self_loops,
    gather_nodes,
    gcn_normalization,
    propagate,
    remove_self_loops,
    scatter,
    segment_softmax,
)
from layers.graph.readout import AttentionGraphPooling, GraphPooling
from layers.graph.sage import SAGEConv

__all__ = [
    "AttentionGraphPooling",
    "GATConv",
    "GCNConv",
    "GatedGraphConv",
    "GraphPooling",
    "SAGEConv",
    "add_remaining_self_loops",
    "add_self_loops",
    "gather_nodes",
    "gcn_normalization",
    "propagate",
    "remove_self_loops",
    "scatter",
    "segment_softmax",
]
