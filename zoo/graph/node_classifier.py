"""Node classification: a class per node, trained on the nodes of a split mask."""

from __future__ import annotations

import keras

from layers.validation import check_positive_int
from zoo.graph.backbones import check_graph_backbone, copy_inputs
from zoo.models import Task


@keras.saving.register_keras_serializable(package="keras_zoo")
class NodeClassifier(Task):
    """Classifies every node of a graph; the backbone's last layer gives the logits.

    The last graph layer of the backbone is the classifier, `num_classes` wide
    (`output_units`), as in the GCN and GAT papers; the task casts its logits to float32.
    Training data is one graph per step with the split mask as `sample_weight`
    (`Graph.full_batch_dataset("train")`, `NeighborSampler.dataset()`): the loss is the mean
    cross-entropy over the masked nodes (`reduction="mean_with_sample_weight"`) and `accuracy`
    counts only them.

    Args:
        backbone: a graph backbone (`GCNBackbone`, `GATBackbone`, `SAGEBackbone`,
            `GGNNBackbone`) whose `output_units` is `num_classes`; the registry and
            `from_arguments` build it so.
        num_classes: number of node classes. Defaults to `7` (Cora's).
        **kwargs: base `keras.Model` arguments (`name`, `dtype`).

    Example:

    ```python
    graph = zoo.graph.karate_club()
    model = zoo.create("gcn_node", num_features=graph.num_features, num_classes=2)
    model.fit(graph.full_batch_dataset("train"), epochs=50, verbose=0)
    model.evaluate(graph.full_batch_dataset("test"))
    ```

    Reference: Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional
    Networks", ICLR 2017 (the semi-supervised node classification set-up).
    """

    default_learning_rate = 0.01
    default_weight_decay = 5e-4
    metrics_are_weighted = True
    whole_batch_inputs = True  # one graph per step: see `zoo.graph.graph_inputs`

    def __init__(self, backbone, num_classes: int = 7, **kwargs):
        check_graph_backbone(backbone)
        check_positive_int("num_classes", num_classes)
        if getattr(backbone, "output_units", None) != num_classes:
            raise ValueError(
                "The backbone's last layer gives the logits: its `output_units` must be "
                f"`num_classes` ({num_classes}). Received: "
                f"output_units={getattr(backbone, 'output_units', None)!r}"
            )
        dtype = self.dtype_policy_from(kwargs)
        inputs = copy_inputs(backbone)
        embeddings = backbone(inputs)["node_embeddings"]
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(embeddings)
        super().__init__(inputs=inputs, outputs=logits, backbone=backbone, dtype=dtype, **kwargs)

    @classmethod
    def backbone_arguments(cls, task_arguments):
        return {"output_units": task_arguments.get("num_classes", 7)}

    def default_loss(self) -> keras.losses.Loss:
        return keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight"
        )
