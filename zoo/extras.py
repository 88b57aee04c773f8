"""Optional extras: a clear error naming the extra when one of its packages is missing.

Kept free of TensorFlow imports: the command line imports it before TensorFlow starts.
"""

from __future__ import annotations

import importlib


class MissingExtraError(ImportError):
    """A package of an optional extra is not installed (`zoo` prints it as a user error)."""


def require_extra(module: str, extra: str, purpose: str):
    """Imports `module`, or raises `MissingExtraError` naming the extra that installs it.

    Args:
        module: the module to import, e.g. `"mlflow"`.
        extra: keras-zoo's extra that installs it, e.g. `"tracking"`.
        purpose: what needs it, for the message, e.g. `"MLflow tracking"`.

    Returns:
        The imported module.

    Example:

    ```python
    mlflow = require_extra("mlflow", "tracking", "MLflow tracking")
    ```
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtraError(
            f"{purpose} needs `{module.split('.')[0]}`: pip install 'keras-zoo[{extra}]'. "
            f"Received: {error}"
        ) from error
