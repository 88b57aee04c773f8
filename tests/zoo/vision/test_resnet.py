"""ResNet: block layout, the published parameter counts, arguments, presets, shared checks."""

import keras
import keras_tuner
import numpy as np
import pytest

import zoo
import zoo.vision.resnet  # noqa: F401  (registers the presets)
from tests import harness
from zoo.datasets import load_digits
from zoo.vision.resnet import ResNetBackbone, ResNetClassifier

TINY = dict(image_size=8, depths=(1, 1), widths=(4, 8), stem_width=4)


def images(n=2, size=8, channels=3):
    return np.random.default_rng(0).normal(size=(n, size, size, channels)).astype("float32")


def trainable_count(model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_backbone_passes_model_checks():
    # The registered-model test runs basic blocks and the ImageNet stem (resnet18, tiny); here
    # one bottleneck block with a projection shortcut on the CIFAR stem.
    config = dict(
        image_size=8, depths=(1,), widths=(4,), stem_width=4, block_type="bottleneck", stem="cifar"
    )
    harness.run_model_test(lambda: ResNetBackbone(**config), images(4), init_kwargs=config)


def test_feature_map_shapes():
    basic = ResNetBackbone(image_size=32, depths=(1, 1, 1), widths=(4, 8, 16), stem_width=4)
    # ImageNet stem: /4; then /2 for every stage after the first.
    assert basic(images(size=32))["feature_map"].shape == (2, 2, 2, 16)
    bottleneck = ResNetBackbone(**TINY, stem="cifar", block_type="bottleneck")
    assert bottleneck(images())["feature_map"].shape == (2, 4, 4, 32)
    assert bottleneck.feature_channels == 32
    odd = ResNetBackbone(**{**TINY, "image_size": (7, 9)})
    assert odd(np.zeros((2, 7, 9, 3), "float32"))["feature_map"].shape == (2, 1, 2, 8)


def test_shortcuts_project_only_where_the_shape_changes():
    def projections(backbone):
        return [layer.name for layer in backbone.layers if layer.name.endswith("shortcut_conv")]

    # Basic blocks keep the stem's width in stage 0: identity there, projection on downsampling.
    basic = ResNetBackbone(**{**TINY, "depths": (2, 2)})
    assert projections(basic) == ["stage_1_block_0_shortcut_conv"]
    bottleneck = ResNetBackbone(**{**TINY, "depths": (2, 2)}, block_type="bottleneck")
    assert projections(bottleneck) == [
        "stage_0_block_0_shortcut_conv",
        "stage_1_block_0_shortcut_conv",
    ]


def test_strided_convolutions_pad_both_sides():
    # A 3x3 stride-2 convolution of ones over ones: with padding on both sides (torchvision's),
    # the top-left output sees a 2x2 patch; keras's "same" would see 3x3 there.
    backbone = ResNetBackbone(**{**TINY, "stem": "cifar"})
    conv = backbone.get_layer("stage_1_block_0_1_conv")
    probe = keras.Sequential([backbone.get_layer("stage_1_block_0_1_pad"), conv])
    conv.kernel.assign(np.ones(conv.kernel.shape, "float32"))
    out = np.asarray(probe(np.ones((1, 8, 8, 4), "float32")))
    assert out[0, 0, 0, 0] == 2 * 2 * 4 and out[0, 1, 1, 0] == 3 * 3 * 4


@pytest.mark.parametrize(("name", "expected"), [("resnet18", 11_689_512), ("resnet50", 25_557_032)])
def test_published_parameter_counts(name, expected):
    # He et al. / torchvision count trainable parameters (batch-norm statistics are buffers);
    # the count does not depend on the resolution, so build at 32 px.
    assert trainable_count(zoo.create(name, image_size=32)) == expected


def test_resnet50_has_the_layout_of_keras_applications():
    # keras.applications gives every convolution a bias; with `conv_bias=True` the two models
    # hold the same variables, shape for shape.
    ours = zoo.create("resnet50", image_size=32, conv_bias=True)
    theirs = keras.applications.ResNet50(weights=None)
    assert ours.count_params() == theirs.count_params() == 25_636_712
    shapes = sorted(tuple(w.shape) for w in ours.weights)
    assert shapes == sorted(tuple(w.shape) for w in theirs.weights)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"widths=\(4,\)"):
        ResNetBackbone(**{**TINY, "widths": (4,)})
    with pytest.raises(ValueError, match=r"depths=\(1, 0\)"):
        ResNetBackbone(**{**TINY, "depths": (1, 0)})
    with pytest.raises(ValueError, match="block_type='wide'"):
        ResNetBackbone(**TINY, block_type="wide")
    with pytest.raises(ValueError, match="stem='cifar10'"):
        ResNetBackbone(**TINY, stem="cifar10")
    with pytest.raises(ValueError, match="norm_momentum=1.0"):
        ResNetBackbone(**TINY, norm_momentum=1.0)
    with pytest.raises(TypeError, match="conv_bias=1"):
        ResNetBackbone(**TINY, conv_bias=1)
    with pytest.raises(ValueError, match="num_classes=0"):
        ResNetClassifier.from_arguments(num_classes=0, **TINY)
    with pytest.raises(ValueError, match="label_smoothing=1.0"):
        ResNetClassifier.from_arguments(num_classes=2, label_smoothing=1.0, **TINY)
    with pytest.raises(ValueError, match="output_activation='sigmoid'"):
        ResNetClassifier.from_arguments(num_classes=2, output_activation="sigmoid", **TINY)
    with pytest.raises(TypeError, match="backbone="):
        ResNetClassifier(backbone="resnet18")
    with pytest.raises(ValueError, match="patch_size=4"):
        ResNetClassifier.from_arguments(num_classes=2, patch_size=4, **TINY)


def test_presets_are_registry_entries():
    assert zoo.list_models(family="resnet") == ["resnet18", "resnet50", "resnet_digits"]
    assert zoo.list_models(family="resnet", task="classifier") == zoo.list_models("resnet*")
    assert all(zoo.get_spec(name).tunable for name in zoo.list_models(family="resnet"))
    model = ResNetClassifier.from_preset("resnet_digits", num_classes=3, label_smoothing=0.1)
    assert model.input_shape == (None, 8, 8, 1)
    assert model.backbone.output["feature_map"].shape == (None, 2, 2, 64)
    assert model(images(channels=1)).shape == (2, 3)
    assert model.label_smoothing == 0.1


def test_search_space_builds_the_chosen_architecture():
    hp = keras_tuner.HyperParameters()
    hp.Fixed("stages", 3)
    hp.Fixed("block_type", "bottleneck")
    overrides = zoo.get_spec("resnet_digits").search_space(hp)
    model = zoo.create("resnet_digits", **overrides)
    assert model.backbone.depths == (1, 1, 1) and model.backbone.widths == (16, 32, 64)
    assert model.backbone.feature_channels == 256


@pytest.mark.slow
def test_resnet_digits_learns_digits():
    keras.utils.set_random_seed(0)
    digits = load_digits(dtype="float32")
    model = zoo.create("resnet_digits")
    model.fit(digits.train.x, digits.train.y, batch_size=32, epochs=10, verbose=0)
    _, accuracy = model.evaluate(digits.test.x, digits.test.y, verbose=0)
    assert accuracy > 0.9
