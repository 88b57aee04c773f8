"""TFA's RNN cells and ESN: TFA's numbers (fixtures), the harness, dropout, the ESN reservoir."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.recurrent import (
    ESN,
    ESNCell,
    LayerNormLSTMCell,
    LayerNormSimpleRNNCell,
    NASCell,
    PeepholeLSTMCell,
)
from tests import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "rnn_cells.npz")
CELLS = {
    cls.__name__: cls
    for cls in (LayerNormLSTMCell, LayerNormSimpleRNNCell, PeepholeLSTMCell, NASCell, ESNCell)
}
X = np.random.default_rng(0).normal(size=(4, 5, 3)).astype("float32")


@keras.saving.register_keras_serializable(package="keras_zoo")
class RNNOverCell(keras.layers.RNN):
    """`keras.layers.RNN` that also takes its cell as a config dict, so that the harness (which
    builds a fresh layer from the same arguments for every check) gets a fresh cell each time."""

    def __init__(self, cell, **kwargs):
        if isinstance(cell, dict):
            cell = keras.saving.deserialize_keras_object(cell)
        super().__init__(cell, **kwargs)

    @classmethod
    def from_config(cls, config):
        return cls(**config)  # keras.layers.RNN's pops "cell" out of the caller's dict


def cell_config(cls, **kwargs) -> dict:
    """A cell's config without a dtype: it takes the global policy (mixed_float16 included)."""
    return {"class_name": keras.saving.get_registered_name(cls), "config": kwargs}


def _fixture_cases() -> list[str]:
    with np.load(FIXTURE) as fixture:
        return sorted({k.split("/")[0] for k in fixture.files if not k.startswith("esn_init")})


def _load_case(name: str) -> dict:
    with np.load(FIXTURE) as fixture:
        return {k.split("/", 1)[1]: fixture[k] for k in fixture.files if k.startswith(name + "/")}


def _numbered(case: dict, prefix: str) -> list[np.ndarray]:
    count = sum(key.startswith(prefix) and key[len(prefix) :].isdigit() for key in case)
    return [case[f"{prefix}{i}"] for i in range(count)]


def _layer_for(case: dict, **cell_overrides) -> keras.layers.Layer:
    kind, kwargs = str(case["kind"]), json.loads(str(case["kwargs"]))
    if kind == "ESN":
        return ESN(**kwargs)
    cell = CELLS[kind](**kwargs, **cell_overrides)
    return keras.layers.RNN(cell, return_sequences=True, return_state=True)


def _run_with_tfa_weights(case: dict, layer, training=False):
    layer.build(case["x"].shape)
    names = [str(name).split("/")[-1].removesuffix(":0") for name in case["weight_names"]]
    assert [w.path.split("/")[-1] for w in layer.weights] == names  # TFA's order and names
    layer.set_weights(_numbered(case, "weight_"))
    initial_state = _numbered(case, "initial_state_") or None
    return layer(case["x"], initial_state=initial_state, training=training)


@pytest.mark.parametrize("name", _fixture_cases())
def test_matches_tensorflow_addons(name):
    """TFA's weight list through `set_weights`, then TFA's sequence and final states."""
    case = _load_case(name)
    outputs = _run_with_tfa_weights(case, _layer_for(case))
    harness.assert_allclose(outputs, _numbered(case, "output_"), 1e-5, 1e-5, name)


@pytest.mark.parametrize("name", ["layer_norm_lstm", "peephole_lstm", "layer_norm_simple_rnn"])
def test_dropout_only_in_training(name):
    """With dropout, inference still gives TFA's numbers (Keras's split-kernel LSTM path for
    recurrent dropout included) and training draws masks."""
    case = _load_case(name)
    layer = _layer_for(case, dropout=0.5, recurrent_dropout=0.5, seed=1)
    inference = _run_with_tfa_weights(case, layer)
    harness.assert_allclose(inference, _numbered(case, "output_"), 1e-5, 1e-5, name)
    training = layer(case["x"], training=True)
    assert not np.allclose(training[0], inference[0])


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        (LayerNormLSTMCell, {"units": 3, "recurrent_dropout": 0.25}),
        (LayerNormSimpleRNNCell, {"units": 3, "dropout": 0.25}),
        (PeepholeLSTMCell, {"units": 3}),
        (NASCell, {"units": 3, "projection": 2, "use_bias": True}),
        (ESNCell, {"units": 3, "connectivity": 0.5, "leaky": 0.5}),
    ],
)
def test_cell_in_keras_rnn_harness(cls, kwargs):
    """Each cell as it is used: inside `keras.layers.RNN` (returning the sequence and states)."""
    harness.assert_config_round_trip(cls(**kwargs), kwargs)
    output_size = kwargs.get("projection", kwargs["units"])
    harness.run_layer_test(
        RNNOverCell,
        {"cell": cell_config(cls, **kwargs), "return_sequences": True},
        X,
        expected_output_shape=(4, 5, output_size),
        atol=1e-4,
    )


