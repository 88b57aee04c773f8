"""A search's resumable state: a list of variables, the epochs done, a fingerprint of the
search's settings and small JSON extras, in one `.npz` file.

The file is written to a temporary name and renamed into place, so a killed run never leaves
half a state. DARTS (`zoo.nas.darts.state`) and ProxylessNAS (`proxyless_search(...,
state_path=...)`) keep their searches here.
"""

from __future__ import annotations

import json
import os

import keras
import numpy as np

_META = ("epoch", "fingerprint", "extra")


def write_search_state(
    variables: list, path: str, epoch: int, fingerprint: str = "", extra: dict | None = None
) -> None:
    """Saves `variables` (Keras or `tf.Variable`s), `epoch` (epochs done), `fingerprint` and
    the JSON-serialisable `extra` to `path`.

    Example:

    ```python
    write_search_state(model.variables, "runs/search_state.npz", epoch=3, fingerprint="lr=0.1")
    ```
    """
    values = {f"v{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(variables)}
    temporary = f"{path}.tmp.npz"
    np.savez(
        temporary,
        epoch=np.int64(epoch),
        fingerprint=np.asarray(fingerprint),
        extra=np.asarray(json.dumps(extra or {})),
        **values,
    )
    os.replace(temporary, path)


def read_search_state(variables: list, path: str, fingerprint: str = "") -> tuple[int, dict]:
    """Restores what `write_search_state` saved into `variables`; returns `(epoch, extra)`.

    A state written before fingerprints were stored has the empty fingerprint.

    Raises:
        ValueError: the state was saved by a search with other settings (another fingerprint)
            or holds other variables (another configuration); the error names the file.
    """
    with np.load(path) as state:
        saved_fingerprint = str(state["fingerprint"]) if "fingerprint" in state.files else ""
        if saved_fingerprint != fingerprint:
            raise ValueError(
                f"The saved search state was written by a search with other settings "
                f"({saved_fingerprint}); this search has ({fingerprint}). Use another output "
                f"directory or the same settings. Received: path={path!r}"
            )
        count = sum(1 for name in state.files if name not in _META)
        if count != len(variables):
            raise ValueError(
                f"The saved search state holds {count} variables but this search has "
                f"{len(variables)}: it was saved by another configuration. Received: path={path!r}"
            )
        values = [state[f"v{i}"] for i in range(count)]
        for variable, value in zip(variables, values, strict=True):
            if tuple(value.shape) != tuple(variable.shape):
                name = getattr(variable, "path", None) or variable.name
                raise ValueError(
                    f"The saved search state's variable {name!r} has shape {value.shape}, the "
                    f"search's {tuple(variable.shape)}: it was saved by another configuration. "
                    f"Received: path={path!r}"
                )
        for variable, value in zip(variables, values, strict=True):
            variable.assign(value)
        extra = json.loads(str(state["extra"])) if "extra" in state.files else {}
        return int(state["epoch"]), extra
