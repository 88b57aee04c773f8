"""The small classifiers' named configurations, registered in the zoo."""

from __future__ import annotations

from zoo.basic.cnn import SmallCNNClassifier
from zoo.basic.mlp import MLPClassifier
from zoo.basic.search_spaces import cnn_search_space, mlp_search_space
from zoo.registry import register

register(
    "cnn_digits",
    SmallCNNClassifier,
    family="basic",
    task="classifier",
    search_space=cnn_search_space,
    description="Small CNN for 8x8x1 digits (2 conv stages, 32 and 64 filters).",
    tiny={"filters": (4,)},
    input_shape=(8, 8, 1),
    num_classes=10,
)
register(
    "mlp_digits",
    MLPClassifier,
    family="basic",
    task="classifier",
    search_space=mlp_search_space,
    description="MLP for 8x8 digits flattened to 64 features (2 hidden layers, 128 and 64 units).",
    tiny={"hidden_units": (8,)},
    input_shape=(64,),
    num_classes=10,
)
