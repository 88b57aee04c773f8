"""Batch normalization recalibration of an extracted subnet (the paper's step before eval)."""

from __future__ import annotations

import keras
import numpy as np


def recalibrate_batch_norm(model: keras.Model, x, batch_size: int = 512) -> keras.Model:
    """Replaces every batch normalization's moving statistics by those of `x` under `model`.

    A subnet's activations differ from the ones the supernet's shared running statistics
    averaged over, so Once-for-All resets them on a batch of training images before
    evaluating a subnet (Section 3.2). Here each `BatchNormalization` layer gets momentum 0
    for one training-mode pass over the first `batch_size` images of `x`, so its moving mean
    and variance become exactly that batch's statistics; no weight changes.

    Args:
        model: the model (an extracted `OFASubnetClassifier`, or any Keras model).
        x: images to compute the statistics on.
        batch_size: images used (the first ones). Defaults to `512`.

    Returns:
        `model`, recalibrated in place.

    Example:

    ```python
    subnet = recalibrate_batch_norm(ofa.extract_subnet(config), x_train)
    ```
    """
    norms = [
        layer
        for layer in model._flatten_layers(include_self=False)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    momenta = [norm.momentum for norm in norms]
    try:
        for norm in norms:
            norm.momentum = 0.0
        model(np.asarray(x[:batch_size], "float32"), training=True)
    finally:
        for norm, momentum in zip(norms, momenta, strict=True):
            norm.momentum = momentum
    return model
