"""SimCLR's augmentation pipeline, built from keras image preprocessing layers."""

from __future__ import annotations

import math

import keras
from keras import ops

from layers.validation import (
    check_bool,
    check_number_pair,
    check_optional_seed,
    check_unit_interval,
)


def _check_scale(crop_scale) -> tuple[float, float]:
    low, high = check_number_pair("crop_scale", crop_scale)
    if not 0.0 < low <= high <= 1.0:
        raise ValueError(
            "`crop_scale` must be (low, high) with 0 < low <= high <= 1 (fractions of the "
            f"image area). Received: crop_scale={crop_scale!r}"
        )
    return low, high


@keras.saving.register_keras_serializable(package="keras_zoo")
class SimCLRAugmentation(keras.layers.Layer):
    """SimCLR's random view of an image batch: crop-and-resize, flip, colour jitter, grayscale,
    blur, each drawn per image, active only with `training=True`.

    Keras has no random-resized-crop layer; the crop is a `RandomTranslation` followed by a
    `RandomZoom` that zooms in on each axis independently (the kept area is `crop_scale` of
    the image, the aspect ratio varies with the two zooms; `fill_mode="reflect"` covers the
    rare crop reaching past a border). Colour jitter is `RandomColorJitter` (brightness,
    contrast, saturation and hue with the paper's strengths `0.8 s, 0.8 s, 0.8 s, 0.2 s`)
    applied with probability 0.8, then `RandomGrayscale` with probability
    `grayscale_probability` and `RandomGaussianBlur` (sigma in [0.1, 2], kernel about a tenth
    of the image) with probability `blur_probability`. Single-channel images get brightness
    and contrast jitter only (saturation, hue and grayscale need colour).

    Args:
        value_range: `(low, high)` of the pixel values, for the colour layers. Defaults to
            `(0, 1)`.
        crop_scale: range of the kept fraction of the image area. Defaults to `(0.08, 1.0)`.
        flip: whether to flip left-right at random. Defaults to `True`.
        color_jitter: colour distortion strength `s` in [0, 1]. Defaults to `0.5` (the
            paper's value for CIFAR-10; `1.0` for ImageNet).
        color_jitter_probability: probability of the jitter. Defaults to `0.8`.
        grayscale_probability: probability of converting to grayscale. Defaults to `0.2`.
        blur_probability: probability of the Gaussian blur. Defaults to `0.5`.
        seed: integer seed of the random draws or `None`. Defaults to `None`.
        **kwargs: `name`, `dtype` and other `keras.layers.Layer` arguments.

    Example:

    ```python
    augment = SimCLRAugmentation(value_range=(0, 1), blur_probability=0.0)
    view_a, view_b = augment(images, training=True), augment(images, training=True)
    ```

    Reference:
        Chen, Kornblith, Norouzi and Hinton, "A Simple Framework for Contrastive Learning of
        Visual Representations", ICML 2020, appendix A.
    """

    def __init__(
        self,
        value_range=(0, 1),
        crop_scale=(0.08, 1.0),
        flip: bool = True,
        color_jitter: float = 0.5,
        color_jitter_probability: float = 0.8,
        grayscale_probability: float = 0.2,
        blur_probability: float = 0.5,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        low, high = check_number_pair("value_range", value_range)
        if not low < high:
            raise ValueError(
                f"`value_range` must be (low, high) with low < high. Received: value_range="
                f"{value_range!r}"
            )
        self.value_range = (low, high)
        self.crop_scale = _check_scale(crop_scale)
        self.flip = check_bool("flip", flip)
        for name, value in (
            ("color_jitter", color_jitter),
            ("color_jitter_probability", color_jitter_probability),
            ("grayscale_probability", grayscale_probability),
            ("blur_probability", blur_probability),
        ):
            check_unit_interval(name, value, include_low=True, include_high=True)
        self.color_jitter = float(color_jitter)
        self.color_jitter_probability = float(color_jitter_probability)
        self.grayscale_probability = float(grayscale_probability)
        self.blur_probability = float(blur_probability)
        self.seed = check_optional_seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = False

    def _sub_seed(self, offset: int) -> int | None:
        return None if self.seed is None else self.seed + offset

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                "SimCLRAugmentation takes NHWC image batches of rank 4. "
                f"Received: images.shape={tuple(input_shape)}"
            )
        height, width, channels = input_shape[1:]
        # Kept side fraction on each axis: sqrt of the kept area fraction.
        zoom = (math.sqrt(self.crop_scale[0]) - 1.0, math.sqrt(self.crop_scale[1]) - 1.0)
        shift = (1.0 - math.sqrt(self.crop_scale[0])) / 2.0
        self.translate = keras.layers.RandomTranslation(
            shift, shift, fill_mode="reflect", seed=self._sub_seed(1), dtype=self.dtype_policy
        )
        self.zoom = keras.layers.RandomZoom(
            zoom, zoom, fill_mode="reflect", seed=self._sub_seed(2), dtype=self.dtype_policy
        )
        self.flipper = (
            keras.layers.RandomFlip("horizontal", seed=self._sub_seed(3), dtype=self.dtype_policy)
            if self.flip
            else None
        )
        s = self.color_jitter
        colour = channels == 3
        self.jitter = (
            keras.layers.RandomColorJitter(
                value_range=self.value_range,
                brightness_factor=0.8 * s if s else None,
                contrast_factor=0.8 * s if s else None,
                saturation_factor=(0.5 - 0.4 * s, 0.5 + 0.4 * s) if s and colour else None,
                hue_factor=0.2 * s if s and colour else None,
                seed=self._sub_seed(4),
                dtype=self.dtype_policy,
            )
            if s
            else None
        )
        self.grayscale = (
            keras.layers.RandomGrayscale(1.0, seed=self._sub_seed(5), dtype=self.dtype_policy)
            if colour and self.grayscale_probability
            else None
        )
        kernel = max(3, int(0.1 * min(height or 32, width or 32)) // 2 * 2 + 1)
        self.blur = (
            keras.layers.RandomGaussianBlur(
                factor=1.0,
                kernel_size=kernel,
                sigma=(0.1, 2.0),
                value_range=self.value_range,
                seed=self._sub_seed(6),
                # keras builds its kernel with a float16 `range`, which TensorFlow lacks: the
                # blur runs in float32 under mixed precision (`_sometimes` casts back).
                dtype="float32",
            )
            if self.blur_probability
            else None
        )
        self.built = True

    def _sometimes(self, layer, images, probability):
        if layer is None or probability == 0.0:
            return images
        changed = layer(images, training=True)
        if probability == 1.0:
            return changed
        draw = keras.random.uniform(
            (ops.shape(images)[0], 1, 1, 1), seed=self.seed_generator, dtype=images.dtype
        )
        return ops.where(draw < probability, ops.cast(changed, images.dtype), images)

    def call(self, images, training=None):
        if not training:
            return images
        x = self.zoom(self.translate(images, training=True), training=True)
        if self.flipper is not None:
            x = self.flipper(x, training=True)
        x = self._sometimes(self.jitter, x, self.color_jitter_probability)
        x = self._sometimes(self.grayscale, x, self.grayscale_probability)
        x = self._sometimes(self.blur, x, self.blur_probability)
        return ops.clip(x, self.value_range[0], self.value_range[1])

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "value_range": list(self.value_range),
            "crop_scale": list(self.crop_scale),
            "flip": self.flip,
            "color_jitter": self.color_jitter,
            "color_jitter_probability": self.color_jitter_probability,
            "grayscale_probability": self.grayscale_probability,
            "blur_probability": self.blur_probability,
            "seed": self.seed,
        }
