"""The harness itself: it passes correct layers, optimizers and models and fails broken ones."""

import functools

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests import harness


@keras.saving.register_keras_serializable(package="keras_zoo_tests")
class Scale(keras.layers.Layer):
    """Multiplies its input by a trainable per-feature scale and adds `offset`."""

    def __init__(self, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.offset = offset

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

    def call(self, inputs):
        return inputs * self.scale + self.offset

    def get_config(self):
        return {**super().get_config(), "offset": self.offset}


@keras.saving.register_keras_serializable(package="keras_zoo")
class GoodScale(Scale):
    pass


@keras.saving.register_keras_serializable(package="keras_zoo")
class ForgetsOffset(Scale):
    """Broken on purpose: `offset` is missing from `get_config`."""

    def get_config(self):
        config = super().get_config()
        del config["offset"]
        return config


@keras.saving.register_keras_serializable(package="keras_zoo")
class IgnoresOffset(Scale):
    """Broken on purpose: `get_config` has the key but not the value it was given."""

    def get_config(self):
        return {**super().get_config(), "offset": 0.0}


@keras.saving.register_keras_serializable(package="keras_zoo")
class NotTraining(Scale):
    """Broken on purpose: the output does not depend on the weight, so training cannot move it."""

    def call(self, inputs):
        return inputs + 0.0 * self.scale + self.offset


X = np.arange(12, dtype="float32").reshape(4, 3) / 10


def test_correct_layer_passes():
    result = harness.run_layer_test(
        GoodScale,
        {"offset": 0.5},
        X,
        expected_output_shape=(4, 3),
        expected_output=X + 0.5,
    )
    assert result["output"].shape == (4, 3)


def test_missing_config_argument_fails():
    with pytest.raises(AssertionError, match=r"lacks constructor argument\(s\) \['offset'\]"):
        harness.run_layer_test(ForgetsOffset, {"offset": 0.5}, X)


def test_ignored_config_value_fails():
    with pytest.raises(AssertionError, match="offset"):
        harness.run_layer_test(IgnoresOffset, {"offset": 0.5}, X)


def test_unregistered_package_fails():
    with pytest.raises(AssertionError, match="not registered"):
        harness.run_layer_test(Scale, {"offset": 0.5}, X)


def test_wrong_expected_output_fails():
    with pytest.raises(AssertionError):
        harness.run_layer_test(GoodScale, {"offset": 0.5}, X, expected_output=X)


def test_weights_that_do_not_train_fail():
    with pytest.raises(AssertionError, match="left every trainable weight"):
        harness.run_layer_test(NotTraining, {"offset": 0.5}, X, run_mixed_precision=False)


def test_mirrored_strategy_has_two_replicas():
    replicas = harness.run_in_mirrored_strategy(lambda strategy: strategy.num_replicas_in_sync)
    assert replicas == 2


@keras.saving.register_keras_serializable(package="keras_zoo")
class ForgetfulSGD(keras.optimizers.SGD):
    """Broken on purpose: momentum slots are not saved, so resumed training diverges."""

    def save_own_variables(self, store):
        pass

    def load_own_variables(self, store):
        pass


@keras.saving.register_keras_serializable(package="keras_zoo")
class MomentumSGD(keras.optimizers.SGD):
    pass


def test_optimizer_with_momentum_passes():
    result = harness.run_optimizer_test(MomentumSGD, {"learning_rate": 0.05, "momentum": 0.9})
    assert result["losses"][-1] < result["losses"][0]


def test_optimizer_test_catches_lost_slot_state():
    with pytest.raises(AssertionError):
        harness.run_optimizer_test(
            ForgetfulSGD,
            {"learning_rate": 0.05, "momentum": 0.9},
            run_jit=False,
            run_mixed_precision=False,
            run_distributed=False,
        )


@keras.saving.register_keras_serializable(package="keras_zoo")
class TinyRegressor(keras.Model):
    """A subclassed model: one `Dense` layer with `units` outputs."""

    def __init__(self, units=2, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = keras.layers.Dense(units)

    def call(self, inputs):
        return self.dense(inputs)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="keras_zoo")
class PrintsItsInputs(TinyRegressor):
    """Broken on purpose for XLA: string ops (`AsString`) have no XLA kernel."""

    def call(self, inputs):
        digits = tf.reduce_sum(tf.strings.length(tf.strings.as_string(inputs)))
        return self.dense(inputs) + 0.0 * tf.cast(digits, self.compute_dtype)


def test_model_that_xla_cannot_compile_fails():
    build, kwargs = functools.partial(PrintsItsInputs, units=2), {"units": 2}
    without_xla = {"run_jit": False, "run_mixed_precision": False, "run_distributed": False}
    harness.run_model_test(build, X, init_kwargs=kwargs, **without_xla)
    # XLA runs on the reloaded copy of the model: the check must still reach it.
    with pytest.raises(tf.errors.InvalidArgumentError, match="AsString"):
        harness.run_model_test(build, X, init_kwargs=kwargs)


@keras.saving.register_keras_serializable(package="keras_zoo")
class RecordsWhereItTrains(GoodScale):
    """Records the compute dtype and the replica count of each traced training call."""

    seen: list[tuple[str, int]] = []

    def call(self, inputs, training=None):
        if training:
            replicas = tf.distribute.get_replica_context().num_replicas_in_sync
            RecordsWhereItTrains.seen.append((self.compute_dtype, replicas))
        return super().call(inputs)


def test_layer_checks_train_in_float32_then_mixed_precision_on_two_replicas():
    RecordsWhereItTrains.seen.clear()
    harness.run_layer_test(RecordsWhereItTrains, {"offset": 0.5}, X)
    assert set(RecordsWhereItTrains.seen) == {("float32", 1), ("float16", 2)}


def test_model_checks_train_in_float32_then_mixed_precision_on_two_replicas():
    def build():
        return keras.Sequential([keras.Input((3,)), RecordsWhereItTrains(offset=0.5)])

    RecordsWhereItTrains.seen.clear()
    harness.run_model_test(build, X, run_jit=False, run_saving=False)
    assert set(RecordsWhereItTrains.seen) == {("float32", 1), ("float16", 2)}


@keras.saving.register_keras_serializable(package="keras_zoo")
class SumOfSources(keras.layers.Layer):
    """A one-graph message passing layer: each node sums a trainable projection of its sources.

    Records the node count and the replica count of each traced training call.
    """

    seen: list[tuple[int | None, int]] = []

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[0][-1], 2), name="kernel")

    def call(self, inputs, training=None):
        node_features, edge_index = inputs
        if training:
            replicas = tf.distribute.get_replica_context().num_replicas_in_sync
            SumOfSources.seen.append((node_features.shape[0], replicas))
        messages = tf.gather(node_features @ self.kernel, edge_index[0])
        return tf.math.unsorted_segment_sum(messages, edge_index[1], tf.shape(node_features)[0])


GRAPH = [X[:, :2].copy(), np.array([[0, 1, 2, 3, 3], [1, 2, 3, 0, 1]], "int32")]


def test_whole_batch_layer_checks_give_every_replica_the_whole_graph():
    SumOfSources.seen.clear()
    harness.run_layer_test(SumOfSources, {}, GRAPH, whole_batch=True, expected_output_shape=(4, 2))
    assert set(SumOfSources.seen) == {(4, 1), (4, 2)}


def test_whole_batch_split_along_a_batch_axis_fails():
    # Without `whole_batch`, fit slices 4 nodes and 2 edge-index rows into batches of 4.
    with pytest.raises(ValueError):
        harness.run_layer_test(SumOfSources, {}, GRAPH, expected_output_shape=(4, 2))
