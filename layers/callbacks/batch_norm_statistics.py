"""Exact re-estimation of BatchNormalization moving statistics (SWA's `bn_update`)."""

from __future__ import annotations

import contextlib

import keras
import numpy as np

from layers.callbacks.batches import check_batch_size, iterate_inputs


def batch_norm_layers(model: keras.Model) -> list[keras.layers.BatchNormalization]:
    """The trainable `BatchNormalization` layers of `model`, nested models included."""
    return [
        layer
        for layer in model._flatten_layers(include_self=False, recursive=True)
        if isinstance(layer, keras.layers.BatchNormalization) and layer.trainable
    ]


class _RunningMoments:
    """Per-channel count, mean and sum of squared deviations, merged as in Chan et al. 1979."""

    def __init__(self):
        self.count = 0
        self.mean = None
        self.m2 = None

    def update(self, values: np.ndarray, axes: tuple[int, ...]) -> None:
        values = values.astype(np.float64)
        count = int(np.prod([values.shape[a] for a in axes]))
        mean = values.mean(axis=axes)
        m2 = ((values - np.expand_dims(mean, axes)) ** 2).sum(axis=axes)
        if self.mean is None:
            self.count, self.mean, self.m2 = count, mean, m2
            return
        total = self.count + count
        delta = mean - self.mean
        self.mean = self.mean + delta * count / total
        self.m2 = self.m2 + m2 + delta**2 * self.count * count / total
        self.count = total

    @property
    def variance(self) -> np.ndarray:
        # Biased, as BatchNormalization normalises with the biased batch variance.
        return self.m2 / self.count


@contextlib.contextmanager
def _recording_inputs(layers, moments):
    """Makes each layer record the statistics of its inputs while it still runs as usual."""
    for layer, running in zip(layers, moments, strict=True):
        original = layer.call

        def call(inputs, *args, _original=original, _layer=layer, _running=running, **kwargs):
            axis = _layer.axis % len(inputs.shape)
            axes = tuple(i for i in range(len(inputs.shape)) if i != axis)
            _running.update(keras.ops.convert_to_numpy(inputs), axes)
            return _original(inputs, *args, **kwargs)

        layer.call = call
    try:
        yield
    finally:
        for layer in layers:
            # The wrapper is an instance attribute; removing it exposes the class's `call` again.
            del layer.call


def recompute_batch_norm_statistics(model: keras.Model, data, batch_size: int = 32) -> int:
    """Sets BatchNormalization moving statistics to exact averages over `data`.

    One pass over `data` with the model in training mode, as in the SWA paper's `bn_update`: every
    trainable `BatchNormalization` layer records the inputs it receives (normalised upstream with
    batch statistics, as in training) and its `moving_mean` and `moving_variance` become the exact
    mean and (biased) variance over all of them, not an exponential average.

    Args:
        model: a built Keras model.
        data: input data: a NumPy array (or structure), a tuple whose first element is the
            inputs, or a `tf.data.Dataset` of inputs or `(inputs, targets, ...)` tuples.
        batch_size: batch size used to split arrays. Defaults to `32`.

    Returns:
        The number of BatchNormalization layers updated.

    Example:

    ```python
    recompute_batch_norm_statistics(model, x_train)
    ```

    Reference: Izmailov et al., "Averaging Weights Leads to Wider Optima and Better
    Generalization", UAI 2018.
    """
    check_batch_size(batch_size)
    layers = batch_norm_layers(model)
    if not layers:
        return 0
    moments = [_RunningMoments() for _ in layers]
    with _recording_inputs(layers, moments):
        for batch in iterate_inputs(data, batch_size):
            model(batch, training=True)
    for layer, running in zip(layers, moments, strict=True):
        if running.mean is None:
            raise ValueError("`data` yielded no batches; cannot re-estimate BatchNormalization.")
        layer.moving_mean.assign(running.mean.astype(layer.moving_mean.dtype))
        layer.moving_variance.assign(running.variance.astype(layer.moving_variance.dtype))
    return len(layers)
