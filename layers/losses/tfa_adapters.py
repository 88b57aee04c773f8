"""TensorFlow Addons' focal, contrastive and triplet losses under TFA's names and arguments.

Adapters, not new math: the focal loss is Keras's `binary_focal_crossentropy` (TFA sums over the
last axis where Keras averages, and always balances classes with `alpha`); the contrastive
loss is `layers.losses.ContrastiveLoss` (already TFA's, re-exported under the same name);
the triplet losses are `layers.losses.TripletLoss`'s mining with TFA's argument names
(`distance_metric="L2"`, `"squared-L2"`, `"angular"` or a callable) and TFA's soft-margin
option for the hard loss.
"""

from __future__ import annotations

import numbers

import keras
from keras import ops

from layers.losses.contrastive import ContrastiveLoss
from layers.losses.triplet import (
    TripletLoss,
    hard_triplet_loss,
    masked_maximum,
    masked_minimum,
    pairwise_distances,
    semi_hard_triplet_loss,
)
from layers.validation import check_bool

__all__ = [
    "ContrastiveLoss",
    "SigmoidFocalCrossEntropy",
    "TripletHardLoss",
    "TripletSemiHardLoss",
    "contrastive_loss",
    "sigmoid_focal_crossentropy",
    "triplet_hard_loss",
    "triplet_semihard_loss",
]

TFA_DISTANCES = {"L2": "euclidean", "squared-L2": "squared_euclidean", "angular": "cosine"}


# --------------------------------------------------------------------------------------------
# Sigmoid focal cross-entropy
# --------------------------------------------------------------------------------------------


def _check_focal_arguments(alpha, gamma):
    for name, value in (("alpha", alpha), ("gamma", gamma)):
        if value is not None and (not isinstance(value, numbers.Real) or isinstance(value, bool)):
            raise TypeError(f"`{name}` must be a number or None. Received: {name}={value!r}")
    if gamma is not None and gamma < 0:
        raise ValueError(f"`gamma` must be non-negative. Received: gamma={gamma!r}")


def sigmoid_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False):
    """Focal loss per example, as TensorFlow Addons' `tfa.losses.sigmoid_focal_crossentropy`.

    `sum over the last axis of alpha_t * (1 - p_t) ** gamma * binary_cross_entropy`, with
    `p_t` the probability of the true label and `alpha_t = alpha` for positives, `1 - alpha`
    for negatives. A falsy `alpha` (0 or `None`) turns the balancing off and a falsy `gamma`
    the modulation, as in TFA. Computed by Keras's `keras.losses.binary_focal_crossentropy`
    (which averages over the last axis: multiplied back by its size here).

    Args:
        y_true: binary targets.
        y_pred: probabilities, or logits with `from_logits=True`.
        alpha: balancing factor of the positives. Defaults to `0.25`.
        gamma: non-negative focusing exponent. Defaults to `2.0`.
        from_logits: whether `y_pred` holds logits. Defaults to `False`.

    Returns:
        The loss per example, shape `y_pred.shape[:-1]`.

    Example:

    ```python
    sigmoid_focal_crossentropy([[1.0], [1.0], [0.0]], [[0.97], [0.91], [0.03]])
    # [6.8532745e-06, 1.9097870e-04, 2.0559824e-05]
    ```

    Reference:
        Lin, Goyal, Girshick, He, Dollar, "Focal Loss for Dense Object Detection", ICCV 2017.
    """
    _check_focal_arguments(alpha, gamma)
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    mean = keras.losses.binary_focal_crossentropy(
        y_true,
        y_pred,
        apply_class_balancing=bool(alpha),
        alpha=float(alpha or 0.0),
        gamma=float(gamma or 0.0),
        from_logits=from_logits,
    )
    return mean * ops.cast(ops.shape(y_pred)[-1], mean.dtype)


