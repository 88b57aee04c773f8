"""SWA: the average, BatchNormalization re-estimation, resume after interruption."""

import keras
import numpy as np
import pytest

from layers.callbacks import SWA, recompute_batch_norm_statistics
from layers.callbacks.swa import STATE_ATTRIBUTE
from tests import harness

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 6)).astype("float32")
Y = (X @ RNG.normal(size=(6, 1)) + 0.1 * RNG.normal(size=(40, 1))).astype("float32")


def bn_model(seed=0, learning_rate=0.05):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8, name="dense"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.Activation("tanh"),
            keras.layers.Dense(1, name="out"),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    return model


class RecordWeights(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []
        self.learning_rates = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([v.numpy() for v in self.model.trainable_variables])
        self.learning_rates.append(float(self.model.optimizer.learning_rate.numpy()))


def test_harness():
    model, history, callback = harness.run_callback_test(lambda: SWA(start_epoch=1), epochs=3)
    assert callback.state is None and not hasattr(model, STATE_ATTRIBUTE)


def test_average_is_the_mean_of_the_epoch_weights_and_lr_switches():
    model = bn_model()
    record = RecordWeights()
    model.fit(
        X, Y, batch_size=8, epochs=5, verbose=0, shuffle=False,
        callbacks=[record, SWA(start_epoch=2, swa_learning_rate=0.01)],
    )  # fmt: skip
    expected = [np.mean([w[i] for w in record.weights[2:]], axis=0) for i in range(6)]
    harness.assert_allclose(model.trainable_variables, expected, 1e-6, 1e-6, "SWA average")
    np.testing.assert_allclose(record.learning_rates, [0.05, 0.05, 0.01, 0.01, 0.01], rtol=1e-6)
    # Non-trainable BatchNormalization statistics are not averaged without bn_data.
    assert not np.allclose(model.get_layer("bn").moving_variance.numpy(), 1.0)


def test_batch_norm_statistics_are_exact_averages_over_bn_data():
    model = bn_model()
    data = RNG.normal(size=(45, 6)).astype("float32")  # 32 + 13: unequal batches
    model.fit(
        X, Y, batch_size=8, epochs=3, verbose=0, shuffle=False,
        callbacks=[SWA(start_epoch=1, bn_data=data)],
    )  # fmt: skip
    kernel, bias = (v.numpy().astype(np.float64) for v in model.get_layer("dense").weights)
    features = data.astype(np.float64) @ kernel + bias
    bn = model.get_layer("bn")
    np.testing.assert_allclose(bn.moving_mean.numpy(), features.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), features.var(0), rtol=1e-5, atol=1e-6)


def test_recompute_on_dataset_of_pairs_and_conv_axis():
    import tensorflow as tf

    keras.utils.set_random_seed(1)
    inputs = keras.Input((4, 4, 3))
    bn = keras.layers.BatchNormalization(name="bn")
    model = keras.Model(inputs, bn(inputs))
    images = RNG.normal(2.0, 3.0, size=(10, 4, 4, 3)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices((images, np.zeros(10))).batch(3)
    assert recompute_batch_norm_statistics(model, dataset) == 1
    np.testing.assert_allclose(bn.moving_mean.numpy(), images.mean((0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), images.var((0, 1, 2)), rtol=1e-5)


class InterruptAt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("interrupted")


def test_resume_with_backup_and_restore_gives_the_uninterrupted_average(tmp_path):
    def fit(model, *callbacks):
        return model.fit(
            X, Y, batch_size=8, epochs=6, verbose=0, shuffle=False, callbacks=list(callbacks)
        )

    reference = bn_model()
    fit(reference, SWA(start_epoch=2, bn_data=X))

    backup = str(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="interrupted"):
        fit(bn_model(), SWA(2, bn_data=X), keras.callbacks.BackupAndRestore(backup), InterruptAt(4))
    resumed = bn_model(seed=7)  # a new process: different initial weights, all restored
    # BackupAndRestore before SWA: the state exists before any callback's on_train_begin.
    history = fit(resumed, keras.callbacks.BackupAndRestore(backup), SWA(2, bn_data=X))
    assert len(history.history["loss"]) == 2
    harness.assert_allclose(resumed.weights, reference.weights, 1e-6, 1e-6, "resumed SWA")


def test_mirrored_strategy():
    def fit(strategy):
        model = bn_model()
        record = RecordWeights()
        model.fit(
            X, Y, batch_size=8, epochs=3, verbose=0, shuffle=False,
            callbacks=[record, SWA(start_epoch=1, bn_data=X)],
        )  # fmt: skip
        expected = [np.mean([w[i] for w in record.weights[1:]], axis=0) for i in range(6)]
        harness.assert_allclose(model.trainable_variables, expected, 1e-6, 1e-6, "mirrored SWA")

    harness.run_in_mirrored_strategy(fit)


def test_mixed_precision_and_xla():
    with harness.dtype_policy("mixed_float16"):
        model = bn_model()
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", jit_compile=True)
        record = RecordWeights()
        model.fit(
            X, Y, batch_size=8, epochs=3, verbose=0, shuffle=False,
            callbacks=[record, SWA(start_epoch=1, swa_learning_rate=0.01, bn_data=X)],
        )  # fmt: skip
    expected = [np.mean([w[i] for w in record.weights[1:]], axis=0) for i in range(6)]
    harness.assert_allclose(model.trainable_variables, expected, 1e-6, 1e-6, "mixed SWA")
    assert np.all(np.isfinite(model.predict(X, verbose=0)))


def test_warns_when_training_ends_before_start_epoch():
    model = bn_model()
    before = [v.numpy() for v in model.trainable_variables]
    with pytest.warns(UserWarning, match="start_epoch=5"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[SWA(start_epoch=5)])
    assert any(
        not np.array_equal(b, v.numpy())
        for b, v in zip(before, model.trainable_variables, strict=True)
    )


def test_schedule_with_swa_learning_rate_is_refused():
    model = bn_model()
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="mse")
    with pytest.raises(ValueError, match="swa_learning_rate=0.01"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[SWA(0, swa_learning_rate=0.01)])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"start_epoch": -1}, "start_epoch=-1"),
        ({"start_epoch": 1.5}, "start_epoch=1.5"),
        ({"start_epoch": 0, "swa_learning_rate": 0.0}, "swa_learning_rate=0.0"),
        ({"start_epoch": 0, "bn_data": "x"}, "bn_data of type str"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        SWA(**kwargs)
