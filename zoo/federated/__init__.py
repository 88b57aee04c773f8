"""Federated learning of Keras 3 models with Flower: partitioning, clients, simulation, processes,
FedProx, secure aggregation (SecAgg+) and DP-FedAvg.

Example:

```python
import zoo
from zoo.federated import partition, simulate

digits = zoo.datasets.load_digits(dtype="float32")
shards = partition(digits.train.x.reshape(-1, 64), digits.train.y, num_clients=10, alpha=0.1)
history = simulate(lambda: zoo.create("mlp_digits"), shards, num_rounds=5, strategy="fedprox",
                   test_data=(digits.test.x.reshape(-1, 64), digits.test.y))
print(history.metric("centralized_accuracy"))
```
"""

from zoo.extras import require_extra

require_extra("flwr", "federated", "Federated learning (`zoo.federated`)")
require_extra("dp_accounting", "federated", "Privacy accounting (`zoo.federated`)")

from zoo.federated.accounting import PrivacyBudget, compute_epsilon  # noqa: E402
from zoo.federated.client import KerasClient  # noqa: E402
from zoo.federated.dp_fedavg import client_mods, with_differential_privacy  # noqa: E402
from zoo.federated.fedprox import ProximalTerm  # noqa: E402
from zoo.federated.history import FederatedHistory  # noqa: E402
from zoo.federated.partition import label_skew, partition, partition_by  # noqa: E402
from zoo.federated.processes import connect, serve  # noqa: E402
from zoo.federated.secagg import CLIENT_MODS, secagg_workflow  # noqa: E402
from zoo.federated.shape_check import RejectMismatchedShapes  # noqa: E402
from zoo.federated.simulation import client_app, server_app, simulate  # noqa: E402
from zoo.federated.strategies import STRATEGIES, make_strategy, weighted_average  # noqa: E402
from zoo.federated.weights import get_weights, set_weights  # noqa: E402

__all__ = [
    "CLIENT_MODS",
    "STRATEGIES",
    "FederatedHistory",
    "KerasClient",
    "PrivacyBudget",
    "ProximalTerm",
    "RejectMismatchedShapes",
    "client_app",
    "client_mods",
    "compute_epsilon",
    "connect",
    "get_weights",
    "label_skew",
    "make_strategy",
    "partition",
    "partition_by",
    "secagg_workflow",
    "serve",
    "server_app",
    "set_weights",
    "simulate",
    "weighted_average",
    "with_differential_privacy",
]