@keras.saving.register_keras_serializable(package="keras_zoo")
class SigmoidFocalCrossEntropy(keras.losses.Loss):
    """Sigmoid focal cross-entropy, TensorFlow Addons' `SigmoidFocalCrossEntropy`.

    Keras's `keras.losses.BinaryFocalCrossentropy` with TFA's defaults: class balancing on
    (`alpha=0.25`), a sum (not a mean) over the last axis, and no reduction (one loss per
    example). See `sigmoid_focal_crossentropy`.

    Args:
        from_logits: whether `y_pred` holds logits. Defaults to `False`.
        alpha: balancing factor of the positives (`None` or 0: no balancing). Defaults to
            `0.25`.
        gamma: non-negative focusing exponent. Defaults to `2.0`.
        reduction: keras loss reduction. Defaults to `"none"` (TFA's).
        name: name of the loss. Defaults to `"sigmoid_focal_crossentropy"`.
        dtype: dtype of the computation. Defaults to `None` (`keras.backend.floatx()`).

    Example:

    ```python
    model.compile("sgd", loss=SigmoidFocalCrossEntropy(reduction="sum_over_batch_size"))
    ```

    Reference:
        Lin, Goyal, Girshick, He, Dollar, "Focal Loss for Dense Object Detection", ICCV 2017.
    """

    def __init__(
        self,
        from_logits: bool = False,
        alpha=0.25,
        gamma=2.0,
        reduction: str = "none",
        name: str = "sigmoid_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        _check_focal_arguments(alpha, gamma)
        self.from_logits = check_bool("from_logits", from_logits)
        self.alpha = alpha
        self.gamma = gamma
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        return sigmoid_focal_crossentropy(
            y_true, y_pred, self.alpha, self.gamma, from_logits=self.from_logits
        )

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "alpha": self.alpha,
            "gamma": self.gamma,
            "dtype": self._dtype_argument,
        }


# --------------------------------------------------------------------------------------------
# Contrastive loss
# --------------------------------------------------------------------------------------------


