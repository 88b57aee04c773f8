"""Grad-CAM and Grad-CAM++: where in an image a convolutional (or vision transformer) classifier
finds the evidence for a class."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from zoo.explain.feature_maps import (
    default_feature_map,
    default_feature_maps,
    feature_maps,
    find_feature_map,
)
from zoo.explain.layer_hooks import recorded_calls
from zoo.explain.model_outputs import (
    check_class_index,
    check_model_input,
    class_scores,
    scores_of,
)


def grad_cam_weights(feature_map: tf.Tensor, gradient: tf.Tensor) -> tf.Tensor:
    """Grad-CAM's channel weights: the gradient averaged over the map (Selvaraju et al., eq. 1).

    Args:
        feature_map: `(batch, h, w, channels)` activations `A`.
        gradient: `(batch, h, w, channels)` gradient of the class score with respect to `A`.

    Returns:
        `(batch, channels)` weights.
    """
    del feature_map
    return tf.reduce_mean(gradient, axis=(1, 2))


def grad_cam_plus_plus_weights(feature_map: tf.Tensor, gradient: tf.Tensor) -> tf.Tensor:
    """Grad-CAM++'s channel weights (Chattopadhay et al., eqs. 10 and 19).

    With the score's exponential as the class output, the second and third derivatives are
    powers of the first, so `alpha = g^2 / (2 g^2 + sum_ab(A) g^3)` and the weights are
    `sum_ij alpha * relu(g)`; `alpha` is 0 where its denominator is.

    Args:
        feature_map: `(batch, h, w, channels)` activations `A`.
        gradient: `(batch, h, w, channels)` gradient `g` of the class score with respect to `A`.

    Returns:
        `(batch, channels)` weights.
    """
    squared = tf.square(gradient)
    total = tf.reduce_sum(feature_map, axis=(1, 2), keepdims=True)
    denominator = 2.0 * squared + total * squared * gradient
    alpha = tf.math.divide_no_nan(squared, denominator)
    return tf.reduce_sum(alpha * tf.nn.relu(gradient), axis=(1, 2))


def _normalized(maps: tf.Tensor) -> np.ndarray:
    peak = tf.reduce_max(maps, axis=(1, 2), keepdims=True)
    return tf.math.divide_no_nan(maps, peak).numpy()


def class_activation_map(
    model: keras.Model,
    images,
    class_index=None,
    layer_name: str | None = None,
    weights: Callable[[tf.Tensor, tf.Tensor], tf.Tensor] = grad_cam_weights,
) -> tuple[np.ndarray, str, np.ndarray]:
    """A class activation map with any channel weighting; what `grad_cam` and
    `grad_cam_plus_plus` run.

    Args:
        model: a Keras classifier with one image input and `(batch, classes)` outputs.
        images: `(batch, height, width, channels)` images as the model takes them.
        class_index: the class to explain: `None` (each image's predicted class), an integer or
            one integer per image. Defaults to `None`.
        layer_name: the layer whose output is weighed (its name, or its path
            `"backbone/head_act"` inside a nested model), or `None` for the last convolutional
            feature map (see `zoo.explain.feature_maps`). Defaults to `None`.
        weights: `(feature_map, gradient) -> (batch, channels)` channel weights. Defaults to
            `grad_cam_weights`.

    Returns:
        `(maps, layer_path, class_indices)`: the `(batch, height, width)` maps in [0, 1]
        (each divided by its maximum; all zeros where nothing speaks for the class), the path of
        the layer used and the explained class of each image.
    """
    images = check_model_input(model, "images", images, rank=4)
    if images.ndim != 4:
        raise ValueError(
            "`images` must be (batch, height, width, channels) for Grad-CAM. "
            f"Received: images.shape={images.shape}"
        )
    batch = images.shape[0]
    inputs = tf.constant(images)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        with recorded_calls(model) as calls:
            outputs = model(inputs, training=False)
        logits = class_scores(outputs)
        if class_index is None:
            classes = tf.argmax(logits, axis=-1, output_type=tf.int32).numpy()
        else:
            classes = check_class_index("class_index", class_index, logits.shape[-1], batch)
        scores = scores_of(outputs, classes)
    maps, last_conv = feature_maps(calls, batch)
    if not maps:
        raise ValueError(
            "Grad-CAM needs a 2D convolutional feature map, and the model has no convolution "
            f"with a (batch, height, width, channels) output. Received: model={model.name!r}"
        )
    if layer_name is None:
        choices = default_feature_maps(maps, last_conv)
        gradients = tape.gradient(scores, [m.call.outputs for m in choices])
        chosen = default_feature_map(choices, gradients)
        gradient = gradients[choices.index(chosen)]
    else:
        chosen = find_feature_map(maps, layer_name)
        gradient = tape.gradient(scores, chosen.call.outputs)
    activations = chosen.as_map(chosen.call.outputs)
    if gradient is None:
        gradient = tf.zeros_like(activations)
    gradient = chosen.as_map(gradient)
    cam = tf.nn.relu(tf.einsum("bhwc,bc->bhw", activations, weights(activations, gradient)))
    cam = tf.image.resize(cam[..., None], images.shape[1:3], method="bilinear")[..., 0]
    return _normalized(tf.nn.relu(cam)), chosen.path, classes


def grad_cam(model: keras.Model, images, class_index=None, layer_name: str | None = None):
    """Grad-CAM heatmaps: where each image holds the evidence for a class.

    The feature map `A` of a convolutional layer is weighed channel by channel with the class
    score's gradient averaged over the map, summed, rectified, resized bilinearly to the image
    and divided by its maximum. The last convolutional feature map is found automatically, also
    inside a nested backbone (zoo's MobileNetV2, ResNet, CNNs); for ViT and Swin, a token map
    reshaped to the patch grid is used (see `zoo.explain.feature_maps`).

    Args:
        model: a Keras classifier with one image input and `(batch, classes)` outputs (zoo
            classifiers output logits, the scores the paper differentiates).
        images: `(batch, height, width, channels)` images as the model takes them.
        class_index: `None` for each image's predicted class, an integer, or one integer per
            image. Defaults to `None`.
        layer_name: a layer's name (or path `"backbone/head_act"` inside a nested model) to use
            instead of the automatic choice; it must output a convolutional feature map or a
            transformer token map. Defaults to `None`.

    Returns:
        `(batch, height, width)` float32 heatmaps in [0, 1].

    Example:

    ```python
    model = keras.saving.load_model("artifacts/train/cnn_digits.keras")
    heatmaps = zoo.explain.grad_cam(model, images[:4])           # predicted classes
    heatmaps = zoo.explain.grad_cam(model, images[:4], class_index=3, layer_name="conv_1")
    ```

    Reference:
        Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based
        Localization", ICCV 2017.
    """
    return class_activation_map(model, images, class_index, layer_name)[0]


def grad_cam_plus_plus(model: keras.Model, images, class_index=None, layer_name: str | None = None):
    """Grad-CAM++ heatmaps: Grad-CAM with pixel-weighted gradients, which covers several
    instances of a class and whole objects better.

    Same arguments and layer choice as `grad_cam`; only the channel weights differ
    (`grad_cam_plus_plus_weights`).

    Args:
        model: a Keras classifier with one image input and `(batch, classes)` outputs.
        images: `(batch, height, width, channels)` images as the model takes them.
        class_index: `None` for each image's predicted class, an integer, or one integer per
            image. Defaults to `None`.
        layer_name: the layer to use instead of the automatic choice. Defaults to `None`.

    Returns:
        `(batch, height, width)` float32 heatmaps in [0, 1].

    Example:

    ```python
    heatmaps = zoo.explain.grad_cam_plus_plus(model, images[:4])
    ```

    Reference:
        Chattopadhay et al., "Grad-CAM++: Generalized Gradient-based Visual Explanations for Deep
        Convolutional Networks", WACV 2018.
    """
    return class_activation_map(
        model, images, class_index, layer_name, weights=grad_cam_plus_plus_weights
    )[0]
