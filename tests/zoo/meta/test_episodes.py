"""EpisodeSampler and class splits: shapes, relabelling, disjointness, seeds, bad input."""

import numpy as np
import pytest
import tensorflow as tf

import tfrecords
from zoo.meta import EpisodeSampler, split_classes, take_classes


def labelled_data(num_classes=6, per_class=8):
    """Examples whose two values are their class id and their own index (to trace them)."""
    y = np.repeat(np.arange(num_classes) * 10, per_class)  # class ids 0, 10, 20, ...
    x = np.stack([y, np.arange(len(y))], axis=1).astype("float32")
    return x, y


def first_episode(sampler):
    return [t.numpy() for t in next(iter(sampler.dataset(1)))]


def test_episode_shapes_and_class_major_labels():
    x, y = labelled_data()
    support_x, support_y, query_x, query_y = first_episode(
        EpisodeSampler(x, y, n_way=3, k_shot=2, n_query=4)
    )
    assert support_x.shape == (6, 2) and query_x.shape == (12, 2)
    np.testing.assert_array_equal(support_y, [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(query_y, np.repeat([0, 1, 2], 4))
    assert support_y.dtype == np.int32


def test_each_label_is_one_drawn_class_and_no_example_repeats():
    x, y = labelled_data()
    support_x, support_y, query_x, query_y = first_episode(
        EpisodeSampler(x, y, n_way=4, k_shot=3, n_query=5, seed=3)
    )
    examples = np.concatenate([support_x, query_x])
    labels = np.concatenate([support_y, query_y])
    original = {label: set(examples[labels == label, 0]) for label in range(4)}
    assert all(len(classes) == 1 for classes in original.values())
    assert len(set.union(*original.values())) == 4  # four different classes
    assert len(set(examples[:, 1])) == len(examples)  # no example twice (support vs query)


def test_episodes_are_reproducible_and_differ_between_seeds_and_indices():
    x, y = labelled_data()

    def episodes(seed):
        return EpisodeSampler(x, y, n_way=3, k_shot=1, n_query=2, seed=seed).as_numpy(5)

    a, b, c = episodes(0), episodes(0), episodes(1)
    np.testing.assert_array_equal(a["query_x"], b["query_x"])
    assert not np.array_equal(a["query_x"], c["query_x"])
    assert not np.array_equal(a["support_x"][0], a["support_x"][1])
    assert a["support_x"].shape == (5, 3, 2) and a["query_y"].shape == (5, 6)


def test_endless_stream_continues_from_start():
    x, y = labelled_data()
    sampler = EpisodeSampler(x, y, n_way=2, k_shot=1, n_query=1)
    stream = list(sampler.dataset().take(4).as_numpy_iterator())
    later = sampler.as_numpy(2, start=2)
    np.testing.assert_array_equal(stream[3][0], later["support_x"][1])


def test_every_class_and_example_is_drawn():
    x, y = labelled_data(num_classes=4, per_class=3)
    episodes = EpisodeSampler(x, y, n_way=2, k_shot=1, n_query=1).as_numpy(200)
    drawn = np.concatenate([episodes["support_x"], episodes["query_x"]], axis=1)
    assert set(drawn[..., 1].ravel()) == set(range(12))


@pytest.mark.parametrize("batch_size", [None, 5])
def test_dataset_input(tmp_path, batch_size):
    x, y = labelled_data()
    tfrecords.write({"image": x, "label": y}, str(tmp_path / "data"))
    dataset = tfrecords.read(str(tmp_path / "data"), batch_size=batch_size, label="label")
    from_records = EpisodeSampler(dataset, n_way=3, k_shot=1, n_query=2).as_numpy(3)
    from_arrays = EpisodeSampler(x, y, n_way=3, k_shot=1, n_query=2).as_numpy(3)
    for name in from_arrays:
        np.testing.assert_array_equal(from_records[name], from_arrays[name])


def test_short_class_is_named():
    x, y = labelled_data()
    y[:3] = 99  # class 99 has 3 examples, class 0 has 5
    with pytest.raises(
        ValueError, match="Class 0 has 5 examples, fewer than k_shot \\+ n_query = 6"
    ):
        EpisodeSampler(x, y, n_way=2, k_shot=1, n_query=5)


def test_too_many_ways():
    x, y = labelled_data()
    with pytest.raises(
        ValueError, match="number of classes in the data \\(6\\). Received: n_way=7"
    ):
        EpisodeSampler(x, y, n_way=7)


@pytest.mark.parametrize("name", ["n_way", "k_shot", "n_query"])
def test_counts_must_be_positive(name):
    x, y = labelled_data()
    with pytest.raises(ValueError, match=f"Received: {name}=0"):
        EpisodeSampler(x, y, **{name: 0})


def test_labels_must_match_examples():
    x, y = labelled_data()
    with pytest.raises(ValueError, match="one label per example"):
        EpisodeSampler(x, y[:-1])


def test_dataset_without_pairs_is_refused():
    dataset = tf.data.Dataset.from_tensor_slices(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"must yield \(inputs, labels\) pairs"):
        EpisodeSampler(dataset)


def test_split_classes_is_disjoint_complete_and_seeded():
    labels = np.repeat(np.arange(10), 3)
    split = split_classes(labels, num_validation=2, num_test=3, seed=0)
    parts = [set(split.train), set(split.validation), set(split.test)]
    assert [len(p) for p in parts] == [5, 2, 3]
    assert set.union(*parts) == set(range(10))
    np.testing.assert_array_equal(split_classes(labels, 2, 3, seed=0).test, split.test)
    assert not np.array_equal(split_classes(labels, 2, 3, seed=1).test, split.test)
    x_test, y_test = split.take(labels[:, None], labels, "test")
    assert set(y_test) == set(split.test) and len(x_test) == 9


def test_split_classes_leaves_training_classes():
    with pytest.raises(ValueError, match="num_validation=3, num_test=7"):
        split_classes(np.arange(10), num_validation=3, num_test=7)


def test_take_classes():
    x, y = labelled_data()
    x_kept, y_kept = take_classes(x, y, [10, 30])
    assert set(y_kept) == {10, 30} and len(x_kept) == 16
