"""Batch augmentation for `tf.data` training pipelines, with keras's own layers.

`augmentation(names)` returns a `(images, labels) -> (images, labels)` function for `dataset.map`
after `batch`: `keras.layers.RandAugment`, `keras.layers.MixUp` and `keras.layers.CutMix`, as the
data-efficient vision recipes use them (Touvron et al., DeiT). MixUp and CutMix turn class ids into
mixed probability labels; `probability_label_loss` gives a loss that takes them, and
`layers.metrics.MixedLabelAccuracy` counts accuracy on them. `zoo train --augment` uses this
module; it belongs to no model family.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from layers.losses import SparseLabelSmoothingCrossentropy
from layers.validation import (
    check_non_negative_int,
    check_positive_float,
    check_positive_int,
    check_unit_interval,
)

AUGMENTATIONS = ("randaugment", "mixup", "cutmix")
MIXING_AUGMENTATIONS = ("mixup", "cutmix")


def check_augment(names) -> tuple[str, ...]:
    """Validated augmentation names, from a list or a comma-separated string.

    Raises:
        ValueError: an unknown or repeated name, or a value that is not names.
    """
    if names is None:
        return ()
    if isinstance(names, str):
        names = [name.strip() for name in names.split(",") if name.strip()]
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ValueError(
            f"`augment` must be a list of names from {AUGMENTATIONS}. Received: augment={names!r}"
        )
    for name in names:
        if name not in AUGMENTATIONS:
            raise ValueError(
                f"`augment` names must be in {AUGMENTATIONS}. Received: augment={list(names)!r} "
                f"(unknown: {name!r})"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"`augment` repeats a name. Received: augment={list(names)!r}")
    return tuple(names)


def check_value_range(value) -> tuple[float, float]:
    """`(low, high)` pixel range as floats, with `low < high`."""
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        or not value[0] < value[1]
    ):
        raise ValueError(
            f"`value_range` must be (low, high) numbers with low < high. "
            f"Received: value_range={value!r}"
        )
    return float(value[0]), float(value[1])


def mixes_labels(names) -> bool:
    """Whether the augmentations turn class ids into mixed probability labels."""
    return any(name in MIXING_AUGMENTATIONS for name in check_augment(names))


class BatchAugmentation:
    """Augments `(images, labels)` batches inside a `tf.data` pipeline with keras's layers.

    Built by `augmentation()`; see there for the arguments. Call it with `dataset.map` after
    `batch` (MixUp and CutMix mix examples of the same batch). RandAugment always runs first;
    with both MixUp and CutMix each batch gets one of them, chosen with probability 1/2, as in
    DeiT and timm (mixing twice would blur images and labels well beyond either method).
    With MixUp or CutMix the labels come out as float32 `(batch, num_classes)` probabilities;
    otherwise they pass through unchanged.
    """

    def __init__(
        self,
        names: tuple[str, ...],
        num_classes: int | None,
        value_range: tuple[float, float],
        seed: int | None,
        rand_augment_factor: float,
        mixup_alpha: float,
        cutmix_factor: float,
    ):
        self.names = names
        self.num_classes = num_classes
        self.value_range = value_range
        self.mixes_labels = mixes_labels(names)

        def seed_for(offset):
            return None if seed is None else seed + offset

        # float32 layers: under a mixed_float16 global policy they would hand the model
        # float16 images and float16 label weights.
        self.rand_augment = None
        if "randaugment" in names:
            self.rand_augment = keras.layers.RandAugment(
                value_range=value_range,
                factor=rand_augment_factor,
                seed=seed_for(0),
                dtype="float32",
            )
        self.mixup = None
        if "mixup" in names:
            self.mixup = keras.layers.MixUp(alpha=mixup_alpha, seed=seed_for(1), dtype="float32")
        self.cutmix = None
        if "cutmix" in names:
            self.cutmix = keras.layers.CutMix(
                factor=cutmix_factor, seed=seed_for(2), dtype="float32"
            )
        self._choice_seed = keras.random.SeedGenerator(seed_for(3))

    def _probability_labels(self, labels):
        # Same rule as `SparseLabelSmoothingCrossentropy`: a width of 1 means class ids.
        if labels.shape.rank == 2 and labels.shape[-1] == 1:
            labels = tf.squeeze(labels, axis=-1)
        elif labels.shape.rank == 2 and labels.shape[-1] == self.num_classes:
            return tf.cast(labels, "float32")
        if labels.shape.rank != 1:
            raise ValueError(
                "MixUp and CutMix need class ids of shape (batch,) or (batch, 1), or "
                f"probabilities of shape (batch, num_classes={self.num_classes}). "
                f"Received: labels of shape {labels.shape}"
            )
        return tf.one_hot(tf.cast(labels, "int32"), self.num_classes, dtype="float32")

    def _check_value_range(self, images):
        low, high = self.value_range
        message = (
            f"RandAugment needs images inside `value_range`; pixels fall outside it. "
            f"Received: value_range={self.value_range}"
        )
        checks = [
            tf.debugging.assert_greater_equal(images, tf.constant(low, images.dtype), message),
            tf.debugging.assert_less_equal(images, tf.constant(high, images.dtype), message),
        ]
        with tf.control_dependencies(checks):
            return tf.identity(images)

    def __call__(self, images, labels):
        if images.shape.rank != 4:
            raise ValueError(
                "`augment` needs batches of images of shape (batch, height, width, channels). "
                f"Received: images of shape {images.shape}"
            )
        images = tf.cast(images, "float32")
        if self.rand_augment is not None:
            images = self.rand_augment(self._check_value_range(images), training=True)
        if not self.mixes_labels:
            return images, labels
        batch = {"images": images, "labels": self._probability_labels(labels)}
        if self.mixup is not None and self.cutmix is not None:
            use_mixup = keras.random.uniform((), seed=self._choice_seed) < 0.5
            mixed = tf.cond(
                use_mixup,
                lambda: self.mixup(dict(batch), training=True),
                lambda: self.cutmix(dict(batch), training=True),
            )
        else:
            mixed = (self.mixup or self.cutmix)(batch, training=True)
        return mixed["images"], mixed["labels"]


def augmentation(
    names: Sequence[str] | str,
    num_classes: int | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
    seed: int | None = None,
    rand_augment_factor: float = 0.5,
    mixup_alpha: float = 0.2,
    cutmix_factor: float = 1.0,
) -> BatchAugmentation:
    """Returns a `(images, labels) -> (images, labels)` batch augmentation for `dataset.map`.

    The augmentations are keras's layers: `"randaugment"` (`keras.layers.RandAugment`, two
    random operations per batch at strength `rand_augment_factor`), `"mixup"`
    (`keras.layers.MixUp`) and `"cutmix"` (`keras.layers.CutMix`). RandAugment runs first,
    whatever the order of `names`; with both MixUp and CutMix each batch gets one of the two.
    MixUp and CutMix turn the labels into `(batch, num_classes)` float32 probabilities, which
    `SparseLabelSmoothingCrossentropy` and `MixedLabelAccuracy` accept.

    Args:
        names: augmentation names (a list, or a comma-separated string) from
            `("randaugment", "mixup", "cutmix")`.
        num_classes: number of classes, for one-hot encoding class ids before mixing; needed
            with `"mixup"` or `"cutmix"`. Defaults to `None`.
        value_range: `(low, high)` range of the pixel values, for RandAugment (checked on
            every batch). Defaults to `(0.0, 1.0)`.
        seed: seed of the random draws; `None` draws a random one. Defaults to `None`.
        rand_augment_factor: RandAugment strength in [0, 1]. Defaults to `0.5`.
        mixup_alpha: the Beta(alpha, alpha) parameter of MixUp's mixing weight. Defaults to
            `0.2`.
        cutmix_factor: CutMix's `factor` (upper bound of the Beta parameter). Defaults to `1.0`.

    Example:

    ```python
    augment = augmentation(["randaugment", "mixup", "cutmix"], num_classes=10, seed=0)
    train = train.batch(32).map(augment).prefetch(tf.data.AUTOTUNE)
    ```

    Reference:
        Cubuk et al., "RandAugment", 2020, https://arxiv.org/abs/1909.13719; Zhang et al.,
        "mixup", ICLR 2018; Yun et al., "CutMix", ICCV 2019; Touvron et al., "Training
        data-efficient image transformers" (DeiT), ICML 2021.
    """
    names = check_augment(names)
    if not names:
        raise ValueError(f"`augment` names no augmentation. Received: augment={names!r}")
    if mixes_labels(names):
        check_positive_int("num_classes", num_classes)
    value_range = check_value_range(value_range)
    if seed is not None:
        check_non_negative_int("seed", seed)
    rand_augment_factor = check_unit_interval(
        "rand_augment_factor", rand_augment_factor, include_low=True, include_high=True
    )
    return BatchAugmentation(
        names,
        num_classes,
        value_range,
        seed,
        rand_augment_factor,
        check_positive_float("mixup_alpha", mixup_alpha),
        check_positive_float("cutmix_factor", cutmix_factor),
    )


def probability_label_loss(loss) -> keras.losses.Loss:
    """`loss`, or its equivalent that also takes the probability labels MixUp/CutMix produce.

    `SparseLabelSmoothingCrossentropy` and `keras.losses.CategoricalCrossentropy` take them
    already; keras's `SparseCategoricalCrossentropy` becomes `SparseLabelSmoothingCrossentropy`
    with no smoothing (the same values on class ids). Other losses cannot be converted.

    Raises:
        ValueError: the loss cannot take probability labels.
    """
    if isinstance(loss, SparseLabelSmoothingCrossentropy | keras.losses.CategoricalCrossentropy):
        return loss
    if isinstance(loss, keras.losses.SparseCategoricalCrossentropy):
        config = loss.get_config()
        if config.get("ignore_class") is None:
            return SparseLabelSmoothingCrossentropy(
                0.0, from_logits=config["from_logits"], reduction=config["reduction"]
            )
    raise ValueError(
        "`augment` with 'mixup' or 'cutmix' makes probability labels, which the model's loss "
        "cannot take (supported: sparse or categorical cross-entropy without `ignore_class`, "
        f"SparseLabelSmoothingCrossentropy). Received: loss={loss!r}"
    )
