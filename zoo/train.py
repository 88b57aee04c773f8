"""`zoo train`: train a registered model and save it with its training curve."""

from __future__ import annotations

import json
import os

import keras

from zoo import registry
from zoo.datasets import fit_to_input, load_digits
from zoo.plots import plot_history


def train(
    model_name: str,
    output_dir: str = "artifacts/train",
    epochs: int = 10,
    batch_size: int = 32,
    seed: int = 0,
    verbose: int = 1,
    **overrides,
) -> dict:
    """Trains a registered model on the built-in digits and saves it.

    Writes `output_dir/<model_name>.keras`, `history.json` and `training_curve.png`.

    Args:
        model_name: a registered model name (`zoo list`).
        output_dir: where the model and its curve go. Defaults to `"artifacts/train"`.
        epochs: training epochs. Defaults to `10`.
        batch_size: batch size. Defaults to `32`.
        seed: seed for the split, initialisation and shuffling. Defaults to `0`.
        verbose: Keras progress bar verbosity. Defaults to `1`.
        **overrides: configuration overrides for `zoo.create`.

    Returns:
        A dict with the test metrics and the written paths.

    Example:

    ```python
    result = train("mlp_digits", epochs=5)
    print(result["test_accuracy"])
    ```
    """
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    keras.utils.set_random_seed(seed)
    model = registry.create(model_name, **overrides)
    digits = load_digits(seed=seed, dtype="float32")
    input_shape = model.input_shape[1:]
    x_train = fit_to_input(digits.train.x, input_shape)
    x_test = fit_to_input(digits.test.x, input_shape)
    history = model.fit(
        x_train,
        digits.train.y,
        validation_data=(x_test, digits.test.y),
        epochs=epochs,
        batch_size=batch_size,
        verbose=verbose,
    )
    metrics = model.evaluate(x_test, digits.test.y, verbose=0, return_dict=True)

    os.makedirs(output_dir, exist_ok=True)
    model_path = os.path.join(output_dir, f"{model_name}.keras")
    model.save(model_path)
    with open(os.path.join(output_dir, "history.json"), "w") as f:
        json.dump(history.history, f, indent=2)
    curve = plot_history(history.history, os.path.join(output_dir, "training_curve.png"))
    return {
        "test_accuracy": float(metrics["accuracy"]),
        "test_loss": float(metrics["loss"]),
        "model_path": model_path,
        "training_curve": curve,
    }
