"""Built-in data that needs no download: scikit-learn's 8x8 handwritten digits."""

from __future__ import annotations

import dataclasses

import numpy as np

from layers.validation import check_unit_interval


@dataclasses.dataclass(frozen=True)
class Split:
    """Arrays of one classification split: `x` features or images, `y` integer labels."""

    x: np.ndarray
    y: np.ndarray


@dataclasses.dataclass(frozen=True)
class Digits:
    """scikit-learn's digits as train and test splits, stratified by class."""

    train: Split
    test: Split
    num_classes: int = 10


def load_digits(test_fraction: float = 0.2, seed: int = 0, dtype: str = "uint8") -> Digits:
    """Loads scikit-learn's 1,797 8x8 digit images (shipped with scikit-learn; no download).

    Args:
        test_fraction: fraction of each class held out for the test split. Defaults to `0.2`.
        seed: seed of the stratified split. Defaults to `0`.
        dtype: `"uint8"` for raw pixel values 0-16 or `"float32"` for values scaled to [0, 1].
            Defaults to `"uint8"`.

    Returns:
        `Digits` with images of shape `(n, 8, 8, 1)` and int64 labels.

    Example:

    ```python
    digits = load_digits()
    model.fit(digits.train.x / 16.0, digits.train.y)
    ```
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    check_unit_interval("test_fraction", test_fraction, include_low=False, include_high=False)
    if dtype not in ("uint8", "float32"):
        raise ValueError(f"`dtype` must be 'uint8' or 'float32'. Received: dtype={dtype!r}")
    bunch = sklearn_digits()
    images = bunch.images.astype("uint8")[..., None]
    if dtype == "float32":
        images = images.astype("float32") / 16.0
    labels = bunch.target.astype("int64")
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=test_fraction, random_state=seed, stratify=labels
    )
    return Digits(train=Split(x_train, y_train), test=Split(x_test, y_test))


def fit_to_input(images: np.ndarray, input_shape) -> np.ndarray:
    """Reshapes a batch of images to a model's input shape (e.g. flattens for an MLP).

    Raises:
        ValueError: the number of values per example differs from the model's input.
    """
    input_shape = tuple(input_shape)
    if int(np.prod(images.shape[1:])) != int(np.prod(input_shape)):
        raise ValueError(
            f"The data has examples of shape {images.shape[1:]}, which cannot be reshaped to the "
            f"model's input shape. Received: input_shape={input_shape}"
        )
    return images.reshape((len(images), *input_shape))


def arrays_from_dataset(dataset, argument: str = "x") -> tuple[np.ndarray, np.ndarray]:
    """Reads a `tf.data.Dataset` of `(inputs, labels)` pairs into two NumPy arrays.

    For the tools that need all the examples at once (task streams, few-shot episodes): the
    dataset is read once, into memory. Elements may be single examples or batches (as
    `tfrecords.read(..., label=...)` yields with a batch size).

    Args:
        dataset: a dataset of `(inputs, labels)` pairs of dense tensors.
        argument: the caller's name for the dataset, used in error messages. Defaults to `"x"`.

    Returns:
        `(inputs, labels)`, stacked along a first example axis.

    Raises:
        ValueError: the elements are not `(inputs, labels)` pairs of dense tensors, or the
            dataset is empty.

    Example:

    ```python
    x, y = arrays_from_dataset(tfrecords.read("data/train-*.tfrecord", label="label"))
    ```
    """
    import tensorflow as tf

    spec = dataset.element_spec
    if not (
        isinstance(spec, tuple)
        and len(spec) == 2
        and all(isinstance(part, tf.TensorSpec) for part in spec)
    ):
        raise ValueError(
            f"A dataset given as `{argument}` must yield (inputs, labels) pairs of dense tensors, "
            "as `tfrecords.read(files, label='label')` does with one input feature. "
            f"Received: {argument} with element_spec={spec}"
        )
    if spec[1].shape.rank and spec[1].shape[0] is None:  # batched
        dataset = dataset.unbatch()
    inputs, labels = [], []
    for example, label in dataset.as_numpy_iterator():
        inputs.append(example)
        labels.append(label)
    if not inputs:
        raise ValueError(
            f"The dataset given as `{argument}` yielded no examples. Received: an empty dataset"
        )
    return np.stack(inputs), np.stack(labels)
