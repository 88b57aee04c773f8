"""A demographic-parity or equalized-odds penalty added to a Keras model's training loss."""

from __future__ import annotations

import keras
from keras import ops

from layers.callbacks.loss_terms import LossTermCallback
from layers.validation import check_choice, check_non_negative_float

CONSTRAINTS = ("demographic_parity", "equalized_odds")


def positive_probability(y_pred, from_logits: bool = False):
    """The predicted probability of class 1 from a `(n, 1)` sigmoid or `(n, 2)` softmax output."""
    if len(y_pred.shape) == 2 and y_pred.shape[-1] == 2:
        return ops.softmax(y_pred)[:, 1] if from_logits else y_pred[:, 1]
    if len(y_pred.shape) == 2 and y_pred.shape[-1] == 1:
        y_pred = y_pred[:, 0]
    elif len(y_pred.shape) != 1:
        raise ValueError(
            "The model must output one sigmoid `(n, 1)` or a two-class softmax `(n, 2)`. "
            f"Received: predictions of shape {tuple(y_pred.shape)}"
        )
    return ops.sigmoid(y_pred) if from_logits else y_pred


def group_mean_gap(values, group, mask):
    """`|mean(values | group=1, mask) - mean(values | group=0, mask)|`, 0 if a side is empty."""
    in_one = group * mask
    in_zero = (1.0 - group) * mask
    count_one, count_zero = ops.sum(in_one), ops.sum(in_zero)
    mean_one = ops.sum(values * in_one) / ops.maximum(count_one, 1.0)
    mean_zero = ops.sum(values * in_zero) / ops.maximum(count_zero, 1.0)
    both = ops.cast((count_one > 0) & (count_zero > 0), values.dtype)
    return ops.abs(mean_one - mean_zero) * both


def fairness_gap(constraint: str, probabilities, labels, group):
    """The batch's soft disparity: predicted probabilities in place of decisions.

    `demographic_parity`: the gap in mean predicted probability between the groups (the soft
    selection-rate gap). `equalized_odds`: that gap among the positives plus among the negatives
    (soft true- and false-positive-rate gaps).
    """
    if constraint == "demographic_parity":
        return group_mean_gap(probabilities, group, ops.ones_like(probabilities))
    positives = ops.cast(labels > 0.5, probabilities.dtype)
    return group_mean_gap(probabilities, group, positives) + group_mean_gap(
        probabilities, group, 1.0 - positives
    )


@keras.saving.register_keras_serializable(package="keras_zoo")
class FairnessPenalty(LossTermCallback):
    """Adds `weight * disparity` to the training loss of a binary classifier during `fit`.

    The disparity is computed on each batch from the predicted probabilities (a differentiable
    relaxation of the selection and error rates; cf. Zafar et al. 2017, Bechavod & Ligett 2017):
    for `demographic_parity`, `|E[p | a=1] - E[p | a=0]|`; for `equalized_odds`, the same gap
    among the examples with label 1 plus among those with label 0. The sensitive attribute `a`
    (0 or 1) reaches the loss through the inputs: a column of a 2-D input array, or an entry of
    a dict of inputs; the model itself may use it or not. Batches should hold both groups
    (shuffle, and batches of a few dozen or more): a batch with one group adds nothing.

    Args:
        sensitive: where `a` is in the inputs: a column index of the input array (default `-1`,
            the last column) or a key of the input dict.
        constraint: `"demographic_parity"` or `"equalized_odds"`. Defaults to
            `"demographic_parity"`.
        weight: the penalty's weight (0 trains without it). Defaults to `1.0`.
        from_logits: the model outputs logits rather than probabilities. Defaults to `False`.

    Example:

    ```python
    x = np.concatenate([features, sensitive[:, None]], axis=1)
    model.fit(x, y, batch_size=128, epochs=20, callbacks=[FairnessPenalty(-1, weight=3.0)])
    ```
    """

    def __init__(
        self,
        sensitive: int | str = -1,
        constraint: str = "demographic_parity",
        weight: float = 1.0,
        from_logits: bool = False,
    ):
        super().__init__()
        if isinstance(sensitive, bool) or not isinstance(sensitive, (int, str)):
            raise ValueError(
                "`sensitive` must be a column index (int) or an input name (str). "
                f"Received: sensitive={sensitive!r}"
            )
        self.sensitive = sensitive
        self.constraint = check_choice("constraint", constraint, CONSTRAINTS)
        self.weight = check_non_negative_float("weight", weight)
        self.from_logits = bool(from_logits)

    def sensitive_values(self, x):
        """The 0/1 attribute of the batch, read from the inputs `x`."""
        if isinstance(self.sensitive, str):
            if not isinstance(x, dict) or self.sensitive not in x:
                keys = sorted(x) if isinstance(x, dict) else type(x).__name__
                raise ValueError(
                    f"The inputs must be a dict holding the sensitive attribute {self.sensitive!r}."
                    f" Received: sensitive={self.sensitive!r}, inputs {keys}"
                )
            values = x[self.sensitive]
        else:
            if isinstance(x, dict) or len(x.shape) != 2:
                raise ValueError(
                    "A column index `sensitive` needs 2-D array inputs. "
                    f"Received: sensitive={self.sensitive!r}, inputs {type(x).__name__}"
                )
            values = x[:, self.sensitive]
        return ops.reshape(ops.cast(values, "float32"), (-1,))

    def loss_term(self, model, x, y, y_pred, sample_weight):
        probabilities = ops.cast(positive_probability(y_pred, self.from_logits), "float32")
        labels = ops.reshape(ops.cast(y, "float32"), (-1,))
        gap = fairness_gap(self.constraint, probabilities, labels, self.sensitive_values(x))
        return self.weight * gap

    def on_train_begin(self, logs=None):
        self.add_loss_term()

    def on_train_end(self, logs=None):
        self.remove_loss_term()

    def get_config(self) -> dict:
        return {
            "sensitive": self.sensitive,
            "constraint": self.constraint,
            "weight": self.weight,
            "from_logits": self.from_logits,
        }

    @classmethod
    def from_config(cls, config: dict) -> FairnessPenalty:
        return cls(**config)
