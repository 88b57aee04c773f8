"""Families that compile with XLA by default, and the ways to keep XLA off."""

import keras
import pytest
from tensorflow.python.framework import config as tf_config

from zoo import registry
from zoo.basic.mlp import MLPClassifier
from zoo.train import TrainConfig, train


class XLAMLP(MLPClassifier):
    """An MLP whose family is taken to compile with XLA."""

    default_jit_compile = True


def small(cls=XLAMLP):
    return cls(input_shape=(4,), num_classes=3, hidden_units=(8,))


def test_family_default_reaches_compile_and_compile_can_turn_it_off():
    model = small()
    assert model.jit_compile is True
    model.compile(jit_compile=False)
    assert model.jit_compile is False
    model.compile()  # back to the family's default
    assert model.jit_compile is True
    assert small(MLPClassifier).jit_compile is False  # "auto": no XLA on CPU


def test_a_layer_that_cannot_compile_keeps_xla_off_and_a_request_names_it():
    model = small()
    model.get_layer(index=1).supports_jit = False
    name = model.get_layer(index=1).name
    model.compile()
    assert model.jit_compile is False
    with pytest.warns(UserWarning, match=rf"Dense '{name}' cannot compile with XLA"):
        model.compile(jit_compile=True)
    assert model.jit_compile is False


def test_op_determinism_keeps_the_family_default_off_without_a_warning(recwarn):
    tf_config.enable_op_determinism()
    try:
        model = small()
    finally:
        tf_config.disable_op_determinism()
    assert model.jit_compile is False
    assert not [w for w in recwarn if "jit_compile" in str(w.message)]


def test_train_config_resolves_determinism_from_the_family(monkeypatch):
    assert TrainConfig(model="mlp_digits").deterministic is True
    monkeypatch.setattr(MLPClassifier, "default_jit_compile", True)
    assert registry.default_jit_compile("mlp_digits") is True
    assert TrainConfig(model="mlp_digits").deterministic is False
    assert TrainConfig(model="mlp_digits", xla=False).deterministic is True
    assert TrainConfig(model="mlp_digits", deterministic=True).deterministic is True
    with pytest.raises(ValueError, match="Received: xla='no'"):
        TrainConfig(model="mlp_digits", xla="no")


@pytest.mark.parametrize("xla", [True, False])
def test_zoo_train_compiles_with_the_family_default_unless_told_not_to(monkeypatch, tmp_path, xla):
    monkeypatch.setattr(MLPClassifier, "default_jit_compile", True)
    result = train(
        TrainConfig(
            model="mlp_digits",
            epochs=1,
            batch_size=256,
            xla=xla,
            overrides={"hidden_units": [8], "dropout": 0.0},
            output=str(tmp_path),
            verbose=0,
        )
    )
    assert result["jit_compile"] is xla
    assert keras.saving.load_model(result["model_path"]).count_params() > 0
