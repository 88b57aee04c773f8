"""A DARTS search's resumable state: every variable of the model and both optimizers, and the
epoch, in one `.npz` file (written to a temporary file, then renamed, so a killed run never
leaves half a state)."""

from __future__ import annotations

import os

import keras
import numpy as np

STATE_FILE = "search_state.npz"


def _variables(model) -> list:
    return [*model.variables, *model.optimizer.variables, *model.arch_optimizer.variables]


def save_search_state(model, path: str, epoch: int) -> None:
    """Saves the weights, alphas, both optimizers' states and `epoch` (epochs done) to `path`.

    Example:

    ```python
    save_search_state(model, "runs/darts/search_state.npz", epoch=3)
    ```
    """
    values = {f"v{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(_variables(model))}
    temporary = f"{path}.tmp.npz"
    np.savez(temporary, epoch=np.int64(epoch), **values)
    os.replace(temporary, path)


def load_search_state(model, path: str) -> int:
    """Restores what `save_search_state` wrote into a compiled `model` of the same
    configuration; returns the number of epochs done.

    Raises:
        ValueError: the state holds other variables (another configuration).
    """
    with np.load(path) as state:
        variables = _variables(model)
        count = len(state.files) - 1
        if count != len(variables):
            raise ValueError(
                f"The saved search state holds {count} variables but this search has "
                f"{len(variables)}: it was saved by another configuration. Received: path={path!r}"
            )
        for i, variable in enumerate(variables):
            value = state[f"v{i}"]
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(
                    f"The saved search state's variable {variable.path!r} has shape "
                    f"{value.shape}, the search's {tuple(variable.shape)}: it was saved by "
                    f"another configuration. Received: path={path!r}"
                )
            variable.assign(value)
        return int(state["epoch"])
