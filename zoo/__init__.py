"""keras-zoo's prebuilt models, agents and training recipes, and the `zoo` command line.

Example:

```python
import zoo

print(zoo.list_models())
model = zoo.create("cnn_digits")
```

Packages that need an optional extra are imported by name: `import zoo.federated` (the
`federated` extra: Flower, dp-accounting).

TensorFlow's start-up lines (CUDA probing on a machine without a GPU) are held back while it is
imported here; `zoo.tensorflow_logs.STARTUP_LINES` has them and `zoo --verbose` prints them.
"""

from zoo.tensorflow_logs import import_tensorflow_quietly

import_tensorflow_quietly()

from zoo import (  # noqa: E402  (after the quiet import)
    basic,
    continual,
    explain,
    fairness,
    graph,
    meta,
    nas,
    text,
    tracking,
    uncertainty,
    vision,
)
from zoo.huggingface import from_huggingface  # noqa: E402
from zoo.registry import (  # noqa: E402
    UnknownModelError,
    create,
    get_spec,
    list_models,
    register,
    unregister,
)

__all__ = [
    "UnknownModelError",
    "basic",
    "continual",
    "create",
    "explain",
    "fairness",
    "from_huggingface",
    "get_spec",
    "graph",
    "list_models",
    "meta",
    "nas",
    "register",
    "text",
    "tracking",
    "uncertainty",
    "unregister",
    "vision",
]
