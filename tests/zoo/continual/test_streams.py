"""Task streams: Split- and Permuted-digits from arrays and TFRecords, and their errors."""

import numpy as np
import pytest
import tensorflow as tf

import tfrecords
from zoo.continual import permuted_tasks, split_tasks
from zoo.datasets import load_digits

DIGITS = load_digits(dtype="float32").train


def test_split_tasks_class_incremental_keeps_labels_and_every_example():
    tasks = split_tasks(DIGITS.x, DIGITS.y, classes_per_task=2)
    assert len(tasks) == 5
    for index, (x_task, y_task) in enumerate(tasks):
        assert set(np.unique(y_task)) == {2 * index, 2 * index + 1}
        members = np.isin(DIGITS.y, [2 * index, 2 * index + 1])
        np.testing.assert_array_equal(x_task, DIGITS.x[members])  # original order kept
    assert sum(len(y_task) for _, y_task in tasks) == len(DIGITS.y)


def test_split_tasks_task_incremental_relabels_by_position_in_class_order():
    order = [3, 1, 0, 2, 4, 5, 6, 7, 8, 9]
    tasks = split_tasks(DIGITS.x, DIGITS.y, 2, setting="task_incremental", class_order=order)
    x_task, y_task = tasks[0]
    originals = DIGITS.y[np.isin(DIGITS.y, [3, 1])]
    np.testing.assert_array_equal(y_task, np.where(originals == 3, 0, 1))
    assert all(set(np.unique(y)) == {0, 1} for _, y in tasks)
    assert y_task.dtype == DIGITS.y.dtype


def test_split_tasks_reads_a_tfrecord_dataset(tmp_path):
    x, y = DIGITS.x[:60], DIGITS.y[:60]
    tfrecords.write({"image": x, "label": y}, str(tmp_path / "digits"), verbose=0)
    dataset = tfrecords.read(str(tmp_path / "digits"), batch_size=16, label="label")
    from_records = split_tasks(dataset, classes_per_task=5)
    for (x_a, y_a), (x_b, y_b) in zip(from_records, split_tasks(x, y, 5), strict=True):
        np.testing.assert_array_equal(x_a, x_b)
        np.testing.assert_array_equal(y_a, y_b)


def test_split_tasks_reads_an_unbatched_dataset():
    dataset = tf.data.Dataset.from_tensor_slices((DIGITS.x[:30], DIGITS.y[:30]))
    tasks = split_tasks(dataset, classes_per_task=len(np.unique(DIGITS.y[:30])))
    np.testing.assert_array_equal(tasks[0][0], DIGITS.x[:30])
    np.testing.assert_array_equal(tasks[0][1], DIGITS.y[:30])


def test_split_that_leaves_a_task_empty_names_it():
    with pytest.raises(ValueError, match=r"Task 5 \(classes \[10, 11\]\) is empty"):
        split_tasks(DIGITS.x, DIGITS.y, 2, class_order=list(range(12)))


def test_split_with_a_class_without_examples_names_it():
    message = r"Task 3 \(classes \[9, 10, 11\]\) has no examples of classes \[10, 11\]"
    with pytest.raises(ValueError, match=message):
        split_tasks(DIGITS.x, DIGITS.y, 3, class_order=range(12))


def test_split_errors():
    with pytest.raises(ValueError, match=r"must divide the number of classes.*classes_per_task=3"):
        split_tasks(DIGITS.x, DIGITS.y, 3)
    with pytest.raises(ValueError, match=r"leaves out the labels \[9\]"):
        split_tasks(DIGITS.x, DIGITS.y, 3, class_order=range(9))
    with pytest.raises(ValueError, match="classes_per_task=None"):
        split_tasks(DIGITS.x, DIGITS.y)
    with pytest.raises(ValueError, match="setting='domain'"):
        split_tasks(DIGITS.x, DIGITS.y, 2, setting="domain")
    with pytest.raises(ValueError, match="integer class labels"):
        split_tasks(DIGITS.x, DIGITS.y.astype("float32"), 2)
    with pytest.raises(ValueError, match="same length"):
        split_tasks(DIGITS.x, DIGITS.y[:-1], 2)
    with pytest.raises(ValueError, match="y=None"):
        split_tasks(DIGITS.x, classes_per_task=2)


def test_permuted_tasks_permute_pixels_with_a_fixed_seed():
    tasks = permuted_tasks(DIGITS.x, DIGITS.y, num_tasks=3, seed=4)
    np.testing.assert_array_equal(tasks[0][0], DIGITS.x)  # task 0: the identity
    flat = DIGITS.x.reshape(len(DIGITS.x), -1)
    permuted = [x.reshape(len(x), -1) for x, _ in tasks[1:]]
    for x_task in permuted:
        np.testing.assert_array_equal(np.sort(x_task, axis=1), np.sort(flat, axis=1))
        assert not np.array_equal(x_task, flat)
    assert not np.array_equal(permuted[0], permuted[1])
    again = permuted_tasks(DIGITS.x, DIGITS.y, num_tasks=3, seed=4)
    np.testing.assert_array_equal(again[2][0], tasks[2][0])
    assert all(np.array_equal(y, DIGITS.y) for _, y in tasks)


def test_permuted_tasks_apply_one_permutation_to_every_example():
    x = np.tile(np.arange(64, dtype="float32"), (3, 1)) + np.arange(3)[:, None] * 100
    tasks = permuted_tasks(x, np.zeros(3, "int64"), num_tasks=2, seed=1)
    permutation = tasks[1][0][0].astype(int)
    np.testing.assert_array_equal(tasks[1][0], x[:, permutation])


def test_permuted_tasks_keep_channels_of_images_together():
    images = np.random.default_rng(0).normal(size=(2, 4, 4, 3)).astype("float32")
    images[..., 1] = images[..., 0] + 1.0
    (_, _), (x_task, _) = permuted_tasks(images, np.zeros(2, "int64"), 2, identity_first=False)
    np.testing.assert_allclose(x_task[..., 1], x_task[..., 0] + 1.0)
    assert not np.array_equal(x_task, images)


def test_permuted_tasks_errors():
    with pytest.raises(ValueError, match="num_tasks=0"):
        permuted_tasks(DIGITS.x, DIGITS.y, num_tasks=0)
    with pytest.raises(ValueError, match="seed=-1"):
        permuted_tasks(DIGITS.x, DIGITS.y, seed=-1)
    with pytest.raises(ValueError, match="no examples"):
        permuted_tasks(DIGITS.x[:0], DIGITS.y[:0])
