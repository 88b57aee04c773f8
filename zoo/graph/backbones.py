"""What the graph tasks need from any graph backbone."""

from __future__ import annotations

import keras

from zoo.models import Backbone


def check_graph_backbone(backbone) -> Backbone:
    """A `zoo.models.Backbone` with graph inputs and a `"node_embeddings"` output."""
    names = set(getattr(backbone, "input", None) or ()) if isinstance(backbone, Backbone) else set()
    if not {"node_features", "edge_index"} <= names or "node_embeddings" not in backbone.output:
        raise TypeError(
            "`backbone` must be a graph backbone (GCNBackbone, GATBackbone, SAGEBackbone, "
            "GGNNBackbone: inputs `node_features` and `edge_index`, output `node_embeddings`). "
            f"Received: backbone={backbone!r}"
        )
    return backbone


def copy_inputs(backbone: Backbone) -> dict:
    """Fresh symbolic inputs shaped like the backbone's, for a task model around it."""
    return {
        name: keras.Input(batch_shape=tensor.shape, dtype=tensor.dtype, name=name)
        for name, tensor in backbone.input.items()
    }
