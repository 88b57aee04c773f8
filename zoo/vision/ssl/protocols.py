"""The standard evaluations of a self-supervised encoder: linear probe and fine-tuning."""

from __future__ import annotations

import keras
import numpy as np

from layers.validation import check_positive_float, check_positive_int
from zoo.vision.ssl.encoder import feature_model


def _labelled(name: str, data) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise ValueError(f"`{name}` must be a pair (images, labels). Received: {name}={data!r}")
    images, labels = np.asarray(data[0]), np.asarray(data[1]).reshape(-1)
    if images.ndim != 4 or images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"`{name}` must hold NHWC images of rank 4 and one label per image. Received: "
            f"{name} images.shape={images.shape}, labels.shape={labels.shape}"
        )
    return images.astype("float32"), labels.astype("int64")


def linear_probe(
    encoder: keras.Model,
    train_data,
    test_data,
    *,
    epochs: int = 100,
    batch_size: int = 256,
    learning_rate: float = 1e-2,
    seed: int = 0,
) -> float:
    """Test accuracy of a linear classifier trained on the frozen encoder's features.

    The features (the encoder in inference mode, pooled as in `feature_model`) are computed
    once, standardised with statistics of the training set (`keras.layers.Normalization`),
    and a softmax regression (`keras.layers.Dense`) is trained on them with Adam.

    Args:
        encoder: the encoder to evaluate (any network `feature_model` accepts).
        train_data: `(images, labels)` to fit the classifier on, integer labels.
        test_data: `(images, labels)` to measure accuracy on.
        epochs: training epochs of the classifier. Defaults to `100`.
        batch_size: batch size. Defaults to `256`.
        learning_rate: Adam's learning rate. Defaults to `1e-2`.
        seed: seed of the classifier's initialisation and shuffling. Defaults to `0`.

    Returns:
        The test accuracy, a float in [0, 1].

    Example:

    ```python
    accuracy = zoo.vision.linear_probe(encoder, (x_train, y_train), (x_test, y_test))
    ```

    Reference:
        Zhang, Isola and Efros, "Colorful Image Colorization", ECCV 2016 (linear evaluation);
        Chen et al. 2020 (SimCLR), section 4.
    """
    x_train, y_train = _labelled("train_data", train_data)
    x_test, y_test = _labelled("test_data", test_data)
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    check_positive_float("learning_rate", learning_rate)
    features = feature_model(encoder)
    f_train = features.predict(x_train, batch_size=batch_size, verbose=0)
    f_test = features.predict(x_test, batch_size=batch_size, verbose=0)
    num_classes = int(max(y_train.max(), y_test.max())) + 1
    normalize = keras.layers.Normalization()
    normalize.adapt(f_train)
    keras.utils.set_random_seed(seed)
    probe = keras.Sequential(
        [keras.Input(f_train.shape[1:]), normalize, keras.layers.Dense(num_classes)]
    )
    probe.compile(
        keras.optimizers.Adam(learning_rate),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    probe.fit(f_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0)
    return float(probe.evaluate(f_test, y_test, verbose=0, return_dict=True)["accuracy"])


def fine_tune(
    encoder: keras.Model,
    train_data,
    num_classes: int | None = None,
    *,
    epochs: int = 30,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    weight_decay: float = 1e-4,
    augmentation: keras.layers.Layer | None = None,
    seed: int = 0,
) -> keras.Model:
    """Trains `encoder` and a new linear head end to end on labelled images.

    The same function trains a freshly initialised encoder supervised (the baseline SSL is
    compared with) or fine-tunes a pre-trained one.

    Args:
        encoder: the encoder (trained in place).
        train_data: `(images, labels)`, integer labels.
        num_classes: number of classes, `None` for `max(labels) + 1`. Defaults to `None`.
        epochs: training epochs. Defaults to `30`.
        batch_size: batch size. Defaults to `64`.
        learning_rate: AdamW's learning rate. Defaults to `1e-3`.
        weight_decay: AdamW's weight decay. Defaults to `1e-4`.
        augmentation: a layer applied to the images in training (e.g. keras `RandomFlip`),
            or `None`. Defaults to `None`.
        seed: seed of the head's initialisation and of shuffling. Defaults to `0`.

    Returns:
        The classifier, a compiled `keras.Model` from images to logits with an `"accuracy"`
        metric: `model.evaluate(x_test, y_test, return_dict=True)["accuracy"]`.

    Example:

    ```python
    classifier = zoo.vision.fine_tune(encoder, (x_train, y_train), epochs=20)
    classifier.evaluate(x_test, y_test, return_dict=True)["accuracy"]
    ```

    Reference:
        Chen et al. 2020 (SimCLR), section 6 (semi-supervised fine-tuning on 1% and 10%).
    """
    x_train, y_train = _labelled("train_data", train_data)
    check_positive_int("num_classes", num_classes, allow_none=True)
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    check_positive_float("learning_rate", learning_rate)
    num_classes = num_classes or int(y_train.max()) + 1
    keras.utils.set_random_seed(seed)
    features = feature_model(encoder)
    images = keras.Input(features.inputs[0].shape[1:], name="images")
    x = augmentation(images) if augmentation is not None else images
    logits = keras.layers.Dense(num_classes, name="logits", dtype="float32")(features(x))
    classifier = keras.Model(images, logits, name="fine_tuned")
    classifier.compile(
        keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    classifier.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0)
    return classifier
