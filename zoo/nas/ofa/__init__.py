"""Once-for-All (Cai et al. 2020): an elastic supernet, progressive shrinking and search."""

from zoo.nas.ofa import presets  # noqa: F401  (registers the tiny subnet entry)
from zoo.nas.ofa.elastic import ElasticInvertedResidual
from zoo.nas.ofa.search import SearchResult, evolutionary_search, search, smallest_latency
from zoo.nas.ofa.shrinking import ProgressiveShrinking
from zoo.nas.ofa.subnet import OFASubnetClassifier
from zoo.nas.ofa.supernet import PHASES, OnceForAll

__all__ = [
    "PHASES",
    "ElasticInvertedResidual",
    "OFASubnetClassifier",
    "OnceForAll",
    "ProgressiveShrinking",
    "SearchResult",
    "evolutionary_search",
    "search",
    "smallest_latency",
]