def test_esn_harness():
    harness.run_layer_test(
        ESN,
        {"units": 4, "connectivity": 0.5, "leaky": 0.5, "return_sequences": True},
        X,
        expected_output_shape=(4, 5, 4),
        atol=1e-4,
    )


def test_esn_readout_trains_and_reservoir_stays():
    inputs = keras.Input((5, 3))
    esn = ESN(6, connectivity=0.5)
    model = keras.Model(inputs, keras.layers.Dense(1)(esn(inputs)))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = [w.numpy() for w in esn.weights]
    model.fit(X, np.ones((4, 1), "float32"), epochs=2, verbose=0)
    assert esn.trainable_weights == [] and len(esn.non_trainable_weights) == 3
    harness.assert_allclose([w.numpy() for w in esn.weights], before, 0, 0, "reservoir")


def test_esn_builds_inside_an_xla_function():
    """The reservoir is drawn outside the compiled function (eigenvalues do not compile)."""
    layer = ESN(4, return_sequences=True)
    output = tf.function(layer, jit_compile=True)(X)
    np.testing.assert_allclose(output, layer(X), atol=1e-5)


@pytest.mark.parametrize("use_norm2", [False, True])
def test_esn_reservoir_scaling_and_sparsity(use_norm2):
    """Ours has TFA's properties: the spectral radius (or the Frobenius norm with `use_norm2`)
    as asked, and about `connectivity` of the entries kept (TFA's own draw as the reference)."""
    with np.load(FIXTURE) as fixture:
        radius = float(fixture["esn_init/spectral_radius"])
        connectivity = float(fixture["esn_init/connectivity"])
        tfa_reservoir = fixture["esn_init/recurrent_kernel" + ("_norm2" if use_norm2 else "")]
    cell = ESNCell(40, connectivity=connectivity, spectral_radius=radius, use_norm2=use_norm2)
    cell.build((None, 3))
    ours = cell.recurrent_kernel.numpy()
    for reservoir in (ours, tfa_reservoir):
        if use_norm2:
            np.testing.assert_allclose(np.linalg.norm(reservoir), radius, rtol=1e-5)
        else:
            np.testing.assert_allclose(np.abs(np.linalg.eigvals(reservoir)).max(), radius, 1e-4)
        # 1600 Bernoulli(0.2) draws: standard deviation 0.01.
        assert abs(np.mean(reservoir != 0) - connectivity) < 0.04
    other = ESNCell(40, connectivity=connectivity, spectral_radius=radius, use_norm2=use_norm2)
    other.build((None, 3))
    assert not np.array_equal(other.recurrent_kernel.numpy(), ours)  # a fresh draw per build


def test_cell_configs_carry_tfa_arguments():
    cell = LayerNormLSTMCell(3, norm_epsilon=1e-4, norm_gamma_initializer="zeros")
    clone = LayerNormLSTMCell.from_config(cell.get_config())
    assert clone.norm_epsilon == 1e-4 and clone.get_config() == cell.get_config()
    esn = ESN(5, connectivity=0.3, leaky=0.5, return_sequences=True, return_state=True)
    clone = ESN.from_config(esn.get_config())
    assert clone.get_config() == esn.get_config() and clone.cell.connectivity == 0.3


@pytest.mark.parametrize("cls", [*CELLS.values(), ESN])
def test_bad_units(cls):
    with pytest.raises(ValueError, match="Received: units=0"):
        cls(0)


@pytest.mark.parametrize(
    "cls, kwargs, message",
    [
        (ESNCell, {"connectivity": 0.0}, "connectivity=0.0"),
        (ESN, {"connectivity": 1.5}, "connectivity=1.5"),
        (ESNCell, {"spectral_radius": 1.2}, "spectral_radius=1.2"),
        (ESN, {"spectral_radius": 0}, "spectral_radius=0"),
        (ESNCell, {"leaky": 0}, "leaky=0"),
        (NASCell, {"projection": 0}, "projection=0"),
        (LayerNormLSTMCell, {"dropout": 1.0}, "dropout=1.0"),
        (LayerNormSimpleRNNCell, {"recurrent_dropout": -0.1}, "recurrent_dropout=-0.1"),
        (PeepholeLSTMCell, {"dropout": 2}, "dropout=2"),
        (LayerNormLSTMCell, {"norm_epsilon": 0.0}, "norm_epsilon=0.0"),
        (LayerNormSimpleRNNCell, {"layernorm_epsilon": -1.0}, "layernorm_epsilon=-1.0"),
    ],
)
def test_bad_arguments(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(4, **kwargs)
