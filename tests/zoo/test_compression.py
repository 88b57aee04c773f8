"""Lottery tickets: per-round sparsity, masks held while training, rewinding."""

import keras
import numpy as np
import pytest

from zoo.compression import lottery_ticket

RNG = np.random.default_rng(0)


def build():
    inputs = keras.Input((6,))
    x = keras.layers.Dense(16, activation="relu", name="hidden")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, name="out")(x))
    model.compile(
        keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    return model


def data():
    x = RNG.normal(size=(96, 6)).astype("float32")
    y = np.argmax(x[:, :3], axis=-1)
    return (x[:64], y[:64]), (x[64:], y[64:])


def test_rounds_prune_geometrically_and_keep_masks():
    keras.utils.set_random_seed(0)
    ticket = lottery_ticket(build, data(), rounds=2, rate=0.5, epochs=3, batch_size=8)
    assert [r.round for r in ticket.rounds] == [0, 1, 2]
    # hidden: 1 - 0.5^k of 96 weights; out (half rate): 1 - 0.75^k of 48 weights.
    expected = [0.0, (48 + 0.25 * 48) / 144, (72 + round(0.4375 * 48)) / 144]
    np.testing.assert_allclose([r.sparsity for r in ticket.rounds], expected, atol=1e-6)
    assert all(0.0 <= r.accuracy <= 1.0 for r in ticket.rounds)
    kernel = ticket.model.get_layer("hidden").kernel.numpy()
    assert np.all(kernel[ticket.masks["hidden"] == 0] == 0)
    assert ticket.rounds[0].accuracy > 0.45  # above chance (1/3): the dense network learns
    # Rewinding resets the optimizer's moments and step, never its learning rate.
    assert float(ticket.model.optimizer.learning_rate.numpy()) == pytest.approx(0.01)


def test_rewind_weights_are_the_initialisation_or_an_early_checkpoint():
    keras.utils.set_random_seed(0)
    init = build().get_weights()
    keras.utils.set_random_seed(0)
    ticket = lottery_ticket(build, data(), rounds=1, rate=0.2, epochs=1)
    for a, b in zip(ticket.rewind_weights, init, strict=True):
        np.testing.assert_array_equal(a, b)
    keras.utils.set_random_seed(0)
    rewound = lottery_ticket(build, data(), rounds=1, rate=0.2, epochs=2, rewind_epochs=1)
    assert not np.array_equal(rewound.rewind_weights[0], init[0])


def test_invalid_arguments():
    with pytest.raises(ValueError, match="rate=1.5"):
        lottery_ticket(build, data(), rounds=1, rate=1.5)
    with pytest.raises(ValueError, match="rounds=0"):
        lottery_ticket(build, data(), rounds=0, rate=0.5)
    with pytest.raises(ValueError, match="rewind_epochs=3"):
        lottery_ticket(build, data(), rounds=1, rate=0.5, epochs=3, rewind_epochs=3)
