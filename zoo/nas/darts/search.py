"""`darts_search`: a whole, resumable DARTS search, from arrays to a genotype."""

from __future__ import annotations

import json
import os

import keras
import numpy as np

from layers.validation import check_positive_int
from zoo.nas.darts.data import search_batches, steps_per_epoch
from zoo.nas.darts.genotype import Genotype
from zoo.nas.darts.search_model import DartsSearchModel
from zoo.nas.darts.state import STATE_FILE, load_search_state, save_search_state

GENOTYPE_FILE = "genotype.json"


class SaveSearchState(keras.callbacks.Callback):
    """After every epoch: the resumable state, `genotype.json` (the genotype derived so far)
    and the mixing weights in `output`."""

    def __init__(self, output: str):
        super().__init__()
        self.output = output

    def on_epoch_end(self, epoch, logs=None):
        save_search_state(self.model, os.path.join(self.output, STATE_FILE), epoch + 1)
        write_genotype(self.model.derive(), os.path.join(self.output, GENOTYPE_FILE))
        normal, reduce = self.model.mixing_weights()
        np.savez(os.path.join(self.output, "mixing_weights.npz"), normal=normal, reduce=reduce)


def write_genotype(genotype: Genotype, path: str) -> None:
    """Writes `genotype` as JSON (`Genotype.from_json` reads it back)."""
    with open(path, "w") as f:
        json.dump(genotype.to_dict(), f, indent=1)
        f.write("\n")


def darts_search(
    x,
    y,
    *,
    epochs: int = 10,
    batch_size: int = 64,
    output: str | None = None,
    seed: int = 0,
    verbose: int | str = "auto",
    callbacks=None,
    **model_options,
) -> tuple[DartsSearchModel, Genotype]:
    """Runs DARTS on images `x` and labels `y`, split into a weight half and an architecture
    half; resumes from `output` where an earlier run left its state.

    Args:
        x: images `(n, height, width, channels)`, floats.
        y: integer labels `(n,)`.
        epochs: search epochs (in all, counting those of an earlier run). Defaults to `10`.
        batch_size: batch size of each half. Defaults to `64`.
        output: directory for `search_state.npz`, `genotype.json` and `mixing_weights.npz`,
            written after every epoch; a rerun continues from its state. Defaults to `None`
            (nothing saved).
        seed: seed of the split, the shuffles and the alphas. Defaults to `0`.
        verbose: `fit`'s progress output. Defaults to `"auto"`.
        callbacks: more `keras.callbacks` for `fit` (after the one saving the state).
            Defaults to `None`.
        **model_options: `DartsSearchModel` arguments (`channels`, `num_cells`, `unrolled`,
            ...); `num_classes` and `input_shape` default to the data's.

    Returns:
        `(search_model, genotype)`.

    Example:

    ```python
    digits = zoo.datasets.load_digits(dtype="float32")
    model, genotype = darts_search(digits.train.x, digits.train.y, epochs=5, output="runs/darts")
    ```
    """
    check_positive_int("epochs", epochs)
    x = np.asarray(x, dtype="float32")
    y = np.asarray(y)
    if x.ndim != 4:
        raise ValueError(
            f"`x` must be images (n, height, width, channels). Received: x with shape {x.shape}"
        )
    model_options.setdefault("num_classes", int(y.max()) + 1)
    model_options.setdefault("input_shape", x.shape[1:])
    keras.utils.set_random_seed(seed)
    model = DartsSearchModel(seed=seed, **model_options)
    steps = steps_per_epoch(len(x), batch_size)
    model.compile(total_steps=epochs * steps)
    done, user_callbacks, callbacks = 0, list(callbacks or []), []
    if output is not None:
        os.makedirs(output, exist_ok=True)
        state = os.path.join(output, STATE_FILE)
        if os.path.exists(state):
            done = load_search_state(model, state)
        callbacks.append(SaveSearchState(output))
    if done < epochs:
        data = search_batches(x, y, batch_size, seed, epochs=epochs, first_epoch=done)
        model.fit(
            data,
            epochs=epochs,
            initial_epoch=done,
            steps_per_epoch=steps,
            callbacks=callbacks + user_callbacks,
            shuffle=False,  # the batches are already shuffled, per epoch
            verbose=verbose,
        )
    return model, model.derive()
