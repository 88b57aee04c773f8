"""`KerasFairClassifier`: a Keras binary classifier as a scikit-learn estimator for fairlearn."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf
from sklearn.base import BaseEstimator, ClassifierMixin

from zoo.fairness.inputs import binary_labels


def dense_binary_classifier(
    input_dim: int, hidden_units: Sequence[int] = (16,), learning_rate: float = 0.01
) -> keras.Model:
    """A compiled MLP with one sigmoid output (binary cross-entropy, Adam)."""
    inputs = keras.Input((input_dim,))
    hidden = inputs
    for units in hidden_units:
        hidden = keras.layers.Dense(units, activation="relu")(hidden)
    outputs = keras.layers.Dense(1, activation="sigmoid")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(learning_rate), "binary_crossentropy", jit_compile=False)
    return model


# Fitted estimators of the same arguments share one compiled Keras model (each keeps its own
# weights): a new model per fit would trace its training function again, seconds each time, and
# fairlearn's reductions fit dozens of clones.
_TRAINERS: dict[tuple, tuple[keras.Model, list, list]] = {}
MAX_SHARED_MODELS = 8


class KerasFairClassifier(ClassifierMixin, BaseEstimator):
    """A scikit-learn classifier training a fresh Keras model in `fit`, with `sample_weight`.

    Made for fairlearn's reductions (`ExponentiatedGradient`, `GridSearch`; Agarwal et al.
    2018), which clone the estimator and refit it on reweighted data: `fit(x, y,
    sample_weight)` passes the weights to Keras (rescaled to mean 1, which leaves the weighted
    optimum as it is), `predict` thresholds the probability of class 1 at 0.5. Clones with the same
    arguments train one shared compiled model, reset to the same seeded initial weights and a
    fresh optimizer state before each fit, and keep their own fitted weights (`weights_`); so
    each fit equals a fit of a new model, without tracing a new training function.

    Args:
        build_fn: `build_fn(input_dim) -> compiled keras.Model` with one sigmoid output (or a
            two-class softmax). Defaults to `None`: `dense_binary_classifier` with
            `hidden_units` and `learning_rate`.
        hidden_units: hidden layer widths of the default model. Defaults to `(16,)`.
        learning_rate: Adam's learning rate of the default model. Defaults to `0.01`.
        epochs: passes over the data in each fit (run as one Keras epoch). Defaults to `20`.
        batch_size: batch size. Defaults to `128`.
        seed: seed of the weights and shuffling; each fit starts from it. Defaults to `0`.
        verbose: Keras verbosity. Defaults to `0`.

    Example:

    ```python
    from fairlearn.reductions import DemographicParity, ExponentiatedGradient

    mitigator = ExponentiatedGradient(KerasFairClassifier(epochs=10), DemographicParity())
    mitigator.fit(x, y, sensitive_features=group)
    labels = mitigator.predict(x_test)
    ```
    """

    def __init__(
        self,
        build_fn: Callable[[int], keras.Model] | None = None,
        hidden_units: Sequence[int] = (16,),
        learning_rate: float = 0.01,
        epochs: int = 20,
        batch_size: int = 128,
        seed: int = 0,
        verbose: int = 0,
    ):
        self.build_fn = build_fn
        self.hidden_units = hidden_units
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.seed = seed
        self.verbose = verbose

    def fit(self, x, y, sample_weight=None) -> KerasFairClassifier:
        """Trains a new model on `x`, 0/1 labels `y` and optional non-negative `sample_weight`."""
        x = np.asarray(x, dtype="float32")
        if x.ndim != 2:
            raise ValueError(f"`x` must be 2-D (examples, features). Received: shape {x.shape}")
        labels = binary_labels(y, name="y")
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype="float32")
            if sample_weight.shape != labels.shape or (sample_weight < 0).any():
                raise ValueError(
                    "`sample_weight` must be one non-negative weight per example. "
                    f"Received: shape {sample_weight.shape}, minimum {sample_weight.min()}"
                )
            if sample_weight.mean() > 0:
                sample_weight = sample_weight / sample_weight.mean()
        model = self._trainer(x.shape[1])
        # One endless shuffled pipeline and one Keras epoch of `epochs` passes: the reductions
        # refit many times, and each Keras epoch has a fixed cost (a new iterator, callbacks).
        columns = (x, labels.astype("float32"))
        if sample_weight is not None:
            columns += (sample_weight,)
        data = (
            tf.data.Dataset.from_tensor_slices(columns)
            .shuffle(len(x), seed=self.seed, reshuffle_each_iteration=True)
            .batch(self.batch_size)
            .repeat()
        )
        steps = -(-len(x) // self.batch_size) * self.epochs
        model.fit(data, steps_per_epoch=steps, epochs=1, verbose=self.verbose, shuffle=False)
        self.weights_ = model.get_weights()
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = x.shape[1]
        return self

    def _trainer(self, input_dim: int) -> keras.Model:
        """The shared model of these arguments, reset to its seeded initial state."""
        key = self._key = (
            self.build_fn,
            input_dim,
            tuple(self.hidden_units),
            self.learning_rate,
            self.seed,
        )
        if key not in _TRAINERS:
            keras.utils.set_random_seed(self.seed)
            if self.build_fn is None:
                model = dense_binary_classifier(
                    input_dim, tuple(self.hidden_units), self.learning_rate
                )
            else:
                model = self.build_fn(input_dim)
            model.optimizer.build(model.trainable_variables)
            optimizer_state = [v.numpy() for v in model.optimizer.variables]
            _TRAINERS[key] = (model, model.get_weights(), optimizer_state)
            while len(_TRAINERS) > MAX_SHARED_MODELS:
                _TRAINERS.pop(next(iter(_TRAINERS)))
        model, initial_weights, optimizer_state = _TRAINERS[key]
        model.set_weights(initial_weights)
        for variable, value in zip(model.optimizer.variables, optimizer_state, strict=True):
            variable.assign(value)  # moments and step count start afresh
        keras.utils.set_random_seed(self.seed)
        return model

    def keras_model(self) -> keras.Model:
        """The fitted Keras model (shared by the fits of the same arguments: copy to keep)."""
        model = _TRAINERS[self._key][0]
        model.set_weights(self.weights_)
        return model

    def predict_proba(self, x) -> np.ndarray:
        """`(n, 2)`: the probabilities of class 0 and class 1."""
        model = self.keras_model()
        x = np.asarray(x, dtype="float32")
        # An eager call: `predict` would trace a function for every fitted model, and the
        # reductions fit dozens of them.
        probabilities = np.concatenate(
            [
                keras.ops.convert_to_numpy(model(x[start : start + 8192], training=False))
                for start in range(0, max(len(x), 1), 8192)
            ]
        )
        positive = probabilities[:, 1] if probabilities.shape[-1] == 2 else probabilities[:, 0]
        return np.stack([1.0 - positive, positive], axis=1)

    def predict(self, x) -> np.ndarray:
        """0/1 labels: class 1 where its probability is at least 0.5."""
        return (self.predict_proba(x)[:, 1] >= 0.5).astype("int32")
