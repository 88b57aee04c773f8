"""MobileNetV2: channel rounding, structure, arguments (the registry test runs the harness)."""

import numpy as np
import pytest

import zoo.vision  # noqa: F401  (registers the models)
from layers.convolution import InvertedResidual, SqueezeExcite
from zoo.vision.mobilenet import MobileNetV2Backbone, MobileNetV2Classifier, make_divisible

TINY = dict(input_shape=(8, 8, 3), blocks=((1, 8, 1, 1), (2, 8, 2, 2)), stem_filters=8)


def test_make_divisible_matches_the_reference_rounding():
    assert make_divisible(32 * 0.35) == 16  # 11.2 -> 8 would lose > 10%
    assert make_divisible(24 * 0.5) == 16
    assert make_divisible(96 * 0.75) == 72
    assert make_divisible(1280 * 1.4) == 1792


def test_backbone_structure_and_feature_map():
    backbone = MobileNetV2Backbone(**TINY, head_filters=16)
    blocks = [layer for layer in backbone.layers if isinstance(layer, InvertedResidual)]
    assert [b.strides for b in blocks] == [(1, 1), (2, 2), (1, 1)]
    features = backbone(np.zeros((2, 8, 8, 3), "float32"))["feature_map"]
    assert features.shape == (2, 2, 2, 16)


def test_default_blocks_have_the_papers_widths():
    backbone = MobileNetV2Backbone(input_shape=(32, 32, 3))
    blocks = [layer for layer in backbone.layers if isinstance(layer, InvertedResidual)]
    assert len(blocks) == 17
    assert [b.filters for b in blocks][::4] == [16, 32, 64, 96, 320]
    features = backbone(np.zeros((1, 32, 32, 3), "float32"))["feature_map"]
    assert features.shape == (1, 1, 1, 1280)


def test_se_option_adds_squeeze_excite():
    model = MobileNetV2Classifier(num_classes=3, se_ratio=0.25, head_filters=None, **TINY)
    sublayers = [s for s in model.backbone._flatten_layers() if isinstance(s, SqueezeExcite)]
    assert len(sublayers) == 3
    assert model(np.zeros((1, 8, 8, 3), "float32")).shape == (1, 3)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"blocks=\[\[1, 8, 1\]\]"):
        MobileNetV2Backbone(input_shape=(8, 8, 3), blocks=[[1, 8, 1]])
    with pytest.raises(ValueError, match="width_multiplier=0"):
        MobileNetV2Backbone(width_multiplier=0)
    with pytest.raises(ValueError, match="drop_path_rate=1.0"):
        MobileNetV2Backbone(drop_path_rate=1.0)
    with pytest.raises(ValueError, match="input_shape=None"):
        MobileNetV2Backbone(input_shape=None)
