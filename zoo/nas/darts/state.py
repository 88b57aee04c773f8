"""A DARTS search's resumable state: every variable of the model and both optimizers, and the
epoch, in one `.npz` file (`zoo.nas.search_state`)."""

from __future__ import annotations

from zoo.nas.search_state import read_search_state, write_search_state

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
    write_search_state(_variables(model), path, epoch)


def load_search_state(model, path: str) -> int:
    """Restores what `save_search_state` wrote into a compiled `model` of the same
    configuration; returns the number of epochs done.

    Raises:
        ValueError: the state holds other variables (another configuration).
    """
    epoch, _ = read_search_state(_variables(model), path)
    return epoch
