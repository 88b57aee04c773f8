"""The vision classifiers' shared input checks and resizing, and their registry entries."""

import pytest

import zoo
import zoo.vision  # noqa: F401  (registers the models)
from zoo.vision.inputs import check_image_shape, check_label_smoothing, resized_input
from zoo.vision.vit import ViTBackbone

VISION_FAMILIES = ("vit", "swin", "mobilenet")


def test_check_image_shape():
    assert check_image_shape("input_shape", [8, 8, 1]) == (8, 8, 1)
    assert check_image_shape("input_shape", None) is None
    for bad in ((8, 8), (8, 0, 3), (8, 8, 3.0), "883"):
        with pytest.raises(ValueError, match="input_shape="):
            check_image_shape("input_shape", bad)
    with pytest.raises(ValueError, match="input_shape=None"):
        check_image_shape("input_shape", None, allow_none=False)


def test_check_label_smoothing():
    assert check_label_smoothing(0) == 0.0
    with pytest.raises(ValueError, match=r"\[0, 1\). Received: label_smoothing=1.0"):
        check_label_smoothing(1.0)


def test_resized_input_resizes_only_when_the_shape_differs():
    backbone = ViTBackbone(image_size=8, patch_size=4, hidden_dim=8, num_layers=1, num_heads=2)
    inputs, images = resized_input(None, backbone, "float32")
    assert images is inputs and tuple(inputs.shape) == (None, 8, 8, 3)
    inputs, images = resized_input((8, 8, 3), backbone, "float32")
    assert images is inputs
    inputs, images = resized_input((4, 4, 3), backbone, "float32")
    assert tuple(inputs.shape) == (None, 4, 4, 3) and tuple(images.shape) == (None, 8, 8, 3)
    with pytest.raises(ValueError, match=r"input_shape=\(4, 4, 1\)"):
        resized_input((4, 4, 1), backbone, "float32")


@pytest.mark.parametrize("family", VISION_FAMILIES)
def test_every_vision_entry_is_a_tunable_classifier_of_its_family(family):
    names = zoo.list_models(family=family)
    assert names
    for name in names:
        spec = zoo.get_spec(name)
        assert spec.task == "classifier", name
        assert spec.tunable, name
