"""Quality of counterfactual explanations: validity, proximity, sparsity and diversity.

The distances are those of the search (`zoo.explain.counterfactuals`): feature differences divided
by each feature's median absolute deviation (MAD) over reference data, Wachter et al. 2017's
normalisation, so that a feature measured in thousands and one measured in fractions count alike.

References: Wachter, Mittelstadt & Russell 2017, "Counterfactual Explanations without Opening the
Black Box"; Mothilal, Sharma & Tan 2020, "Explaining Machine Learning Classifiers through Diverse
Counterfactual Explanations" (DiCE).
"""

from __future__ import annotations

import keras
import numpy as np


def median_absolute_deviation(data, feature_shape) -> np.ndarray:
    """Each feature's MAD over `data`, 1 where it is 0 or `data` is None, flattened to `[F]`.

    Args:
        data: reference examples `[N, ...features]` (training data), or `None`.
        feature_shape: the shape of one example.

    Returns:
        float32 `[F]`, `F = prod(feature_shape)`: the scale of each feature in the distances.
    """
    num_features = int(np.prod(feature_shape))
    if data is None:
        return np.ones(num_features, "float32")
    data = np.asarray(data, dtype="float32")
    if data.ndim < 2 or tuple(data.shape[1:]) != tuple(feature_shape) or len(data) == 0:
        raise ValueError(
            f"`data` must be a non-empty batch of examples of shape {tuple(feature_shape)}. "
            f"Received: data.shape={data.shape}"
        )
    flat = data.reshape(len(data), -1)
    mad = np.median(np.abs(flat - np.median(flat, axis=0)), axis=0)
    # A constant feature has MAD 0; DiCE and Wachter et al. fall back to unit scale.
    return np.where(mad > 0, mad, 1.0).astype("float32")


def predicted_classes(outputs, from_logits: bool) -> np.ndarray:
    """Class predictions of `[B, K]` outputs; `[B, 1]` outputs are one binary (sigmoid) unit."""
    outputs = np.asarray(outputs)
    if outputs.shape[-1] == 1:
        threshold = 0.0 if from_logits else 0.5
        return (outputs[:, 0] > threshold).astype("int64")
    return outputs.argmax(-1)


def dpp_diversity(candidates_scaled) -> float:
    """DiCE's determinantal diversity: det(K), K_ij = 1 / (1 + L1 distance of i and j)."""
    flat = np.asarray(candidates_scaled, dtype="float64").reshape(len(candidates_scaled), -1)
    distances = np.abs(flat[:, None] - flat[None]).sum(-1)
    return float(np.linalg.det(1.0 / (1.0 + distances)))


def counterfactual_metrics(
    model,
    x,
    candidates,
    target_class: int,
    data=None,
    from_logits: bool = False,
    tolerance: float = 1e-6,
) -> dict[str, float]:
    """Validity, proximity, sparsity and diversity of counterfactuals of one example.

    Args:
        model: the classifier the counterfactuals were searched for.
        x: the explained example, `[...features]`.
        candidates: counterfactuals `[num, ...features]` (what `counterfactuals` returns).
        target_class: the class they should be predicted as.
        data: reference data for the MAD scale (as given to the search); `None` for unit scale.
            Defaults to `None`.
        from_logits: whether `model` outputs logits (only matters for a one-unit binary output).
            Defaults to `False`.
        tolerance: a feature counts as changed where `|x' - x| > tolerance`. Defaults to `1e-6`.

    Returns:
        dict with `validity` (fraction of candidates predicted as `target_class`),
        `proximity_l1` and `proximity_l2` (mean MAD-scaled L1 and L2 distance to `x`),
        `sparsity` (mean number of features changed), `diversity` (mean pairwise MAD-scaled L1
        distance between candidates, 0 for one) and `dpp_diversity` (det of DiCE's kernel:
        0 for duplicates, 1 for candidates far apart; 1 for a single candidate).

    Example:

    ```python
    found = counterfactuals(model, x, target_class=1, num=4, data=x_train)
    counterfactual_metrics(model, x, found, target_class=1, data=x_train)
    # {'validity': 1.0, 'proximity_l1': 0.8, 'sparsity': 2.5, 'diversity': 1.1, ...}
    ```
    """
    x = np.asarray(x, dtype="float32")
    candidates = np.asarray(candidates, dtype="float32")
    if candidates.ndim < 1 or candidates.shape[1:] != x.shape:
        raise ValueError(
            "`candidates` must have shape [num, *x.shape]. "
            f"Received: candidates.shape={candidates.shape}, x.shape={x.shape}"
        )
    scale = median_absolute_deviation(data, x.shape)
    scaled = (candidates.reshape(len(candidates), -1) - x.reshape(1, -1)) / scale
    outputs = keras.ops.convert_to_numpy(model(candidates, training=False))
    valid = predicted_classes(outputs, from_logits) == target_class
    pairwise = np.abs(scaled[:, None] - scaled[None]).sum(-1)
    num = len(candidates)
    return {
        "validity": float(valid.mean()),
        "proximity_l1": float(np.abs(scaled).sum(-1).mean()),
        "proximity_l2": float(np.sqrt((scaled**2).sum(-1)).mean()),
        "sparsity": float((np.abs(candidates - x) > tolerance).reshape(num, -1).sum(-1).mean()),
        "diversity": float(pairwise.sum() / (num * (num - 1))) if num > 1 else 0.0,
        "dpp_diversity": dpp_diversity(scaled),
    }
