"""Pieces of task heads that several families share."""

from __future__ import annotations

import keras

OUTPUT_ACTIVATIONS = (None, "softmax")


def check_output_activation(output_activation):
    """`None` (logits) or `"softmax"` (probabilities); anything else is an error."""
    if output_activation not in OUTPUT_ACTIVATIONS:
        raise ValueError(
            "`output_activation` must be None (logits) or 'softmax'. "
            f"Received: output_activation={output_activation!r}"
        )
    return output_activation


def classification_head(
    features,
    num_classes: int,
    *,
    dropout: float = 0.0,
    output_activation: str | None = None,
    dtype=None,
    dropout_name: str = "dropout",
):
    """Dropout (when `dropout > 0`) and a float32 dense layer named `"logits"`.

    The last layer computes in float32 under `mixed_float16`, so losses and softmax outputs
    keep full precision.

    Args:
        features: the symbolic `(batch, ..., features)` tensor to classify.
        num_classes: number of classes.
        dropout: dropout rate before the dense layer. Defaults to `0.0`.
        output_activation: `None` for logits or `"softmax"`. Defaults to `None`.
        dtype: dtype policy of the dropout layer. Defaults to the global policy.
        dropout_name: name of the dropout layer. Defaults to `"dropout"`.

    Example:

    ```python
    outputs = classification_head(pooled, 10, dropout=0.1, dtype=policy)
    ```
    """
    if dropout:
        features = keras.layers.Dropout(dropout, name=dropout_name, dtype=dtype)(features)
    return keras.layers.Dense(
        num_classes, activation=output_activation, name="logits", dtype="float32"
    )(features)
