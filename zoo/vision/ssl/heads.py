"""The MLP projection head SimCLR and MoCo v2 put on the encoder's features."""

from __future__ import annotations

import keras


def projection_head(
    feature_dims: int, hidden_dims: int, projection_dims: int, dtype=None, name: str = "head"
) -> keras.Sequential:
    """Dense, BatchNormalization, ReLU, then a float32 Dense to `projection_dims`.

    Args:
        feature_dims: size of the encoder's representation.
        hidden_dims: width of the hidden layer.
        projection_dims: size of the projection the contrastive loss compares.
        dtype: dtype policy of the hidden layers. Defaults to the global policy.
        name: name of the model. Defaults to `"head"`.

    Example:

    ```python
    head = projection_head(64, 64, 32)
    head(features).shape  # (batch, 32)
    ```

    Reference:
        Chen et al., "A Simple Framework for Contrastive Learning of Visual Representations",
        ICML 2020; Chen, Fan, Girshick and He, "Improved Baselines with Momentum Contrastive
        Learning", 2020 (the MLP head of MoCo v2).
    """
    return keras.Sequential(
        [
            keras.Input((feature_dims,)),
            keras.layers.Dense(hidden_dims, use_bias=False, name="hidden", dtype=dtype),
            keras.layers.BatchNormalization(name="hidden_norm", dtype=dtype),
            keras.layers.ReLU(name="hidden_relu", dtype=dtype),
            keras.layers.Dense(projection_dims, name="projection", dtype="float32"),
        ],
        name=name,
    )
