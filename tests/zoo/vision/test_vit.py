"""ViT: layers, backbone, classifier options, position interpolation and Hugging Face import."""

import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from safetensors.numpy import load_file, save_file

import serving
import zoo
import zoo.vision  # noqa: F401  (registers the models and converters)
from tests import harness
from zoo.vision.vit import ClassToken, ViTBackbone, ViTClassifier, ViTEncoderBlock
from zoo.vision.vit.backbone import interpolate_positions

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "huggingface")
TINY = dict(image_size=8, patch_size=4, hidden_dim=8, num_layers=2, num_heads=2, mlp_dim=8)


def images(n=2, size=8, channels=3):
    return np.random.default_rng(0).normal(size=(n, size, size, channels)).astype("float32")


def test_class_token_layer():
    x = np.ones((2, 3, 4), "float32")
    out = harness.run_layer_test(ClassToken, {}, x, expected_output_shape=(2, 4, 4))
    assert out is not None
    np.testing.assert_allclose(ClassToken()(x)[:, 0], np.zeros((2, 4)))


def test_encoder_block_layer():
    harness.run_layer_test(
        ViTEncoderBlock,
        {"num_heads": 2, "mlp_dim": 8, "drop_path_rate": 0.1},
        np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32"),
        expected_output_shape=(2, 5, 8),
    )


def test_encoder_block_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_heads=0"):
        ViTEncoderBlock(num_heads=0, mlp_dim=8)
    with pytest.raises(ValueError, match="drop_path_rate=1"):
        ViTEncoderBlock(num_heads=2, mlp_dim=8, drop_path_rate=1.0)
    with pytest.raises(ValueError, match="num_heads=3"):
        ViTEncoderBlock(num_heads=3, mlp_dim=8)(np.zeros((1, 2, 8), "float32"))


def test_backbone_passes_model_checks():
    config = {**TINY, "position_embedding": "sinusoidal", "num_layers": 1}
    harness.run_model_test(lambda: ViTBackbone(**config), images(4), init_kwargs=config)


def test_backbone_output_shapes():
    tokens = ViTBackbone(**TINY)(images())["sequence_output"]
    assert tokens.shape == (2, 1 + 4, 8)
    no_token = ViTBackbone(**TINY, class_token=False)(images())["sequence_output"]
    assert no_token.shape == (2, 4, 8)


def test_backbone_rejects_bad_arguments():
    with pytest.raises(ValueError, match="patch_size=3"):
        ViTBackbone(**{**TINY, "patch_size": 3})
    with pytest.raises(ValueError, match="num_heads=3"):
        ViTBackbone(**{**TINY, "num_heads": 3})
    with pytest.raises(ValueError, match="position_embedding='rotary'"):
        ViTBackbone(**TINY, position_embedding="rotary")
    with pytest.raises(ValueError, match="pooling='max'"):
        ViTClassifier.from_arguments(num_classes=2, pooling="max", **TINY)
    with pytest.raises(ValueError, match="label_smoothing=1.5"):
        ViTClassifier.from_arguments(num_classes=2, label_smoothing=1.5, **TINY)
    with pytest.raises(ValueError, match=r"input_shape=\(4, 4, 3\)"):
        ViTClassifier.from_arguments(num_classes=2, input_shape=(4, 4, 3), num_channels=1, **TINY)


def test_interpolation_keeps_class_row_and_constant_grid():
    table = np.concatenate([np.full((1, 3), 7.0), np.ones((4, 3))]).astype("float32")
    resized = interpolate_positions(table, (2, 2), (3, 3), num_prefix=1)
    assert resized.shape == (10, 3)
    np.testing.assert_allclose(resized[0], [7, 7, 7])
    np.testing.assert_allclose(resized[1:], np.ones((9, 3)), atol=1e-5)
    with pytest.raises(ValueError, match=r"old_grid=\(3, 3\)"):
        interpolate_positions(table, (3, 3), (2, 2), num_prefix=1)


def test_with_image_size_keeps_weights_and_resizes_positions():
    backbone = ViTBackbone(**TINY)
    same = backbone.with_image_size(8)
    np.testing.assert_allclose(
        same(images())["sequence_output"], backbone(images())["sequence_output"], atol=1e-6
    )
    bigger = backbone.with_image_size(16)
    assert bigger(images(size=16))["sequence_output"].shape == (2, 1 + 16, 8)
    kernel = backbone.get_layer("patch_embedding").kernel.numpy()
    np.testing.assert_array_equal(bigger.get_layer("patch_embedding").kernel.numpy(), kernel)


def test_label_smoothing_loss_matches_formula():
    model = ViTClassifier.from_arguments(num_classes=3, label_smoothing=0.3, pooling="mean", **TINY)
    logits = np.array([[2.0, 0.0, -1.0]], "float32")
    log_p = logits - np.log(np.exp(logits).sum())
    target = np.array([0.3 / 3] * 3)
    target[1] += 0.7
    expected = -(target * log_p).sum()
    np.testing.assert_allclose(model.loss(np.array([1]), logits), expected, rtol=1e-5)


def test_classifier_resizes_small_inputs():
    model = ViTClassifier.from_arguments(num_classes=3, input_shape=(4, 4, 1), **TINY)
    assert model.backbone.num_channels == 1
    assert model(np.zeros((2, 4, 4, 1), "float32")).shape == (2, 3)


def test_classifier_exports_for_serving(tmp_path):
    model = zoo.create("vit_tiny_digits", **zoo.get_spec("vit_tiny_digits").tiny)
    x = images(3, size=4, channels=1)
    path = serving.export(model, tmp_path, "vit")
    outputs = tf.saved_model.load(path).signatures["serving_default"](images=tf.constant(x))
    np.testing.assert_allclose(outputs["logits"].numpy(), model.predict(x, verbose=0), atol=1e-5)


def test_huggingface_vit_matches_last_hidden_state():
    directory = os.path.join(FIXTURES, "vit_tiny")
    backbone = zoo.from_huggingface(directory)
    assert isinstance(backbone, ViTBackbone)
    out = backbone(np.load(os.path.join(directory, "input.npy")))["sequence_output"]
    np.testing.assert_allclose(out, np.load(os.path.join(directory, "expected.npy")), atol=1e-4)


def test_huggingface_vit_shape_mismatch_names_the_parameter(tmp_path):
    source = os.path.join(FIXTURES, "vit_tiny")
    shutil.copy(os.path.join(source, "config.json"), tmp_path)
    weights = load_file(os.path.join(source, "model.safetensors"))
    weights["encoder.layer.1.intermediate.dense.bias"] = np.zeros(5, "float32")
    save_file(weights, str(tmp_path / "model.safetensors"))
    with pytest.raises(ValueError, match="encoder.layer.1.intermediate.dense.bias"):
        zoo.from_huggingface(str(tmp_path))
    del weights["layernorm.weight"]
    save_file(weights, str(tmp_path / "model.safetensors"))
    with pytest.raises(ValueError, match="parameter='encoder.layer.1"):
        zoo.from_huggingface(str(tmp_path))


def test_huggingface_vit_unsupported_option_is_named(tmp_path):
    source = os.path.join(FIXTURES, "vit_tiny")
    shutil.copy(os.path.join(source, "model.safetensors"), tmp_path)
    with open(os.path.join(source, "config.json")) as f:
        config = json.load(f)
    (tmp_path / "config.json").write_text(json.dumps({**config, "hidden_act": "relu"}))
    with pytest.raises(ValueError, match="hidden_act='relu'"):
        zoo.from_huggingface(str(tmp_path))
