"""GAT and GATv2 (Velickovic et al. 2018; Brody et al. 2022): backbone and `gat_node`."""

from zoo.graph.gat import presets
from zoo.graph.gat.backbone import GATBackbone

__all__ = ["GATBackbone", "presets"]
