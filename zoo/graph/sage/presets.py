"""Named GraphSAGE configurations, registered in the zoo."""

from __future__ import annotations

from zoo.graph.inputs import example_inputs
from zoo.graph.node_classifier import NodeClassifier
from zoo.graph.sage.backbone import SAGEBackbone
from zoo.registry import register

# Two mean-aggregator layers (the sampler's fanouts [25, 10] are one per layer).
SAGE_CITATION = dict(
    num_features=1433, num_classes=7, hidden_units=64, num_layers=2, aggregator="mean"
)

TINY = dict(num_features=4, num_classes=3, hidden_units=4, aggregator="max_pool")


def sage_search_space(hp) -> dict:
    """Width, aggregator, normalisation and dropout of GraphSAGE."""
    return {
        "hidden_units": hp.Choice("hidden_units", [32, 64, 128]),
        "aggregator": hp.Choice("aggregator", ["mean", "max_pool"]),
        "normalize": hp.Boolean("normalize"),
        "dropout": hp.Float("dropout", 0.3, 0.6, step=0.1),
    }


register(
    "graphsage_node",
    NodeClassifier,
    family="sage",
    task="node_classifier",
    backbone=SAGEBackbone,
    description="Two-layer GraphSAGE (mean) for node classification, full-batch or sampled.",
    tiny=TINY,
    example_inputs=example_inputs,
    search_space=sage_search_space,
    **SAGE_CITATION,
)
