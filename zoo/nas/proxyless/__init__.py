"""ProxylessNAS (Cai et al. 2019): path-level binarisation with a latency loss."""

from zoo.nas.proxyless.search import (
    ProxylessResult,
    expected_latency,
    latency_loss,
    proxyless_search,
)
from zoo.nas.proxyless.supernet import PROXYLESS_CANDIDATES, ProxylessSupernet, parse_candidate

__all__ = [
    "PROXYLESS_CANDIDATES",
    "ProxylessResult",
    "ProxylessSupernet",
    "expected_latency",
    "latency_loss",
    "parse_candidate",
    "proxyless_search",
]
