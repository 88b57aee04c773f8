"""Magnitude pruning for Keras 3 models (Zhu and Gupta 2017).

`prune_low_magnitude(model, target_sparsity, schedule)` wraps Conv2D, DepthwiseConv2D and Dense
layers; `PruningCallback` raises the sparsity along a `PolynomialSparsity` schedule during `fit`;
`strip_pruning` returns the plain model with zero weights for export.
"""

from layers.pruning.callback import PruningCallback, pruned_layers
from layers.pruning.masks import magnitude_mask
from layers.pruning.prune import prune_low_magnitude, sparsity, strip_pruning
from layers.pruning.schedule import PolynomialSparsity
from layers.pruning.wrapper import PruneLowMagnitude

__all__ = [
    "PolynomialSparsity",
    "PruneLowMagnitude",
    "PruningCallback",
    "magnitude_mask",
    "prune_low_magnitude",
    "pruned_layers",
    "sparsity",
    "strip_pruning",
]
