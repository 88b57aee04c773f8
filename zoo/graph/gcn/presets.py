"""Named GCN configurations, registered in the zoo."""

from __future__ import annotations

from zoo.graph.gcn.backbone import GCNBackbone
from zoo.graph.inputs import example_inputs
from zoo.graph.node_classifier import NodeClassifier
from zoo.registry import register

# Kipf & Welling's citation-network model: 16 hidden units, dropout 0.5 (learning rate 0.01,
# weight decay 5e-4 are NodeClassifier's defaults).
GCN_CITATION = dict(num_features=1433, num_classes=7, hidden_units=16, num_layers=2, dropout=0.5)

TINY = dict(num_features=4, num_classes=3, hidden_units=4)


def gcn_search_space(hp) -> dict:
    """Width, depth and dropout of the GCN."""
    return {
        "hidden_units": hp.Choice("hidden_units", [16, 32, 64]),
        "num_layers": hp.Int("num_layers", 2, 3),
        "dropout": hp.Float("dropout", 0.3, 0.7, step=0.1),
    }


register(
    "gcn_node",
    NodeClassifier,
    family="gcn",
    task="node_classifier",
    backbone=GCNBackbone,
    description="Two-layer GCN for semi-supervised node classification (Cora's set-up).",
    tiny=TINY,
    example_inputs=example_inputs,
    search_space=gcn_search_space,
    **GCN_CITATION,
)
