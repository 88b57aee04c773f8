"""Neural architecture search: DARTS's candidate operations and `MixedOp`, and the searches.

`zoo.nas.darts` holds DARTS (Liu et al. 2019); `ops` the paper's eight candidate operations;
`MixedOp` one edge's softmax-weighted mixture of them. Importing the package registers the
searched networks' presets (`darts_digits`).
"""

# ruff: noqa: F401  (re-exports)
from zoo.nas import darts
from zoo.nas.darts import (
    DartsNetwork,
    DartsSearchModel,
    Genotype,
    build_from_genotype,
    darts_search,
    derive,
)
from zoo.nas.mixed_op import MixedOp
from zoo.nas.ofa import OFASubnetClassifier, OnceForAll, ProgressiveShrinking
from zoo.nas.ops import OP_NAMES, make_op
from zoo.nas.proxyless import ProxylessSupernet, proxyless_search
