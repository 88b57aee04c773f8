"""GraphSAGE (Hamilton et al. 2017): backbone and the `graphsage_node` preset."""

from zoo.graph.sage import presets
from zoo.graph.sage.backbone import SAGEBackbone

__all__ = ["SAGEBackbone", "presets"]
