"""`zoo.fitting.fit_repeated`: one endless pipeline, one pass of the data per epoch."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.fitting import fit_repeated


def model() -> keras.Model:
    net = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    net.compile("sgd", "mse")
    return net


def recorded_pipeline(seen: list, length: int = 6):
    def record(value):
        seen.append(int(value))
        return np.float32(value)

    values = tf.data.Dataset.range(length).map(
        lambda i: tf.numpy_function(record, [i], tf.float32, stateful=True)
    )
    return values.map(lambda v: (tf.reshape(v, [1]), tf.reshape(v, [1]))).batch(2)


@pytest.mark.parametrize("known_length", [True, False])
def test_every_epoch_is_one_pass_of_the_data(known_length):
    seen = []
    data = recorded_pipeline(seen)
    if not known_length:
        data = data.filter(lambda x, y: True)  # TensorFlow cannot tell its length
        assert int(data.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    history = fit_repeated(model(), data, epochs=3, verbose=0, shuffle=False)
    assert len(history.history["loss"]) == 3
    # Prefetching may read ahead into a fourth pass; the first three are whole and in order.
    assert seen[:18] == list(range(6)) * 3


def test_steps_per_epoch_from_the_caller_wins_and_infinite_data_is_refused():
    seen = []
    history = fit_repeated(
        model(), recorded_pipeline(seen).repeat(), epochs=2, steps_per_epoch=2, verbose=0
    )
    assert len(history.history["loss"]) == 2 and seen[:8] == [0, 1, 2, 3, 4, 5, 0, 1]
    with pytest.raises(ValueError, match="infinite dataset"):
        fit_repeated(model(), recorded_pipeline([]).repeat(), epochs=1)
