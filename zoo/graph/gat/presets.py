"""Named GAT configurations, registered in the zoo."""

from __future__ import annotations

from zoo.graph.gat.backbone import GATBackbone
from zoo.graph.inputs import example_inputs
from zoo.graph.node_classifier import NodeClassifier
from zoo.registry import register

# Velickovic et al.'s transductive model: 8 heads of 8 units, one output head, dropout 0.6 on
# inputs and attention, learning rate 0.005, L2 5e-4.
GAT_CITATION = dict(
    num_features=1433,
    num_classes=7,
    hidden_units=8,
    heads=8,
    output_heads=1,
    num_layers=2,
    dropout=0.6,
    attention_dropout=0.6,
)

TINY = dict(num_features=4, num_classes=3, hidden_units=4, heads=2, output_heads=2)


def gat_search_space(hp) -> dict:
    """Units per head, heads, GATv2 and dropout."""
    return {
        "hidden_units": hp.Choice("hidden_units", [8, 16]),
        "heads": hp.Choice("heads", [4, 8]),
        "v2": hp.Boolean("v2"),
        "dropout": hp.Float("dropout", 0.4, 0.7, step=0.1),
    }


register(
    "gat_node",
    NodeClassifier,
    family="gat",
    task="node_classifier",
    backbone=GATBackbone,
    description="Two-layer GAT (8 heads x 8 units) for node classification (Cora's set-up).",
    tiny=TINY,
    example_inputs=example_inputs,
    search_space=gat_search_space,
    **GAT_CITATION,
)
