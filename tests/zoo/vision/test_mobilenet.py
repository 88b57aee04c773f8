"""MobileNetV2: channel rounding, structure, arguments, QAT to int8 TFLite.

The registry test runs the harness on every preset.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
import zoo.vision  # noqa: F401  (registers the models)
from layers.convolution import InvertedResidual, SqueezeExcite
from layers.quantization import QuantizedConv2D, QuantizedDepthwiseConv2D, quantize_aware
from serving.tflite import tflite_predict, to_tflite
from tests import harness
from zoo.registry import get_spec
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
    model = MobileNetV2Classifier.from_arguments(
        num_classes=3, se_ratio=0.25, head_filters=None, **TINY
    )
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
    with pytest.raises(ValueError, match=r"blocks\[1\]=\(2, 8, 0, 2\)"):
        MobileNetV2Backbone(input_shape=(8, 8, 3), blocks=((1, 8, 1, 1), (2, 8, 0, 2)))
    with pytest.raises(TypeError, match="backbone="):
        MobileNetV2Classifier(backbone=None, num_classes=3)
    with pytest.raises(ValueError, match="dropout=1.0"):
        MobileNetV2Classifier.from_arguments(num_classes=3, dropout=1.0, **TINY)


def test_classifier_on_a_backbone_and_from_flat_arguments():
    backbone = MobileNetV2Backbone(**TINY, head_filters=16)
    model = MobileNetV2Classifier(backbone, num_classes=3, dropout=0.0)
    assert model.backbone is backbone
    assert [layer.name for layer in model.layers][-2:] == ["gap", "logits"]
    flat = MobileNetV2Classifier.from_arguments(num_classes=3, head_filters=16, **TINY)
    assert flat.backbone.name == "backbone" and flat.get_layer("dropout").rate == 0.2
    assert flat.backbone.input_shape_ == (8, 8, 3)
    assert flat(np.zeros((2, 8, 8, 3), "float32")).shape == (2, 3)


@pytest.mark.parametrize(
    "name",
    [
        "mobilenet_v2_050_224",
        # Squeeze-excite and hard-swish: int8 LOGISTIC, MUL and HARD_SWISH in TFLite.
        pytest.param("mobilenet_v3_style_100_224", marks=pytest.mark.slow),
    ],
)
def test_quantize_aware_quantizes_every_block_and_converts_to_int8_tflite(name):
    keras.utils.set_random_seed(0)
    model = zoo.create(name, **get_spec(name).tiny)
    qat = quantize_aware(model)
    assert qat.float_layers == []
    assert not any(isinstance(layer, InvertedResidual | keras.Model) for layer in qat.layers)
    # Stem, 3 blocks (expand only where expansion > 1) and head; every batch norm folded.
    assert sum(isinstance(layer, QuantizedDepthwiseConv2D) for layer in qat.layers) == 3
    assert sum(isinstance(layer, QuantizedConv2D) for layer in qat.layers) == 1 + 2 + 3 + 1
    assert all(layer.fold_batch_norm for layer in qat.layers if isinstance(layer, QuantizedConv2D))
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in qat.layers)

    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=(16, 8, 8, 3)).astype("float32"), rng.integers(0, 3, 16)
    qat.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = qat.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    expected = qat.predict(x, verbose=0)
    with harness.temporary_path("mobilenet_qat.keras") as path:
        qat.save(path)
        np.testing.assert_allclose(keras.saving.load_model(path).predict(x, verbose=0), expected)

    int8 = to_tflite(qat, quantize="int8")
    interpreter = tf.lite.Interpreter(model_content=int8)
    output = interpreter.get_output_details()[0]
    assert interpreter.get_input_details()[0]["dtype"] == np.int8 and output["dtype"] == np.int8
    assert {t["dtype"] for t in interpreter.get_tensor_details()} <= {np.int8, np.int32}
    # TFLite runs the numbers the QAT model trained with: equal up to one output int8 step.
    np.testing.assert_allclose(
        tflite_predict(int8, x), expected, atol=1.01 * output["quantization"][0]
    )
