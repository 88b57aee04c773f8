"""The shared bases: config from the constructor, flat arguments, presets, registry lookups."""

import keras
import numpy as np
import pytest

import zoo
from tests import harness
from zoo.models import Backbone, Task, classification_head


@keras.saving.register_keras_serializable(package="keras_zoo_tests")
class DenseBackbone(Backbone):
    def __init__(self, hidden_dim: int = 4, input_dim: int = 3, widths=(2,), **kwargs):
        dtype = self.dtype_policy_from(kwargs)
        inputs = keras.Input((input_dim,), name="features")
        x = inputs
        for width in (*widths, hidden_dim):
            x = keras.layers.Dense(width, dtype=dtype)(x)
        super().__init__(inputs=inputs, outputs={"sequence_output": x}, dtype=dtype, **kwargs)


@keras.saving.register_keras_serializable(package="keras_zoo_tests")
class DenseClassifier(Task):
    backbone_class = DenseBackbone

    def __init__(self, backbone, num_classes: int = 2, output_activation=None, **kwargs):
        dtype = self.dtype_policy_from(kwargs)
        features = backbone(backbone.input)["sequence_output"]
        outputs = classification_head(
            features, num_classes, output_activation=output_activation, dtype=dtype
        )
        super().__init__(
            inputs=backbone.input, outputs=outputs, backbone=backbone, dtype=dtype, **kwargs
        )


@pytest.fixture
def registered():
    zoo.register("test_dense_backbone", DenseBackbone, family="dense", hidden_dim=5)
    zoo.register(
        "test_dense_classifier", DenseClassifier, family="dense", task="classifier", num_classes=3
    )
    yield
    zoo.unregister("test_dense_backbone")
    zoo.unregister("test_dense_classifier")


def test_backbone_config_is_its_constructor_arguments_and_attributes():
    backbone = DenseBackbone(hidden_dim=6, widths=(3, 2), name="b")
    config = backbone.get_config()
    assert config["hidden_dim"] == 6 and config["widths"] == [3, 2] and config["input_dim"] == 3
    assert backbone.hidden_dim == 6 and backbone.widths == (3, 2)
    rebuilt = DenseBackbone.from_config(config)
    assert rebuilt.get_config() == config
    harness.assert_config_covers_signature(backbone, {"hidden_dim": 6, "widths": (3, 2)})


def test_task_nests_the_backbone_and_compiles_itself():
    model = DenseClassifier(DenseBackbone(hidden_dim=4), num_classes=3)
    config = model.get_config()
    assert config["backbone"]["class_name"] == "DenseBackbone"
    assert config["backbone"]["config"]["hidden_dim"] == 4
    assert model.compiled and isinstance(model.optimizer, keras.optimizers.AdamW)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-3)
    x, y = np.ones((4, 3), "float32"), np.array([0, 1, 2, 0])
    model.fit(x, y, epochs=1, verbose=0)
    rebuilt = DenseClassifier.from_config(config)
    assert rebuilt.get_config()["backbone"]["config"] == config["backbone"]["config"]


def test_softmax_output_gets_a_probability_loss():
    model = DenseClassifier.from_arguments(num_classes=2, output_activation="softmax")
    assert model.loss.get_config()["from_logits"] is False


def test_from_arguments_splits_task_and_backbone_and_names_unknown_arguments():
    model = DenseClassifier.from_arguments(num_classes=4, hidden_dim=7, dtype="float32")
    assert model.num_classes == 4 and model.backbone.hidden_dim == 7
    assert model.backbone.name == "backbone"
    with pytest.raises(ValueError, match="Unknown argument.*hidden_size=7"):
        DenseClassifier.from_arguments(num_classes=4, hidden_size=7)


def test_flat_config_of_the_old_layout_loads_through_from_arguments():
    config = {"name": "old", "trainable": True, "num_classes": 2, "hidden_dim": 3}
    model = DenseClassifier.from_config(config)
    assert model.backbone.hidden_dim == 3 and model.num_classes == 2


def test_save_and_load_keep_outputs(tmp_path):
    model = DenseClassifier.from_arguments(num_classes=2, hidden_dim=3)
    x = np.random.default_rng(0).normal(size=(2, 3)).astype("float32")
    model.fit(x, np.array([0, 1]), epochs=1, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_presets_and_registry_lookups(registered):
    assert zoo.list_models(family="dense") == ["test_dense_backbone", "test_dense_classifier"]
    assert zoo.list_models(family="dense", task="backbone") == ["test_dense_backbone"]
    assert "dense" in zoo.registry.list_families()
    backbone = DenseBackbone.from_preset("test_dense_backbone", widths=(1,))
    assert backbone.hidden_dim == 5 and backbone.widths == (1,)
    classifier = DenseClassifier.from_preset("test_dense_backbone", num_classes=4)
    assert classifier.num_classes == 4 and classifier.backbone.hidden_dim == 5
    created = zoo.create("test_dense_classifier", hidden_dim=2)
    assert isinstance(created, DenseClassifier) and created.backbone.hidden_dim == 2
    assert not zoo.get_spec("test_dense_classifier").tunable
    with pytest.raises(ValueError, match="not a DenseBackbone preset"):
        DenseBackbone.from_preset("test_dense_classifier")


def test_every_registered_model_names_its_family_and_task():
    for name in zoo.list_models():
        spec = zoo.get_spec(name)
        assert spec.family != "custom", name
        assert spec.task != "model", name
