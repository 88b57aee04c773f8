"""Swin: window helpers against NumPy, layers, backbone, classifier, search space and Hugging
Face import."""

import os
import shutil

import keras
import keras_tuner
import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import zoo
import zoo.vision  # noqa: F401  (registers the models and converters)
from tests import harness
from zoo.vision.swin import (
    PatchMerging,
    SwinBackbone,
    SwinBlock,
    SwinClassifier,
    WindowAttention,
    shifted_window_mask,
)
from zoo.vision.swin.backbone import stage_windows
from zoo.vision.swin.layers import window_partition, window_reverse

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "huggingface")
TINY = dict(image_size=8, patch_size=2, embed_dim=8, depths=(2, 1), num_heads=(2, 2), window_size=2)


def test_window_partition_round_trip_and_order():
    x = np.arange(2 * 4 * 4 * 1, dtype="float32").reshape(2, 4, 4, 1)
    windows = window_partition(x, 2)
    assert windows.shape == (8, 4, 1)
    # The first window is the top-left 2x2 block, row-major.
    np.testing.assert_array_equal(np.asarray(windows[0, :, 0]), [0, 1, 4, 5])
    np.testing.assert_array_equal(np.asarray(windows[1, :, 0]), [2, 3, 6, 7])
    np.testing.assert_array_equal(np.asarray(window_reverse(windows, 2, 4, 4)), x)


def test_shifted_window_mask_by_hand():
    mask = shifted_window_mask(4, 4, window_size=2, shift=1)
    assert mask.shape == (4, 4, 4)
    # The top-left window holds one region: no masking.
    np.testing.assert_array_equal(mask[0], np.zeros((4, 4)))
    # The bottom-right window holds four regions (one per pixel): only the diagonal is open.
    np.testing.assert_array_equal(mask[3], np.where(np.eye(4), 0.0, -100.0))
    # The top-right window: columns split in two regions, rows in one.
    open_pairs = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]])
    np.testing.assert_array_equal(mask[1], np.where(open_pairs, 0.0, -100.0))


def test_stage_windows_follow_the_reference_rule():
    assert stage_windows((56, 56), 7) == (7, 3)
    assert stage_windows((7, 7), 7) == (7, 0)
    assert stage_windows((4, 4), 7) == (4, 0)


def test_window_attention_layer():
    harness.run_layer_test(
        WindowAttention,
        {"num_heads": 2, "window_size": 2},
        np.random.default_rng(0).normal(size=(4, 4, 8)).astype("float32"),
        expected_output_shape=(4, 4, 8),
    )


def test_swin_block_layer_with_shift():
    harness.run_layer_test(
        SwinBlock,
        {"num_heads": 2, "input_resolution": [4, 4], "window_size": 2, "shift_size": 1},
        np.random.default_rng(0).normal(size=(2, 16, 8)).astype("float32"),
        expected_output_shape=(2, 16, 8),
    )


def test_patch_merging_layer_and_order():
    harness.run_layer_test(
        PatchMerging,
        {"input_resolution": [2, 2]},
        np.random.default_rng(0).normal(size=(2, 4, 4)).astype("float32"),
        expected_output_shape=(2, 1, 8),
    )
    layer = PatchMerging((2, 2))
    x = np.arange(4, dtype="float32").reshape(1, 4, 1)
    layer.build(x.shape)
    layer.norm.gamma.assign(np.ones(4))
    layer.reduction.kernel.assign(np.eye(4, 2))
    # Neighbours in the order (0,0), (1,0), (0,1), (1,1): token values 0, 2, 1, 3, normalised.
    expected = (np.array([0, 2]) - 1.5) / np.sqrt(1.25 + 1e-5)
    np.testing.assert_allclose(np.asarray(layer(x))[0, 0], expected, rtol=1e-5)


