"""Lottery tickets: iterative magnitude pruning with rewinding (Frankle and Carbin 2019)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import numpy as np

from layers.pruning.masks import magnitude_mask
from layers.pruning.wrapper import PRUNABLE, kernel_of
from layers.validation import check_int_in_range, check_positive_int, check_unit_interval


@dataclass
class TicketRound:
    """One round of `lottery_ticket`: the sparsity trained at and the accuracy reached."""

    round: int
    sparsity: float
    accuracy: float


@dataclass
class LotteryTicket:
    """The result of `lottery_ticket`.

    Attributes:
        rounds: one `TicketRound` per training run, the dense run first.
        masks: the final masks, by layer name.
        rewind_weights: the weights the ticket is reset to (`model.get_weights()` order).
        model: the last trained model (masked).
    """

    rounds: list[TicketRound] = field(default_factory=list)
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    rewind_weights: list[np.ndarray] = field(default_factory=list)
    model: keras.Model | None = None


class _KeepMasked(keras.callbacks.Callback):
    """Zeroes the pruned weights after every batch, so they stay pruned while training."""

    def __init__(self, masks: dict[str, np.ndarray]):
        super().__init__()
        self.masks = masks

    def _apply(self):
        for layer in _prunable(self.model):
            if layer.name in self.masks:
                kernel = kernel_of(layer)
                kernel.assign(kernel * self.masks[layer.name])

    def on_train_begin(self, logs=None):
        self._apply()

    def on_train_batch_end(self, batch, logs=None):
        self._apply()


def _prunable(model: keras.Model) -> list:
    return [layer for layer in model._flatten_layers() if isinstance(layer, PRUNABLE)]


def _accuracy(model: keras.Model, x, y) -> float:
    predicted = np.argmax(model.predict(x, verbose=0, batch_size=256), axis=-1)
    return float(np.mean(predicted == np.asarray(y)))


def train_with_masks(
    model: keras.Model,
    data,
    masks: dict[str, np.ndarray],
    epochs: int,
    batch_size: int = 32,
) -> float:
    """Trains a compiled `model` with `masks` held at zero; returns its test accuracy.

    Args:
        model: a compiled classifier.
        data: `((x_train, y_train), (x_test, y_test))`.
        masks: 0/1 arrays by layer name (layers without one stay dense).
        epochs: training epochs.
        batch_size: batch size. Defaults to `32`.

    Returns:
        Accuracy on the test split.

    Example:

    ```python
    accuracy = train_with_masks(model, ((x, y), (xt, yt)), ticket.masks, epochs=5)
    ```
    """
    (x, y), (x_test, y_test) = data
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[_KeepMasked(masks)])
    return _accuracy(model, x_test, y_test)


def lottery_ticket(
    build_fn: Callable[[], keras.Model],
    data,
    rounds: int,
    rate: float,
    epochs: int = 5,
    rewind_epochs: int = 0,
    batch_size: int = 32,
    prune_output_layer_rate: float | None = None,
) -> LotteryTicket:
    """Finds a winning ticket by iterative magnitude pruning with rewinding.

    Trains the dense network, then `rounds` times: prunes `rate` of the remaining weights of each
    Conv2D/DepthwiseConv2D/Dense kernel by magnitude (per layer), resets the surviving weights to
    their values at initialisation (Frankle and Carbin 2019) or, with `rewind_epochs > 0`, after
    that many epochs of training (weight rewinding, Frankle et al. 2020), and retrains with the
    mask held fixed. After `rounds` rounds the sparsity is `1 - (1 - rate) ** rounds`.

    Args:
        build_fn: returns a fresh compiled classifier (logits or probabilities); it is called once.
        data: `((x_train, y_train), (x_test, y_test))` with integer labels.
        rounds: pruning rounds, a positive integer.
        rate: fraction of the remaining weights pruned each round, in `(0, 1)`.
        epochs: training epochs per round (the rewind epochs included). Defaults to `5`.
        rewind_epochs: epochs trained before the rewind point is saved; `0` rewinds to the
            initialisation. Defaults to `0`.
        batch_size: batch size. Defaults to `32`.
        prune_output_layer_rate: per-round rate for the last prunable layer (the paper prunes
            the output layer at half the rate); `None` uses `rate / 2`. Defaults to `None`.

    Returns:
        A `LotteryTicket` with the per-round accuracies, the masks and the rewind weights.

    Example:

    ```python
    ticket = lottery_ticket(lambda: zoo.create("cnn_digits"), ((x, y), (xt, yt)), rounds=5,
                            rate=0.4)
    [(r.sparsity, r.accuracy) for r in ticket.rounds]
    ```

    Reference:
        Frankle and Carbin, "The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural
        Networks", ICLR 2019. https://arxiv.org/abs/1803.03635; Frankle, Dziugaite, Roy and
        Carbin, "Linear Mode Connectivity and the Lottery Ticket Hypothesis", ICML 2020.
        https://arxiv.org/abs/1912.05611
    """
    check_positive_int("rounds", rounds)
    check_unit_interval("rate", rate, include_low=False, include_high=False)
    check_positive_int("epochs", epochs)
    check_int_in_range(
        "rewind_epochs", rewind_epochs, 0, epochs, include_high=False, high_name="epochs"
    )
    output_rate = rate / 2 if prune_output_layer_rate is None else prune_output_layer_rate
    (x, y), _ = data
    model = build_fn()
    layers = _prunable(model)
    if not layers:
        raise ValueError("`build_fn` must build a model with Conv2D/Dense layers. Received: none")
    masks = {layer.name: np.ones(kernel_of(layer).shape, np.float32) for layer in layers}
    optimizer_weights = None
    if rewind_epochs:
        model.fit(x, y, epochs=rewind_epochs, batch_size=batch_size, verbose=0)
    rewind = model.get_weights()
    if model.optimizer is not None and model.optimizer.built:
        optimizer_weights = [v.numpy() for v in model.optimizer.variables]
    result = LotteryTicket(rewind_weights=rewind)
    remaining = epochs - rewind_epochs
    for round_index in range(rounds + 1):
        if round_index:
            for i, layer in enumerate(layers):
                layer_rate = output_rate if i == len(layers) - 1 else rate
                mask = masks[layer.name]
                sparsity = 1.0 - (1.0 - layer_rate) ** round_index
                kernel = keras.ops.convert_to_numpy(kernel_of(layer))
                masks[layer.name] = magnitude_mask(kernel, sparsity, mask)
            model.set_weights(rewind)
            # The optimizer state (moments, step count) is rewound with the weights.
            for i, variable in enumerate(model.optimizer.variables):
                if "learning_rate" in variable.path:
                    continue
                if optimizer_weights is None:
                    variable.assign(keras.ops.zeros_like(variable))
                else:
                    variable.assign(optimizer_weights[i])
        accuracy = train_with_masks(model, data, masks, remaining, batch_size)
        total = sum(m.size for m in masks.values())
        zeros = sum(int((m == 0).sum()) for m in masks.values())
        result.rounds.append(TicketRound(round_index, zeros / total, accuracy))
    result.masks = masks
    result.model = model
    return result
