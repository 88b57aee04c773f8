"""The bases every zoo model family builds on: `Backbone`, `Task`, `Preprocessor`.

keras-hub's split is the anchor: a backbone is the network (features out), a task puts a head
on a backbone and comes compiled, a preprocessor turns raw inputs into the backbone's inputs in
the graph. All three take their config from their constructor's signature
(`zoo.models.arguments`), so no family writes `get_config` by hand; presets are registry
entries (`zoo.register(..., family=..., task=...)`), built by `from_preset`.
`CONTRIBUTING.md` walks through adding a family.
"""

from zoo.models.arguments import ConstructorConfig, resolve_dtype_policy
from zoo.models.backbone import Backbone
from zoo.models.checkpoint import WeightLoader, check_config
from zoo.models.heads import check_output_activation, classification_head
from zoo.models.preprocessor import Preprocessor
from zoo.models.task import Task

__all__ = [
    "Backbone",
    "ConstructorConfig",
    "Preprocessor",
    "Task",
    "WeightLoader",
    "check_config",
    "check_output_activation",
    "classification_head",
    "resolve_dtype_policy",
]