def contrastive_loss(y_true, y_pred, margin=1.0):
    """Contrastive loss per pair, as TensorFlow Addons' `tfa.losses.contrastive_loss`.

    `y_true * y_pred ** 2 + (1 - y_true) * max(margin - y_pred, 0) ** 2`, computed by
    `layers.losses.ContrastiveLoss` without a reduction.

    Args:
        y_true: 1 for similar pairs, 0 for dissimilar ones, `(batch,)`.
        y_pred: pair distances `(batch,)`.
        margin: non-negative margin. Defaults to `1.0`.

    Returns:
        The loss per pair, the shape of `y_pred`.

    Example:

    ```python
    contrastive_loss([1, 0], [0.2, 0.5])  # [0.04, 0.25]
    ```

    Reference:
        Hadsell, Chopra, LeCun, "Dimensionality Reduction by Learning an Invariant Mapping",
        CVPR 2006.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    if not keras.backend.is_float_dtype(y_pred.dtype):
        y_pred = ops.cast(y_pred, "float32")
    return ContrastiveLoss(margin=margin, reduction="none").call(y_true, y_pred)


# --------------------------------------------------------------------------------------------
# Triplet losses
# --------------------------------------------------------------------------------------------


def _check_distance_metric(distance_metric):
    if callable(distance_metric):
        return distance_metric
    if distance_metric not in TFA_DISTANCES:
        raise ValueError(
            f"`distance_metric` must be one of {list(TFA_DISTANCES)} or a callable. "
            f"Received: distance_metric={distance_metric!r}"
        )
    return distance_metric


def _distances(embeddings, distance_metric):
    if callable(distance_metric):
        return distance_metric(embeddings)
    return pairwise_distances(embeddings, TFA_DISTANCES[distance_metric])


def _hard_or_soft_loss(labels, distances, margin, soft):
    if not soft:
        return hard_triplet_loss(labels, distances, margin)
    same = ops.cast(ops.expand_dims(labels, 1) == ops.expand_dims(labels, 0), distances.dtype)
    positives = same - ops.eye(ops.shape(labels)[0], dtype=distances.dtype)
    gaps = masked_maximum(distances, positives) - masked_minimum(distances, 1.0 - same)
    return ops.mean(ops.softplus(gaps))


def _triplet_function(y_true, y_pred, loss_fn):
    embeddings = ops.convert_to_tensor(y_pred)
    if len(embeddings.shape) != 2:
        raise ValueError(
            "`y_pred` must be embeddings of shape (batch, dim). "
            f"Received: y_pred.shape={tuple(embeddings.shape)}"
        )
    dtype = embeddings.dtype
    if dtype in ("float16", "bfloat16"):
        embeddings = ops.cast(embeddings, "float32")
    labels = ops.reshape(ops.convert_to_tensor(y_true), (-1,))
    return ops.cast(loss_fn(labels, embeddings), dtype)


def triplet_semihard_loss(y_true, y_pred, margin=1.0, distance_metric="L2"):
    """Triplet loss with semi-hard mining, as TensorFlow Addons' `tfa.losses.triplet_semihard_loss`.

    See `layers.losses.TripletLoss` (`strategy="semi_hard"`); half-precision embeddings are
    computed in float32 and the result cast back.

    Args:
        y_true: integer labels `(batch,)`.
        y_pred: embeddings `(batch, dim)`, usually L2-normalised.
        margin: the margin. Defaults to `1.0`.
        distance_metric: `"L2"`, `"squared-L2"`, `"angular"` (`1 - cos`) or a callable from
            embeddings to a `(batch, batch)` distance matrix. Defaults to `"L2"`.

    Returns:
        The loss, a scalar.

    Example:

    ```python
    triplet_semihard_loss([0, 0, 1, 1], keras.ops.normalize(embeddings))
    ```

    Reference:
        Schroff, Kalenichenko, Philbin, "FaceNet: A Unified Embedding for Face Recognition and
        Clustering", CVPR 2015.
    """
    _check_distance_metric(distance_metric)
    return _triplet_function(
        y_true,
        y_pred,
        lambda labels, x: semi_hard_triplet_loss(labels, _distances(x, distance_metric), margin),
    )


def triplet_hard_loss(y_true, y_pred, margin=1.0, soft=False, distance_metric="L2"):
    """Batch-hard triplet loss, as TensorFlow Addons' `tfa.losses.triplet_hard_loss`.

    Each anchor's farthest positive against its closest negative: the mean of
    `max(d_ap - d_an + margin, 0)`, or of `log(1 + exp(d_ap - d_an))` with `soft=True` (the
    margin is then unused).

    Args:
        y_true: integer labels `(batch,)`.
        y_pred: embeddings `(batch, dim)`, usually L2-normalised.
        margin: the margin. Defaults to `1.0`.
        soft: use the soft margin. Defaults to `False`.
        distance_metric: `"L2"`, `"squared-L2"`, `"angular"` or a callable. Defaults to `"L2"`.

    Returns:
        The loss, a scalar.

    Example:

    ```python
    triplet_hard_loss([0, 0], [[0.0, 1.0], [1.0, 0.0]])  # 1.0
    ```

    Reference:
        Hermans, Beyer, Leibe, "In Defense of the Triplet Loss for Person Re-Identification",
        2017.
    """
    _check_distance_metric(distance_metric)
    check_bool("soft", soft)
    return _triplet_function(
        y_true,
        y_pred,
        lambda labels, x: _hard_or_soft_loss(labels, _distances(x, distance_metric), margin, soft),
    )


class _TFATripletLoss(TripletLoss):
    """`TripletLoss` under TFA's arguments; subclasses choose the mining."""

    _STRATEGY = "semi_hard"
    _DEFAULT_NAME = "triplet_loss"

    def __init__(self, margin=1.0, distance_metric="L2", name=None, **kwargs):
        unknown = set(kwargs) - {"reduction", "dtype", "jit_compile"}
        if unknown:
            raise TypeError(f"Unexpected keyword arguments: {sorted(unknown)}")
        self.distance_metric = _check_distance_metric(distance_metric)
        super().__init__(
            margin=margin,
            strategy=self._STRATEGY,
            name=name or self._DEFAULT_NAME,
            reduction=kwargs.get("reduction", "none"),
            dtype=kwargs.get("dtype"),
            jit_compile=kwargs.get("jit_compile", True),
        )

    def get_config(self):
        config = keras.losses.Loss.get_config(self)
        distance_metric = self.distance_metric
        if callable(distance_metric):
            distance_metric = keras.saving.serialize_keras_object(distance_metric)
        return {
            **config,
            "margin": self.margin,
            "distance_metric": distance_metric,
            "dtype": self._dtype_argument,
            "jit_compile": self.jit_compile,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("distance_metric"), dict):
            config["distance_metric"] = keras.saving.deserialize_keras_object(
                config["distance_metric"]
            )
        return cls(**config)


