"""Task streams for continual learning: split classes into tasks, or permute the pixels."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from layers.validation import check_bool, check_choice, check_non_negative_int, check_positive_int
from zoo.datasets import arrays_from_dataset

SETTINGS = ("class_incremental", "task_incremental")


def split_tasks(
    x,
    y=None,
    classes_per_task: int | None = None,
    setting: str = "class_incremental",
    class_order=None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Splits a labelled data set into tasks of `classes_per_task` classes each (Split-digits).

    Task `t` holds the examples of classes `class_order[t * classes_per_task : (t + 1) *
    classes_per_task]`, in their original order. In the `"class_incremental"` setting labels
    keep their values (one growing label space over the stream); in `"task_incremental"` they
    are relabelled within each task to `0 .. classes_per_task - 1`, by position in
    `class_order` (a task-specific head or an output per task is then assumed). Call it with the
    same arguments on the test split to get the matching test tasks.

    Args:
        x: inputs, an array `(n, ...)`; or a `tf.data.Dataset` of `(inputs, labels)` (e.g.
            `tfrecords.read(..., label="label")`, batched or not), with `y=None`. A data set is
            read once into memory (a continual-learning stream is split and re-batched per
            task, which needs the labels up front).
        y: integer labels `(n,)`. Defaults to `None` (only with a data set).
        classes_per_task: classes in each task; must divide the number of classes.
        setting: `"class_incremental"` or `"task_incremental"`.
            Defaults to `"class_incremental"`.
        class_order: the classes in task order; `None` sorts the labels found.
            Defaults to `None`.

    Returns:
        A list of `(x_t, y_t)` array pairs, one per task.

    Raises:
        ValueError: a task would be empty (a class of `class_order` has no examples), a label
            is missing from `class_order`, or `classes_per_task` does not divide the classes.

    Example:

    ```python
    from zoo.datasets import load_digits

    digits = load_digits(dtype="float32")
    train = split_tasks(digits.train.x, digits.train.y, classes_per_task=2)  # 5 tasks
    test = split_tasks(digits.test.x, digits.test.y, classes_per_task=2)
    ```

    Reference: Zenke et al., "Continual Learning Through Synaptic Intelligence", ICML 2017
    (Split MNIST); van de Ven & Tolias, "Three scenarios for continual learning", 2019.
    """
    check_positive_int("classes_per_task", classes_per_task)
    check_choice("setting", setting, SETTINGS)
    x, y = labelled_arrays(x, y)
    labels = _integer_labels(y)
    order = _class_order(labels, class_order)
    if len(order) % classes_per_task:
        raise ValueError(
            f"`classes_per_task` must divide the number of classes ({len(order)}: {order}). "
            f"Received: classes_per_task={classes_per_task}"
        )
    tasks = []
    for task in range(len(order) // classes_per_task):
        classes = order[task * classes_per_task : (task + 1) * classes_per_task]
        members = np.isin(labels, classes)
        empty = [c for c in classes if not np.any(labels == c)]
        if empty:
            what = "is empty" if not members.any() else f"has no examples of classes {empty}"
            raise ValueError(
                f"Task {task} (classes {classes}) {what}. Received: class_order={order}"
            )
        task_labels = y[members]
        if setting == "task_incremental":
            task_classes = np.asarray(classes)
            sorter = np.argsort(task_classes)
            position = np.searchsorted(task_classes, labels[members], sorter=sorter)
            task_labels = sorter[position].astype(y.dtype)
        tasks.append((x[members], task_labels))
    return tasks


def permuted_tasks(
    x, y=None, num_tasks: int = 2, seed: int = 0, identity_first: bool = True
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Makes `num_tasks` tasks that each see the inputs through a fixed pixel permutation.

    Every task keeps all examples and labels (a domain-incremental stream, Permuted-digits);
    task `t` shuffles the positions of each example with its own random permutation. Images
    `(n, H, W, C)` have their `H * W` pixels permuted with the channels kept together; other
    inputs have every value of an example permuted. Task 0 sees the original inputs when
    `identity_first` (a common choice; `identity_first=False` permutes every task, as
    Avalanche's PermutedMNIST does). The same `seed` and shapes give the same permutations,
    so call it with the same arguments on the test split.

    Args:
        x: inputs, an array `(n, ...)`; or a `tf.data.Dataset` of `(inputs, labels)`, with
            `y=None` (read once into memory).
        y: labels `(n, ...)`. Defaults to `None` (only with a data set).
        num_tasks: how many tasks. Defaults to `2`.
        seed: seed of the permutations. Defaults to `0`.
        identity_first: task 0 keeps the original pixel order. Defaults to `True`.

    Returns:
        A list of `(x_t, y_t)` array pairs, one per task.

    Example:

    ```python
    from zoo.datasets import load_digits

    digits = load_digits(dtype="float32")
    train = permuted_tasks(digits.train.x, digits.train.y, num_tasks=3, seed=0)
    test = permuted_tasks(digits.test.x, digits.test.y, num_tasks=3, seed=0)
    ```

    Reference: Goodfellow et al., "An Empirical Investigation of Catastrophic Forgetting in
    Gradient-Based Neural Networks", 2013; Kirkpatrick et al., PNAS 2017 (Permuted MNIST).
    """
    check_positive_int("num_tasks", num_tasks)
    check_non_negative_int("seed", seed)
    check_bool("identity_first", identity_first)
    x, y = labelled_arrays(x, y)
    if x.ndim < 2:
        raise ValueError(
            f"`x` must have examples of shape (n, features...). Received: x.shape={x.shape}"
        )
    keep_channels = x.ndim == 4
    positions = x.reshape(len(x), -1, x.shape[-1]) if keep_channels else x.reshape(len(x), -1)
    rng = np.random.default_rng(seed)
    tasks = []
    for task in range(num_tasks):
        size = positions.shape[1]
        permutation = np.arange(size) if task == 0 and identity_first else rng.permutation(size)
        tasks.append((positions[:, permutation].reshape(x.shape), y.copy()))
    return tasks


def labelled_arrays(x, y=None) -> tuple[np.ndarray, np.ndarray]:
    """`(x, y)` as NumPy arrays of equal length, reading a `tf.data.Dataset` into memory."""
    if isinstance(x, tf.data.Dataset):
        if y is not None:
            raise ValueError(
                "With a tf.data.Dataset of (inputs, labels) pass no `y`. "
                f"Received: y of type {type(y).__name__}"
            )
        x, y = arrays_from_dataset(x)
    elif y is None:
        raise ValueError("`y` is required with array inputs. Received: y=None")
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise ValueError(
            "`x` and `y` must have one row per example and the same length. "
            f"Received: x.shape={x.shape}, y.shape={y.shape}"
        )
    if len(x) == 0:
        raise ValueError(f"The data has no examples. Received: x.shape={x.shape}")
    return x, y


def _integer_labels(y: np.ndarray) -> np.ndarray:
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            "Splitting by class needs integer class labels of shape (n,). "
            f"Received: y.shape={y.shape}, y.dtype={y.dtype}"
        )
    return y


def _class_order(labels: np.ndarray, class_order) -> list[int]:
    found = sorted(int(c) for c in np.unique(labels))
    if class_order is None:
        return found
    order = [int(c) for c in np.asarray(class_order).reshape(-1)]
    if len(set(order)) != len(order):
        raise ValueError(f"`class_order` repeats a class. Received: class_order={class_order!r}")
    missing = sorted(set(found) - set(order))
    if missing:
        raise ValueError(
            f"`class_order` leaves out the labels {missing}, whose examples would be dropped. "
            f"Received: class_order={class_order!r}"
        )
    return order
