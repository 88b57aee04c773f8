import keras
import pytest

import zoo
from zoo.registry import UnknownModelError


def test_list_models_has_the_reference_models():
    names = zoo.list_models()
    assert {"mlp_digits", "cnn_digits"} <= set(names)
    assert names == sorted(names)


def test_list_models_filters_by_pattern():
    assert zoo.list_models("cnn_*") == [n for n in zoo.list_models() if n.startswith("cnn_")]
    assert zoo.list_models("no_such_*") == []


def test_create_applies_overrides():
    model = zoo.create("mlp_digits", hidden_units=(8, 4))
    assert model.get_config()["hidden_units"] == [8, 4]
    assert model.compiled


def test_unknown_name_quotes_it_and_suggests_close_names():
    with pytest.raises(UnknownModelError, match=r"'cnn_digit'.*Did you mean: cnn_digits"):
        zoo.create("cnn_digit")


def test_duplicate_name_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        zoo.register("mlp_digits", zoo.basic.MLPClassifier)


def test_register_as_decorator_and_unregister():
    @zoo.register("test_only_linear", tiny={}, units=3)
    def linear(units):
        """A linear model used only by this test."""
        return keras.Sequential([keras.Input((2,)), keras.layers.Dense(units)])

    try:
        assert "test_only_linear" in zoo.list_models()
        assert zoo.get_spec("test_only_linear").description.startswith("A linear model")
        assert zoo.create("test_only_linear").output_shape == (None, 3)
    finally:
        zoo.unregister("test_only_linear")
    assert "test_only_linear" not in zoo.list_models()


def test_invalid_arguments_name_the_argument():
    with pytest.raises(ValueError, match=r"Received: hidden_units=\(\)"):
        zoo.create("mlp_digits", hidden_units=())
    with pytest.raises(ValueError, match=r"Received: dropout=1.5"):
        zoo.create("cnn_digits", dropout=1.5)
    with pytest.raises(ValueError, match=r"Received: input_shape=\(8, 8\)"):
        zoo.create("cnn_digits", input_shape=(8, 8))
