"""DARTS (Liu et al. 2019): differentiable search over a cell space.

`DartsSearchModel` is the supernet (a `MixedOp` on every edge of its `SearchCell`s) trained
with `fit` by the bilevel optimisation on `search_batches`; `darts_search` runs a whole,
resumable search; `derive` and `DartsSearchModel.derive` return the discrete `Genotype`;
`build_from_genotype` returns its plain `DartsNetwork` (registered as `darts_digits` with the
paper's cell) and `copy_search_weights` moves supernet weights onto it.
"""

from zoo.nas.darts import presets  # noqa: F401  (registers darts_digits)
from zoo.nas.darts.cells import SearchCell, cell_plan, reduction_cells
from zoo.nas.darts.data import search_batches, split_halves
from zoo.nas.darts.genotype import Genotype, derive, edge_index, num_edges
from zoo.nas.darts.network import DartsNetwork, build_from_genotype, copy_search_weights
from zoo.nas.darts.search import darts_search
from zoo.nas.darts.search_model import DartsSearchModel
from zoo.nas.darts.state import load_search_state, save_search_state

__all__ = [
    "DartsNetwork",
    "DartsSearchModel",
    "Genotype",
    "SearchCell",
    "build_from_genotype",
    "cell_plan",
    "copy_search_weights",
    "darts_search",
    "derive",
    "edge_index",
    "load_search_state",
    "num_edges",
    "reduction_cells",
    "save_search_state",
    "search_batches",
    "split_halves",
]
