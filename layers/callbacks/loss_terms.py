"""Callbacks that add a term to the training loss for the duration of `fit`.

Keras 3's hook for a custom loss is `Model.compute_loss`. A callback that needs one (EWC's
penalty, replay's rehearsal loss) wraps it on the model instance in `on_train_begin` and puts it
back in `on_train_end`, so any model class, compiled with any loss, takes the term without a
change to its class; XLA and distribution strategies see an ordinary `compute_loss`.
"""

from __future__ import annotations

import types

import keras


def per_example_loss_fn(model: keras.Model, loss):
    """A function `(y_true, y_pred) -> per-example losses` from `loss` or the compiled loss.

    Args:
        model: the compiled model (its loss is used when `loss` is `None`).
        loss: a loss name, function or `keras.losses.Loss`, or `None`.

    Returns:
        The unreduced loss function.

    Example:

    ```python
    losses = per_example_loss_fn(model, "sparse_categorical_crossentropy")(y, model(x))
    ```
    """
    loss = model.loss if loss is None else loss
    if loss is None:
        raise ValueError(
            "The model has no compiled loss; pass `loss`, the per-example negative "
            "log-likelihood, e.g. loss='sparse_categorical_crossentropy'. Received: loss=None"
        )
    if isinstance(loss, str):
        return keras.losses.get(loss)
    if isinstance(loss, keras.losses.Loss):
        # `Loss.call` is the unreduced per-example value.
        return loss.call
    if callable(loss):
        return loss
    raise ValueError(
        "`loss` must be a single Keras loss (a name, a function or a `keras.losses.Loss`); "
        f"for a model with several outputs pass one explicitly. Received: loss={loss!r}"
    )


class LossTermCallback(keras.callbacks.Callback):
    """Base of the callbacks that add `loss_term(...)` to the model's training loss in `fit`.

    A subclass implements `loss_term(model, x, y, y_pred, sample_weight)` (a scalar tensor,
    computed inside the train step) and calls `add_loss_term()` from `on_train_begin` and
    `remove_loss_term()` from `on_train_end`. Evaluation and prediction are untouched: the
    term is added only when `compute_loss` runs with `training=True`. Several such callbacks
    combine in any order: each wraps the `compute_loss` it finds; one that ends while another
    still wraps it stays in the chain as a pass-through and is dropped when the outer one ends.

    Example:

    ```python
    class L2Pull(LossTermCallback):
        def loss_term(self, model, x, y, y_pred, sample_weight):
            return 1e-3 * sum(ops.sum(w**2) for w in model.trainable_weights)

        def on_train_begin(self, logs=None):
            self.add_loss_term()

        def on_train_end(self, logs=None):
            self.remove_loss_term()
    ```
    """

    def __init__(self):
        super().__init__()
        self._installed = None
        self._switch = None
        self._own_compute_loss = None

    def loss_term(self, model: keras.Model, x, y, y_pred, sample_weight):
        """The term added to the training loss of this step."""
        raise NotImplementedError

    @property
    def adds_loss_term(self) -> bool:
        """Whether this callback's term is in the model's `compute_loss` now."""
        return self._installed is not None

    def add_loss_term(self) -> None:
        """Wraps the model's `compute_loss` so that training losses include `loss_term`."""
        model = self.model
        original = model.compute_loss
        self._own_compute_loss = model.__dict__.get("compute_loss")
        callback, switch = self, {"active": True}

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            loss = original(x, y, y_pred, sample_weight, training=training)
            if not switch["active"] or not training or loss is None:
                return loss
            term = callback.loss_term(self, x, y, y_pred, sample_weight)
            return loss + keras.ops.cast(term, loss.dtype)

        # What a later removal needs to unwind the chain past this wrapper once it is inactive.
        compute_loss.loss_term_switch = switch
        compute_loss.wrapped_own = self._own_compute_loss
        self._switch = switch
        self._installed = types.MethodType(compute_loss, model)
        model.compute_loss = self._installed
        # A train function traced by an earlier fit would not see the wrapper.
        model.make_train_function(force=True)

    def remove_loss_term(self) -> None:
        """Takes `loss_term` out of the model's training loss (a no-op when not added)."""
        if self._installed is None:
            return
        self._switch["active"] = False
        model = self.model
        if model.__dict__.get("compute_loss") is self._installed:  # the outermost wrapper
            restored = _without_inactive_wrappers(self._own_compute_loss)
            if restored is None:
                del model.compute_loss
            else:
                model.compute_loss = restored
        self._installed = None
        model.make_train_function(force=True)


def _without_inactive_wrappers(compute_loss):
    """`compute_loss` with the wrappers of removed loss terms at its top unwound."""
    while compute_loss is not None:
        switch = getattr(getattr(compute_loss, "__func__", None), "loss_term_switch", None)
        if switch is None or switch["active"]:
            return compute_loss
        compute_loss = compute_loss.__func__.wrapped_own
    return None
