"""Named gated graph neural network configurations, registered in the zoo."""

from __future__ import annotations

from zoo.graph.ggnn.backbone import GGNNBackbone
from zoo.graph.graph_classifier import GraphClassifier
from zoo.graph.inputs import example_inputs
from zoo.registry import register

# Graph classification on `cycles_vs_trees` (one constant feature per node): telling a tree
# from a unicyclic graph of the same size takes counts (a tree has one edge fewer than nodes),
# which a sum readout keeps and a softmax-attention readout normalises away.
GGNN_GRAPH = dict(num_features=1, num_classes=2, units=32, num_steps=4, pooling="sum")

TINY = dict(num_features=3, units=4, num_steps=2, num_edge_types=2, pooling="attention")


def ggnn_search_space(hp) -> dict:
    """State width, propagation steps and readout."""
    return {
        "units": hp.Choice("units", [16, 32, 64]),
        "num_steps": hp.Int("num_steps", 2, 6, step=2),
        "pooling": hp.Choice("pooling", ["sum", "attention", "mean", "max"]),
    }


register(
    "ggnn_graph",
    GraphClassifier,
    family="ggnn",
    task="graph_classifier",
    backbone=GGNNBackbone,
    description="Gated graph neural network with a readout, for graph classification.",
    tiny=TINY,
    example_inputs=example_inputs,
    search_space=ggnn_search_space,
    **GGNN_GRAPH,
)
