"""ReplayMemory: reservoir sampling is uniform and bounded; sampling, saving and errors."""

import numpy as np
import pytest

from zoo.continual import ReplayMemory
from zoo.continual.replay import reservoir_slots


def stream_positions(memory, total, batch_sizes):
    """Adds examples 0 .. total-1 (x = y = their position) in batches of cycling sizes."""
    start, turn = 0, 0
    while start < total:
        size = min(batch_sizes[turn % len(batch_sizes)], total - start)
        positions = np.arange(start, start + size)
        memory.add(positions[:, None].astype("float32"), positions)
        start, turn = start + size, turn + 1


def test_reservoir_keeps_a_uniform_sample_of_the_whole_stream():
    memory = ReplayMemory(capacity=2000, seed=3)
    stream_positions(memory, 20_000, batch_sizes=[1, 7, 64, 300, 2500])
    assert len(memory) == 2000 and memory.num_seen == 20_000
    _, held = memory.arrays()
    assert len(np.unique(held)) == 2000  # no example twice
    # Each of 10 equal stretches of the stream (early ... late) should hold 200 examples.
    counts = np.bincount(held // 2000, minlength=10)
    chi_square = np.sum((counts - 200.0) ** 2 / 200.0)
    assert chi_square < 30.0, counts  # 9 degrees of freedom: P(chi2 > 30) = 0.0004


def test_each_example_is_kept_with_probability_capacity_over_seen():
    # Over 150 seeds, how often each of 40 examples is held by a memory of 10.
    held = np.zeros(40)
    for seed in range(150):
        memory = ReplayMemory(capacity=10, seed=seed)
        stream_positions(memory, 40, batch_sizes=[16])
        held[memory.arrays()[1]] += 1
    expected = 150 * 10 / 40
    chi_square = np.sum((held - expected) ** 2 / expected)
    # Finite-population correction 1 - 10/40: mean 29 for 39 degrees of freedom.
    assert chi_square < 70.0, held


def test_slots_of_a_batch_are_distinct_and_bounded():
    slots = reservoir_slots(num_seen=5, batch_size=500, capacity=3, seed=0).numpy()
    kept = slots[slots < 3]
    assert len(kept) == len(np.unique(kept)) and set(slots) <= {0, 1, 2, 3}
    np.testing.assert_array_equal(slots[:0], [])


def test_memory_fills_in_order_until_full():
    memory = ReplayMemory(capacity=5)
    slots = memory.add(np.arange(3.0)[:, None], np.arange(3))
    np.testing.assert_array_equal(slots, [0, 1, 2])
    assert len(memory) == 3
    memory.add(np.arange(3.0, 10.0)[:, None], np.arange(3, 10))
    assert len(memory) == 5 and memory.num_seen == 10
    np.testing.assert_array_equal(memory.x[:, 0], memory.y)


def test_sample_draws_distinct_held_examples():
    memory = ReplayMemory(capacity=8, seed=1)
    memory.add(np.arange(6.0)[:, None], np.arange(6), logits=np.eye(6, 3))
    x, y, logits = memory.sample(4)
    assert len(np.unique(y)) == 4 and set(y) <= set(range(6))
    np.testing.assert_array_equal(x[:, 0], y)
    np.testing.assert_array_equal(logits, np.eye(6, 3)[y])
    assert len(memory.sample(50)[0]) == 6  # no more than held


def test_save_and_load_round_trip(tmp_path):
    memory = ReplayMemory(capacity=4, seed=2)
    memory.add(np.arange(10.0).reshape(5, 2), np.arange(5), logits=np.ones((5, 3)))
    memory.sample(2)
    path = memory.save(str(tmp_path / "run" / "memory.npz"))
    loaded = ReplayMemory.load(path)
    assert loaded.get_config() == {"capacity": 4, "seed": 2} and loaded.num_seen == 5
    for original, restored in zip(memory.arrays(), loaded.arrays(), strict=True):
        np.testing.assert_array_equal(original, restored)
    # the random state travels too: both continue identically
    for a, b in zip(memory.sample(2), loaded.sample(2), strict=True):
        np.testing.assert_array_equal(a, b)
    batch = (np.full((3, 2), 7.0), np.array([7, 8, 9]), np.zeros((3, 3)))
    np.testing.assert_array_equal(memory.add(*batch), loaded.add(*batch))


def test_from_config_round_trip():
    memory = ReplayMemory.from_config(ReplayMemory(capacity=3, seed=5).get_config())
    assert (memory.capacity, memory.seed, len(memory)) == (3, 5, 0)


def test_errors():
    memory = ReplayMemory(capacity=4)
    with pytest.raises(ValueError, match="capacity=0"):
        ReplayMemory(capacity=0)
    with pytest.raises(ValueError, match="seed=-1"):
        ReplayMemory(capacity=3, seed=-1)
    with pytest.raises(ValueError, match="memory is empty"):
        memory.sample(1)
    with pytest.raises(ValueError, match=r"same length.*y.shape=\(2,\)"):
        memory.add(np.zeros((3, 2)), np.zeros(2))
    memory.add(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match=r"`x` examples must have shape \(2,\)"):
        memory.add(np.zeros((3, 5)), np.zeros(3))
    with pytest.raises(ValueError, match="has no `logits`"):
        memory.add(np.zeros((3, 2)), np.zeros(3), logits=np.zeros((3, 4)))
    with pytest.raises(ValueError, match="n=0"):
        memory.sample(0)
