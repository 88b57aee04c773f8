"""keras-zoo's prebuilt models, agents and training recipes, and the `zoo` command line.

Example:

```python
import zoo

print(zoo.list_models())
model = zoo.create("cnn_digits")
```
"""

from zoo import basic, text, uncertainty, vision
from zoo.huggingface import from_huggingface
from zoo.registry import UnknownModelError, create, get_spec, list_models, register, unregister

__all__ = [
    "UnknownModelError",
    "basic",
    "create",
    "from_huggingface",
    "get_spec",
    "list_models",
    "register",
    "text",
    "uncertainty",
    "unregister",
    "vision",
]
