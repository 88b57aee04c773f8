"""Gated graph neural networks (Li et al. 2016): backbone and the `ggnn_graph` preset."""

from zoo.graph.ggnn import presets
from zoo.graph.ggnn.backbone import GGNNBackbone

__all__ = ["GGNNBackbone", "presets"]
