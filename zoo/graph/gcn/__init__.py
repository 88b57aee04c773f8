"""GCN (Kipf & Welling 2017): backbone and the `gcn_node` preset."""

from zoo.graph.gcn import presets
from zoo.graph.gcn.backbone import GCNBackbone
from zoo.graph.gcn.blocks import GCNNormalization

__all__ = ["GCNBackbone", "GCNNormalization", "presets"]
