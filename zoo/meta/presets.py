"""The meta-learning models' named configurations, registered in the zoo."""

from __future__ import annotations

from zoo.meta.conv4 import Conv4Backbone
from zoo.registry import register


def conv4_search_space(hp) -> dict:
    """Width and depth of `Conv4Backbone`."""
    return {
        "filters": hp.Choice("filters", [32, 64]),
        "num_blocks": hp.Int("num_blocks", 3, 4),
    }


register(
    "protonet_conv4",
    Conv4Backbone,
    family="meta",
    task="backbone",
    description="Conv-4 encoder of Prototypical Networks / MAML for 28x28x1 images (4x64 filters).",
    tiny={"image_size": 8, "filters": 4, "num_blocks": 2},
    search_space=conv4_search_space,
    image_size=28,
    num_channels=1,
)
