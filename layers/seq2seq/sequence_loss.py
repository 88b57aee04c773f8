"""Weighted cross-entropy over sequences of logits (TFA's `tfa.seq2seq.sequence_loss` and
`SequenceLoss`)."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_bool

_SWITCHES = (
    "average_across_timesteps",
    "average_across_batch",
    "sum_over_timesteps",
    "sum_over_batch",
)


def _check_switches(
    average_across_timesteps, average_across_batch, sum_over_timesteps, sum_over_batch
) -> None:
    flags = dict(
        zip(
            _SWITCHES,
            (average_across_timesteps, average_across_batch, sum_over_timesteps, sum_over_batch),
            strict=True,
        )
    )
    for name, value in flags.items():
        check_bool(name, value)
    # TFA's rules: one reduction per axis, and no mixed orders.
    for first, second, why in (
        ("average_across_timesteps", "sum_over_timesteps", "both reduce the time axis"),
        ("average_across_batch", "sum_over_batch", "both reduce the batch axis"),
        ("average_across_batch", "sum_over_timesteps", "the order of the reductions is ambiguous"),
        ("sum_over_batch", "average_across_timesteps", "the order of the reductions is ambiguous"),
    ):
        if flags[first] and flags[second]:
            raise ValueError(
                f"`{first}` and `{second}` cannot both be True ({why}). "
                f"Received: {first}=True, {second}=True"
            )


def _divide_no_nan(x, y):
    safe = ops.where(ops.equal(y, 0), ops.ones_like(y), y)
    return ops.where(ops.equal(y, 0), ops.zeros_like(x), x / safe)


def _count_nonzero(weights, axis=None, dtype="float32"):
    return ops.sum(ops.cast(ops.not_equal(weights, 0), dtype), axis=axis)


def sequence_loss(
    logits,
    targets,
    weights,
    average_across_timesteps: bool = True,
    average_across_batch: bool = True,
    sum_over_timesteps: bool = False,
    sum_over_batch: bool = False,
    softmax_loss_function=None,
    name: str | None = None,
):
    """Weighted softmax cross-entropy of a batch of sequences, reduced as the switches say.

    The cross-entropy of each target, `[batch_size, sequence_length]`, is multiplied by its
    weight, then:

    - `average_across_timesteps` and `average_across_batch` (the default): the weighted sum
      divided by the sum of the weights (a scalar, the per-symbol log-perplexity);
    - `sum_over_timesteps` and `sum_over_batch`: the weighted sum divided by the number of
      non-zero weights (a scalar);
    - one of `average_across_timesteps` / `average_across_batch`: the sums along that axis
      divided by the sums of the weights along it (`[batch_size]` or `[sequence_length]`);
    - one of `sum_over_timesteps` / `sum_over_batch`: the sums along that axis divided by the
      counts of non-zero weights along it;
    - none: the weighted cross-entropies, `[batch_size, sequence_length]`.

    A division by zero gives 0. An average and a sum over the same axis, and the mixed pairs
    (`average_across_batch` with `sum_over_timesteps`, `sum_over_batch` with
    `average_across_timesteps`), are errors.

    Args:
        logits: `[batch_size, sequence_length, num_classes]` float logits.
        targets: `[batch_size, sequence_length]` class ids, or `[batch_size, sequence_length,
            num_classes]` one-hot (or probability) targets.
        weights: `[batch_size, sequence_length]` float weights (a mask such as
            `ops.arange(T) < lengths[:, None]` for padding).
        average_across_timesteps, average_across_batch, sum_over_timesteps, sum_over_batch:
            the reductions, as above.
        softmax_loss_function: optional `fn(labels=..., logits=...)` on the flattened targets
            `[N]` and logits `[N, num_classes]`, returning `[N]` losses (keyword arguments),
            instead of the softmax cross-entropy.
        name: a name scope for the ops. Defaults to `"sequence_loss"`.

    Returns:
        A float tensor of rank 0, 1 or 2 (see above).

    Example:

    ```python
    logits = np.zeros((2, 3, 4), "float32")  # uniform over 4 classes
    sequence_loss(logits, np.zeros((2, 3), "int32"), np.ones((2, 3), "float32"))  # log(4)
    ```
    """
    flags = (average_across_timesteps, average_across_batch, sum_over_timesteps, sum_over_batch)
    _check_switches(*flags)
    logits = ops.convert_to_tensor(logits)
    targets = ops.convert_to_tensor(targets)
    weights = ops.convert_to_tensor(weights)
    if len(logits.shape) != 3:
        raise ValueError(
            "`logits` must have shape [batch_size, sequence_length, num_classes]. "
            f"Received: logits with shape {tuple(logits.shape)}"
        )
    if len(targets.shape) not in (2, 3):
        raise ValueError(
            "`targets` must have shape [batch_size, sequence_length] (class ids) or "
            "[batch_size, sequence_length, num_classes] (one-hot). "
            f"Received: targets with shape {tuple(targets.shape)}"
        )
    if len(weights.shape) != 2:
        raise ValueError(
            "`weights` must have shape [batch_size, sequence_length]. "
            f"Received: weights with shape {tuple(weights.shape)}"
        )
    with keras.name_scope(name or "sequence_loss"):
        num_classes = logits.shape[2] or ops.shape(logits)[2]
        flat_logits = ops.reshape(logits, (-1, num_classes))
        if softmax_loss_function is not None:
            crossent = softmax_loss_function(labels=ops.reshape(targets, (-1,)), logits=flat_logits)
        elif len(targets.shape) == 2:
            crossent = keras.losses.sparse_categorical_crossentropy(
                ops.reshape(targets, (-1,)), flat_logits, from_logits=True
            )
        else:
            crossent = keras.losses.categorical_crossentropy(
                ops.reshape(targets, (-1, num_classes)), flat_logits, from_logits=True
            )
        weights = ops.cast(weights, crossent.dtype)
        crossent = crossent * ops.reshape(weights, (-1,))
        if average_across_timesteps and average_across_batch:
            return _divide_no_nan(ops.sum(crossent), ops.sum(weights))
        if sum_over_timesteps and sum_over_batch:
            return _divide_no_nan(ops.sum(crossent), _count_nonzero(weights, dtype=crossent.dtype))
        crossent = ops.reshape(crossent, ops.shape(logits)[:2])
        if average_across_timesteps or average_across_batch:
            axis = 0 if average_across_batch else 1
            return _divide_no_nan(ops.sum(crossent, axis=axis), ops.sum(weights, axis=axis))
        if sum_over_timesteps or sum_over_batch:
            axis = 0 if sum_over_batch else 1
            count = _count_nonzero(weights, axis=axis, dtype=crossent.dtype)
            return _divide_no_nan(ops.sum(crossent, axis=axis), count)
        return crossent


@keras.saving.register_keras_serializable(package="keras_zoo")
class SequenceLoss(keras.losses.Loss):
    """`sequence_loss` as a Keras loss: `y_true` the targets, `y_pred` the logits, and
    `sample_weight` the `[batch_size, sequence_length]` weights.

    The defaults sum over time steps and batch and divide by the number of non-zero weights
    (TFA's recommendation, unlike `sequence_loss`'s defaults). The reduction is the loss's own
    (the switches); Keras's `reduction` is not used. Without `sample_weight`, every target
    weighs 1 (TensorFlow Addons required the weights). This is TensorFlow Addons'
    `tfa.seq2seq.SequenceLoss`.

    Args:
        average_across_timesteps: as in `sequence_loss`. Defaults to `False`.
        average_across_batch: as in `sequence_loss`. Defaults to `False`.
        sum_over_timesteps: as in `sequence_loss`. Defaults to `True`.
        sum_over_batch: as in `sequence_loss`. Defaults to `True`.
        softmax_loss_function: as in `sequence_loss` (a registered function, to be saved).
            Defaults to `None`.
        name: the loss's name. Defaults to `"sequence_loss"`.

    Example:

    ```python
    model.compile(optimizer="adam", loss=SequenceLoss())
    model.fit(source_and_target_inputs, target_ids, sample_weight=target_mask)
    ```
    """

    def __init__(
        self,
        average_across_timesteps: bool = False,
        average_across_batch: bool = False,
        sum_over_timesteps: bool = True,
        sum_over_batch: bool = True,
        softmax_loss_function=None,
        name: str | None = None,
    ):
        _check_switches(
            average_across_timesteps, average_across_batch, sum_over_timesteps, sum_over_batch
        )
        if softmax_loss_function is not None and not callable(softmax_loss_function):
            raise TypeError(
                "`softmax_loss_function` must be callable or None. "
                f"Received: softmax_loss_function={softmax_loss_function!r}"
            )
        super().__init__(name=name or "sequence_loss", reduction="none")
        self.average_across_timesteps = average_across_timesteps
        self.average_across_batch = average_across_batch
        self.sum_over_timesteps = sum_over_timesteps
        self.sum_over_batch = sum_over_batch
        self.softmax_loss_function = softmax_loss_function

    def __call__(self, y_true, y_pred, sample_weight=None):
        logits = ops.cast(ops.convert_to_tensor(y_pred), self.dtype)
        if sample_weight is None:
            sample_weight = ops.ones(ops.shape(logits)[:2], dtype=self.dtype)
        return sequence_loss(
            logits,
            y_true,
            sample_weight,
            average_across_timesteps=self.average_across_timesteps,
            average_across_batch=self.average_across_batch,
            sum_over_timesteps=self.sum_over_timesteps,
            sum_over_batch=self.sum_over_batch,
            softmax_loss_function=self.softmax_loss_function,
            name=self.name,
        )

    def call(self, y_true, y_pred):
        return self(y_true, y_pred)

    def get_config(self):
        function = self.softmax_loss_function
        return {
            "name": self.name,
            **{name: getattr(self, name) for name in _SWITCHES},
            "softmax_loss_function": (
                None if function is None else keras.saving.serialize_keras_object(function)
            ),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("softmax_loss_function") is not None:
            config["softmax_loss_function"] = keras.saving.deserialize_keras_object(
                config["softmax_loss_function"]
            )
        return cls(**config)