def test_backbone_saves_and_reloads_on_its_own():
    # The full shared checks run on the tiny `swin_tiny_32` classifier, whose backbone is this
    # configuration (tests/zoo/test_registered_models.py); here the backbone as a model itself.
    backbone = SwinBackbone(**TINY)
    harness.assert_config_covers_signature(backbone, TINY)
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    with harness.temporary_path("backbone.keras") as path:
        backbone.save(path)
        reloaded = keras.saving.load_model(path)
    assert type(reloaded) is SwinBackbone
    harness.assert_allclose(reloaded(x), backbone(x), 1e-6, 1e-6, ".keras round trip")


def test_backbone_rejects_bad_arguments():
    with pytest.raises(ValueError, match="image_size=12"):
        SwinBackbone(**{**TINY, "image_size": 12})
    with pytest.raises(ValueError, match=r"num_heads=\(2,\)"):
        SwinBackbone(**{**TINY, "num_heads": (2,)})
    with pytest.raises(ValueError, match="shift_size=2"):
        SwinBlock(2, (4, 4), window_size=2, shift_size=2)
    with pytest.raises(ValueError, match=r"input_resolution=\(3, 3\)"):
        PatchMerging((3, 3))


def test_classifier_on_a_backbone_and_from_flat_arguments():
    backbone = SwinBackbone(**TINY)
    model = SwinClassifier(backbone, num_classes=3)
    assert model.backbone is backbone
    assert model(np.ones((2, 8, 8, 3), "float32")).shape == (2, 3)
    # Flat arguments: the backbone's channels follow `input_shape`, inputs are resized inside.
    flat = SwinClassifier.from_arguments(num_classes=3, input_shape=(4, 4, 1), **TINY)
    assert flat.backbone.name == "backbone" and flat.backbone.num_channels == 1
    assert flat.get_layer("resize") is not None
    assert flat(np.ones((2, 4, 4, 1), "float32")).shape == (2, 3)


def test_classifier_rejects_bad_arguments():
    with pytest.raises(TypeError, match="backbone="):
        SwinClassifier(backbone=None, num_classes=3)
    with pytest.raises(ValueError, match="label_smoothing=1.5"):
        SwinClassifier.from_arguments(num_classes=2, label_smoothing=1.5, **TINY)
    with pytest.raises(ValueError, match="output_activation='relu'"):
        SwinClassifier.from_arguments(num_classes=2, output_activation="relu", **TINY)
    with pytest.raises(ValueError, match=r"input_shape=\(4, 4, 3\)"):
        SwinClassifier.from_arguments(num_classes=2, input_shape=(4, 4, 3), num_channels=1, **TINY)


def test_search_space_gives_a_valid_model():
    hp = keras_tuner.HyperParameters()
    overrides = zoo.get_spec("swin_tiny_32").search_space(hp)
    assert set(hp.values) == {"first_stage_heads", "head_dim", "mlp_ratio", "drop_path_rate"}
    assert len(overrides["num_heads"]) == 3
    model = zoo.create("swin_tiny_32", **overrides)
    assert model.backbone.embed_dim == hp.values["first_stage_heads"] * hp.values["head_dim"]
    assert model(np.ones((1, 32, 32, 3), "float32")).shape == (1, 10)


def test_huggingface_swin_matches_last_hidden_state():
    directory = os.path.join(FIXTURES, "swin_tiny")
    backbone = zoo.from_huggingface(directory)
    assert isinstance(backbone, SwinBackbone)
    out = backbone(np.load(os.path.join(directory, "input.npy")))["sequence_output"]
    np.testing.assert_allclose(out, np.load(os.path.join(directory, "expected.npy")), atol=1e-4)


def test_huggingface_swin_shape_mismatch_names_the_parameter(tmp_path):
    source = os.path.join(FIXTURES, "swin_tiny")
    shutil.copy(os.path.join(source, "config.json"), tmp_path)
    weights = load_file(os.path.join(source, "model.safetensors"))
    name = "encoder.layers.0.blocks.1.attention.self.relative_position_bias_table"
    weights[name] = np.zeros((25, 2), "float32")
    save_file(weights, str(tmp_path / "model.safetensors"))
    with pytest.raises(ValueError, match=name):
        zoo.from_huggingface(str(tmp_path))
