"""The DARTS networks' named configurations, registered in the zoo."""

from __future__ import annotations

from zoo.nas.darts.network import DartsNetwork
from zoo.registry import register

# The cell DARTS (second order) found on CIFAR-10: the paper's Figure 4-5 ("DARTS_V2" in its
# code), four nodes per cell.
DARTS_V2 = {
    "normal": [
        ["sep_conv_3x3", 0],
        ["sep_conv_3x3", 1],
        ["sep_conv_3x3", 0],
        ["sep_conv_3x3", 1],
        ["sep_conv_3x3", 1],
        ["skip_connect", 0],
        ["skip_connect", 0],
        ["dil_conv_3x3", 2],
    ],
    "reduce": [
        ["max_pool_3x3", 0],
        ["max_pool_3x3", 1],
        ["skip_connect", 2],
        ["max_pool_3x3", 1],
        ["max_pool_3x3", 0],
        ["skip_connect", 2],
        ["skip_connect", 2],
        ["max_pool_3x3", 1],
    ],
}

# Two nodes whose edges hold every kind of operation: separable and dilated convolutions of
# both sizes, both pools, the identity and (reduction cell, from an input) FactorizedReduce.
TINY_GENOTYPE = {
    "normal": [["sep_conv_3x3", 0], ["skip_connect", 1], ["dil_conv_3x3", 2], ["avg_pool_3x3", 0]],
    "reduce": [["max_pool_3x3", 0], ["skip_connect", 1], ["sep_conv_5x5", 2], ["dil_conv_5x5", 1]],
}

# Three cells: a normal one, then two reductions (the second after a reduction, so its first
# input goes through FactorizedReduce).
_TINY = dict(genotype=TINY_GENOTYPE, image_size=8, channels=4, num_cells=3, num_classes=3)


def darts_search_space(hp) -> dict:
    """Width, depth and dropout of a `DartsNetwork` (the genotype stays the entry's)."""
    return {
        "channels": hp.Choice("channels", [8, 16, 32]),
        "num_cells": hp.Int("num_cells", 3, 8),
        "dropout": hp.Float("dropout", 0.0, 0.3, step=0.1),
    }


register(
    "darts_digits",
    DartsNetwork,
    family="nas",
    task="classifier",
    description="DARTS (second-order, CIFAR-10) cells, 5 cells of width 16, on 8x8x1 digits "
    "upscaled to 16x16.",
    tiny=_TINY,
    search_space=darts_search_space,
    genotype=DARTS_V2,
    input_shape=(8, 8, 1),
    image_size=16,
    num_classes=10,
    channels=16,
    num_cells=5,
)