@keras.saving.register_keras_serializable(package="keras_zoo")
class TripletSemiHardLoss(_TFATripletLoss):
    """Triplet loss with semi-hard mining, TensorFlow Addons' `TripletSemiHardLoss`.

    `layers.losses.TripletLoss(strategy="semi_hard")` under TFA's arguments: for each
    anchor-positive pair, the closest negative farther than the positive (the farthest
    negative if none is). A batch without any positive pair gives 0 (TFA gave NaN).

    Args:
        margin: non-negative margin. Defaults to `1.0`.
        distance_metric: `"L2"`, `"squared-L2"`, `"angular"` or a callable from embeddings to a
            `(batch, batch)` distance matrix (register it with
            `keras.saving.register_keras_serializable` to save the loss). Defaults to `"L2"`.
        name: name of the loss. Defaults to `"triplet_semihard_loss"`.
        **kwargs: `reduction` (default `"none"`, TFA's; the loss is a scalar), `dtype`,
            `jit_compile` (see `TripletLoss`).

    Call arguments:
        y_true: integer labels `(batch,)` or `(batch, 1)`.
        y_pred: embeddings `(batch, dim)`, usually L2-normalised.

    Example:

    ```python
    model.compile("adam", loss=TripletSemiHardLoss(margin=0.5))
    ```

    Reference:
        Schroff, Kalenichenko, Philbin, "FaceNet: A Unified Embedding for Face Recognition and
        Clustering", CVPR 2015.
    """

    _STRATEGY = "semi_hard"
    _DEFAULT_NAME = "triplet_semihard_loss"

    def _batch_loss(self, labels, embeddings):
        distances = _distances(embeddings, self.distance_metric)
        return semi_hard_triplet_loss(labels, distances, self.margin)


@keras.saving.register_keras_serializable(package="keras_zoo")
class TripletHardLoss(_TFATripletLoss):
    """Batch-hard triplet loss, TensorFlow Addons' `TripletHardLoss`.

    `layers.losses.TripletLoss(strategy="hard")` under TFA's arguments, with TFA's soft-margin
    option (`log(1 + exp(d_ap - d_an))`).

    Args:
        margin: non-negative margin. Defaults to `1.0`.
        soft: use the soft margin. Defaults to `False`.
        distance_metric: `"L2"`, `"squared-L2"`, `"angular"` or a callable. Defaults to `"L2"`.
        name: name of the loss. Defaults to `"triplet_hard_loss"`.
        **kwargs: `reduction` (default `"none"`), `dtype`, `jit_compile`.

    Call arguments:
        y_true: integer labels `(batch,)` or `(batch, 1)`.
        y_pred: embeddings `(batch, dim)`, usually L2-normalised.

    Example:

    ```python
    model.compile("adam", loss=TripletHardLoss(margin=0.3, soft=True))
    ```

    Reference:
        Hermans, Beyer, Leibe, "In Defense of the Triplet Loss for Person Re-Identification",
        2017.
    """

    _STRATEGY = "hard"
    _DEFAULT_NAME = "triplet_hard_loss"

    def __init__(self, margin=1.0, soft=False, distance_metric="L2", name=None, **kwargs):
        self.soft = check_bool("soft", soft)
        super().__init__(margin=margin, distance_metric=distance_metric, name=name, **kwargs)

    def _batch_loss(self, labels, embeddings):
        distances = _distances(embeddings, self.distance_metric)
        return _hard_or_soft_loss(labels, distances, self.margin, self.soft)

    def get_config(self):
        return {**super().get_config(), "soft": self.soft}
