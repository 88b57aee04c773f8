"""LossTermCallback: terms added to the training loss during fit, in any combination and order."""

import itertools

import keras
import numpy as np
import pytest
from keras import ops

from layers.callbacks.loss_terms import LossTermCallback, per_example_loss_fn

X = np.linspace(-1.0, 1.0, 16, dtype="float32").reshape(8, 2)
Y = X.sum(axis=1, keepdims=True)


class ConstantTerm(LossTermCallback):
    """Adds `value` to every training step's loss."""

    def __init__(self, value: float):
        super().__init__()
        self.value = value

    def loss_term(self, model, x, y, y_pred, sample_weight):
        return ops.convert_to_tensor(self.value)

    def on_train_begin(self, logs=None):
        self.add_loss_term()

    def on_train_end(self, logs=None):
        self.remove_loss_term()


def frozen_model():
    """A linear model that does not learn (learning rate 0): every step has the same loss."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    return model


@pytest.mark.parametrize("order", list(itertools.permutations([1.0, 10.0])))
def test_terms_add_up_in_any_order_and_leave_nothing_behind(order):
    model = frozen_model()
    plain = model.evaluate(X, Y, verbose=0)
    callbacks = [ConstantTerm(value) for value in order]
    history = model.fit(X, Y, epochs=2, batch_size=8, verbose=0, callbacks=callbacks)
    assert history.history["loss"] == pytest.approx([plain + 11.0] * 2, rel=1e-6)
    assert "compute_loss" not in model.__dict__  # the class's compute_loss again
    assert not any(callback.adds_loss_term for callback in callbacks)
    # Evaluation never had the terms; training after the fit has none either.
    assert model.fit(X, Y, epochs=1, verbose=0).history["loss"] == pytest.approx([plain])


def test_a_term_removed_under_another_passes_through_until_the_other_ends():
    model = frozen_model()
    plain = model.evaluate(X, Y, verbose=0)
    inner, outer = ConstantTerm(1.0), ConstantTerm(10.0)
    inner.set_model(model)
    outer.set_model(model)
    inner.add_loss_term()
    outer.add_loss_term()
    inner.remove_loss_term()  # still wrapped by `outer`: stays in the chain, adds nothing
    loss = model.fit(X, Y, epochs=1, verbose=0).history["loss"]
    assert loss == pytest.approx([plain + 10.0], rel=1e-6)
    outer.remove_loss_term()
    assert "compute_loss" not in model.__dict__


def test_per_example_loss_comes_from_the_argument_or_the_compiled_loss():
    model = frozen_model()
    y_pred = model(X)
    squared = np.square(Y - np.asarray(y_pred))[:, 0]
    np.testing.assert_allclose(per_example_loss_fn(model, None)(Y, y_pred), squared, rtol=1e-6)
    absolute = per_example_loss_fn(model, keras.losses.MeanAbsoluteError())(Y, y_pred)
    np.testing.assert_allclose(absolute, np.abs(Y - np.asarray(y_pred))[:, 0], rtol=1e-6)
    uncompiled = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="loss=None"):
        per_example_loss_fn(uncompiled, None)
    with pytest.raises(ValueError, match="loss=3"):
        per_example_loss_fn(model, 3)
