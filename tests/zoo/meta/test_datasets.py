"""The offline few-shot datasets: disjoint classes, sizes, determinism."""

import numpy as np
import pytest

from zoo.meta import datasets as meta_datasets
from zoo.meta import digits_few_shot, glyphs_few_shot


def test_digits_meta_test_classes_are_held_out():
    data = digits_few_shot()
    assert set(np.unique(data.test.y)) == {5, 6, 7, 8, 9}
    assert set(np.unique(data.train.y)) == {c + 10 * k for c in range(5) for k in range(4)}
    assert len(data.train.y) == 4 * (1797 - len(data.test.y))
    assert data.train.x.shape[1:] == (8, 8, 1) and data.train.x.max() <= 1.0
    assert data.class_names[23] == "3 rotated 180"
    rotated = data.train.x[data.train.y == 12]
    np.testing.assert_array_equal(rotated, np.rot90(data.train.x[data.train.y == 2], 1, (1, 2)))


def test_digits_without_rotations():
    assert set(np.unique(digits_few_shot(rotations=False).train.y)) == set(range(5))


def test_glyph_alphabets_are_disjoint_and_deterministic():
    data = glyphs_few_shot(image_size=12, instances_per_class=2, seed=0)
    train, test = set(np.unique(data.train.y)), set(np.unique(data.test.y))
    assert not train & test
    assert {data.class_names[c].split()[0] for c in test} == {"armenian", "georgian"}
    assert data.train.x.shape[1:] == (12, 12, 1) and data.train.x.dtype == np.float32
    assert np.all(np.bincount(data.train.y)[sorted(train)] == 2)
    again = meta_datasets._glyphs.__wrapped__(12, 2, 0)
    np.testing.assert_array_equal(again.test.x, data.test.x)
    other = glyphs_few_shot(image_size=12, instances_per_class=2, seed=1)
    assert not np.array_equal(other.test.x, data.test.x)


def test_look_alike_letters_are_dropped():
    letters = meta_datasets._distinct_letters(28)
    assert ord("A") in letters["latin"]
    assert ord("\u0391") not in letters["greek"]  # Greek Alpha draws as Latin A
    assert ord("\u0410") not in letters["cyrillic"]  # so does Cyrillic A
    assert ord("\u0394") in letters["greek"]  # Delta has no look-alike


def test_glyph_arguments_are_checked():
    with pytest.raises(ValueError, match="Received: instances_per_class=0"):
        glyphs_few_shot(instances_per_class=0)
