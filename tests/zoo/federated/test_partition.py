"""Client shards: IID and Dirichlet label skew, groups kept whole, seeds, bad input."""

import numpy as np
import pytest
import tensorflow as tf

from zoo.federated.partition import label_skew, partition, partition_by


def _data(n=600, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    x = np.arange(n, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
    return x, rng.integers(0, classes, n)


def _ids(shards):
    return [x[:, 0].astype(int) for x, _ in shards]


@pytest.mark.parametrize("alpha", [None, 0.1, 1.0])
def test_shards_hold_every_example_once_with_its_label(alpha):
    x, y = _data()
    shards = partition(x, y, num_clients=7, alpha=alpha, seed=3)
    assert len(shards) == 7 and all(len(s[0]) >= 1 for s in shards)
    ids = np.concatenate(_ids(shards))
    np.testing.assert_array_equal(np.sort(ids), np.arange(len(x)))
    for xs, ys in shards:
        np.testing.assert_array_equal(ys, y[xs[:, 0].astype(int)])


def test_iid_sizes_differ_by_at_most_one():
    x, y = _data(n=103)
    sizes = [len(s[1]) for s in partition(x, y, num_clients=10)]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == 103


def test_label_skew_grows_as_alpha_falls():
    x, y = _data(n=2000)
    skews = [label_skew(partition(x, y, 10, alpha=a, seed=0)) for a in (100.0, 1.0, 0.1)]
    assert skews[0] < skews[1] < skews[2]
    assert skews[0] < 0.15 and skews[2] > 0.5


def test_same_seed_same_shards_other_seed_other_shards():
    x, y = _data()
    first = _ids(partition(x, y, 5, alpha=0.5, seed=11))
    again = _ids(partition(x, y, 5, alpha=0.5, seed=11))
    other = _ids(partition(x, y, 5, alpha=0.5, seed=12))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_dataset_of_pairs_gives_the_same_shards_as_arrays():
    x, y = _data(n=50)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    from_dataset = partition(dataset, num_clients=4, alpha=1.0, seed=2)
    from_arrays = partition(x, y, num_clients=4, alpha=1.0, seed=2)
    for (xa, ya), (xb, yb) in zip(from_dataset, from_arrays, strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_partition_by_keeps_groups_whole_and_balances():
    x, y = _data(n=400)
    groups = np.repeat(np.arange(40), 10)
    shards = partition_by(x, y, groups, num_clients=4, seed=0)
    owners = {}
    for client, ids in enumerate(_ids(shards)):
        for group in np.unique(groups[ids]):
            assert owners.setdefault(group, client) == client
    assert sorted(len(s[1]) for s in shards) == [100, 100, 100, 100]


def test_bad_input_is_named():
    x, y = _data(n=20)
    with pytest.raises(ValueError, match="num_clients=0"):
        partition(x, y, num_clients=0)
    with pytest.raises(ValueError, match="alpha=-1"):
        partition(x, y, 4, alpha=-1.0)
    with pytest.raises(ValueError, match="num_clients=30"):
        partition(x, y, num_clients=30)
    with pytest.raises(ValueError, match="len\\(y\\)=19"):
        partition(x, y[:-1], 4)
    with pytest.raises(ValueError, match="min_size=8"):
        partition(x, y, 4, alpha=0.05, min_size=8)
    with pytest.raises(ValueError, match="num_clients=5"):
        partition_by(x, y, np.repeat(np.arange(4), 5), num_clients=5)


def test_client_shard_reads_tfrecords_like_the_arrays(tmp_path):
    import tfrecords
    from zoo.federated.data import client_shard

    x, y = _data(n=30)
    tfrecords.write({"features": x, "label": y}, str(tmp_path / "train"), verbose=0)
    got = client_shard((3,), 1, 3, alpha=1.0, seed=4, data=str(tmp_path / "train"))
    expected = partition(x, y, 3, alpha=1.0, seed=4)[1]
    np.testing.assert_allclose(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    with pytest.raises(ValueError, match="partition=3"):
        client_shard((3,), 3, 3, data=str(tmp_path / "train"))
