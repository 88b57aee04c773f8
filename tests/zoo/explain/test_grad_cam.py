"""Grad-CAM and Grad-CAM++: hand-computed maps, a model that looks at one quadrant, zoo's nested
CNNs and vision transformers, and bad input."""

import keras
import numpy as np
import pytest

import zoo
from zoo.explain import grad_cam, grad_cam_plus_plus
from zoo.explain.grad_cam import class_activation_map
from zoo.explain.synthetic import quadrant_classifier, quadrant_images, top_right_share

KERNEL = np.array([1.0, -2.0], "float32").reshape(1, 1, 1, 2)
DENSE = np.array([[2.0, -1.0], [1.0, 3.0]], "float32")


def linear_cam_model() -> keras.Model:
    """1x1 conv (2 channels) -> global average pooling -> dense: the gradient of class c with
    respect to channel k is DENSE[k, c] / 16 everywhere."""
    inputs = keras.Input((4, 4, 1))
    x = keras.layers.Conv2D(2, 1, use_bias=False, name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(2, use_bias=False, name="logits")(x)
    model = keras.Model(inputs, outputs)
    model.get_layer("conv").set_weights([KERNEL])
    model.get_layer("logits").set_weights([DENSE])
    return model


def hand_cam(images, class_index, plus_plus=False):
    activations = images * KERNEL.reshape(1, 1, 1, 2)  # (b, 4, 4, 2)
    gradient = DENSE[:, class_index] / 16.0  # the same at every position
    if plus_plus:
        totals = activations.sum(axis=(1, 2))  # (b, 2)
        alpha = gradient**2 / (2 * gradient**2 + totals * gradient**3)
        weights = 16 * alpha * np.maximum(gradient, 0.0)
    else:
        weights = np.broadcast_to(gradient, (len(images), 2))
    cam = np.maximum(np.einsum("bhwk,bk->bhw", activations, weights), 0.0)
    peak = cam.max(axis=(1, 2), keepdims=True)
    return np.divide(cam, peak, out=np.zeros_like(cam), where=peak > 0)


@pytest.mark.parametrize("class_index", [0, 1])
def test_grad_cam_equals_the_hand_computation(class_index):
    images = np.random.default_rng(0).normal(size=(3, 4, 4, 1)).astype("float32")
    cams = grad_cam(linear_cam_model(), images, class_index=class_index)
    np.testing.assert_allclose(cams, hand_cam(images, class_index), atol=1e-6)


@pytest.mark.parametrize("class_index", [0, 1])
def test_grad_cam_plus_plus_equals_the_hand_computation(class_index):
    images = np.random.default_rng(1).normal(size=(3, 4, 4, 1)).astype("float32")
    cams = grad_cam_plus_plus(linear_cam_model(), images, class_index=class_index)
    np.testing.assert_allclose(cams, hand_cam(images, class_index, plus_plus=True), atol=1e-5)


def test_default_class_is_the_prediction_and_indices_can_differ_per_image():
    model = linear_cam_model()
    images = np.random.default_rng(2).normal(size=(4, 4, 4, 1)).astype("float32")
    predicted = np.argmax(model.predict(images, verbose=0), axis=-1)
    _, layer, classes = class_activation_map(model, images)
    assert layer == "conv"
    np.testing.assert_array_equal(classes, predicted)
    per_image = grad_cam(model, images, class_index=[0, 1, 1, 0])
    for i, c in enumerate([0, 1, 1, 0]):
        np.testing.assert_allclose(per_image[i], hand_cam(images[i : i + 1], c)[0], atol=1e-6)


def test_grad_cam_finds_the_quadrant_the_label_depends_on():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = quadrant_images(800, rng)
    model = quadrant_classifier()
    model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    x_test, y_test = quadrant_images(200, rng)
    assert model.evaluate(x_test, y_test, verbose=0)[1] > 0.9
    squares = x_test[y_test == 1]
    maps, layer, _ = class_activation_map(model, squares, class_index=1)
    assert layer == "last_conv"
    assert top_right_share(maps) > 0.6  # a quarter of the image, where chance would put 0.25


def tiny(name: str, **overrides) -> keras.Model:
    keras.utils.set_random_seed(0)
    return zoo.create(name, **{**zoo.get_spec(name).tiny, **overrides})


def test_finds_the_last_feature_map_inside_nested_backbones():
    images = np.random.default_rng(3).uniform(size=(2, 8, 8, 3)).astype("float32")
    for name, overrides, expected in [
        ("mobilenet_v2_050_32", {}, "backbone/head_act"),
        ("mobilenet_v2_050_32", {"head_filters": None}, "backbone/stage_1_block_1"),  # a block
        ("resnet18", {}, "backbone/stage_1_block_0_out"),
    ]:
        maps, layer, _ = class_activation_map(tiny(name, **overrides), images)
        assert layer == expected
        assert maps.shape == (2, 8, 8) and maps.min() >= 0.0 and maps.max() == pytest.approx(1.0)


def test_a_layer_by_name_or_by_path():
    model = tiny("mobilenet_v2_050_32")
    images = np.random.default_rng(4).uniform(size=(2, 8, 8, 3)).astype("float32")
    by_path = grad_cam(model, images, layer_name="backbone/stem_act")
    by_name = grad_cam(model, images, layer_name="stem_act")
    np.testing.assert_array_equal(by_path, by_name)
    assert not np.allclose(by_path, grad_cam(model, images))


def test_vit_and_swin_use_token_maps():
    images = np.random.default_rng(5).uniform(size=(2, 8, 8, 3)).astype("float32")
    # The head reads the class token after a per-token norm, so the last block's patch tokens
    # do not move the score: the map is the last block's input.
    vit = tiny("vit_tiny_32", pooling="token", num_layers=2)
    maps, layer, _ = class_activation_map(vit, images)
    assert layer == "backbone/block_0" and maps.shape == (2, 8, 8)
    swin = tiny("swin_tiny_32")
    maps, layer, _ = class_activation_map(swin, images)
    assert layer == "backbone/final_norm" and maps.shape == (2, 8, 8)
    assert np.all((maps >= 0.0) & (maps <= 1.0))


def test_the_model_is_left_as_it_was():
    model = tiny("mobilenet_v2_050_32")
    images = np.random.default_rng(6).uniform(size=(2, 8, 8, 3)).astype("float32")
    before = model(images, training=False)
    grad_cam(model, images)
    np.testing.assert_array_equal(model(images, training=False), before)
    assert all("call" not in layer.__dict__ for layer in model.backbone.layers)


def test_a_layer_that_is_not_a_feature_map_is_refused_with_the_candidates():
    images = np.zeros((1, 4, 4, 1), "float32")
    with pytest.raises(ValueError, match=r"one of \['conv'\]. Received: layer_name='gap'"):
        grad_cam(linear_cam_model(), images, layer_name="gap")


def test_a_class_index_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"in \[0, 2\).*Received: class_index=2"):
        grad_cam(linear_cam_model(), np.zeros((1, 4, 4, 1)), class_index=2)


def test_one_class_index_per_image_is_checked():
    with pytest.raises(ValueError, match=r"2 integers .*Received: class_index=\[0, 1, 1\]"):
        grad_cam(linear_cam_model(), np.zeros((2, 4, 4, 1)), class_index=[0, 1, 1])


def test_images_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match=r"\(batch, 4, 4, 1\).*Received: images.shape=\(4, 4, 1\)"):
        grad_cam(linear_cam_model(), np.zeros((4, 4, 1)))


def test_a_model_without_convolutions_is_refused():
    model = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    with pytest.raises(ValueError, match="no convolution"):
        grad_cam(model, np.zeros((1, 4, 4, 1)))
