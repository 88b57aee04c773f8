"""The information-plane task: the 12-bit patterns, the spherically symmetric label, the
log-spaced epochs and the compression statistic."""

import numpy as np

from zoo.experiments.information_plane import (
    compression,
    icosahedron_vertices,
    log_spaced_epochs,
    spherical_task,
)


def test_the_task_has_4096_distinct_patterns_and_balanced_labels():
    inputs, labels = spherical_task()
    assert inputs.shape == (4096, 12) and len(np.unique(inputs, axis=0)) == 4096
    assert labels.sum() == 2036  # f > median: the 240 patterns at the median are 0


def test_the_label_is_invariant_under_the_icosahedron_symmetries():
    vertices = icosahedron_vertices()
    np.testing.assert_allclose(np.linalg.norm(vertices, axis=1), 1.0)
    # a rotation that maps the vertex set onto itself permutes the inputs; the label stays
    angle = 2 * np.pi / 5  # five-fold rotation about vertex 0's axis
    axis = vertices[0]
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotation = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k
    rotated = vertices @ rotation.T
    permutation = [int(np.argmin(np.linalg.norm(vertices - r, axis=1))) for r in rotated]
    assert sorted(permutation) == list(range(12))
    inputs, labels = spherical_task()
    moved = np.zeros_like(inputs)
    moved[:, permutation] = inputs  # bit i now sits at the rotated vertex
    codes = (moved * (1 << np.arange(12))).sum(axis=1).astype(int)
    np.testing.assert_array_equal(labels[codes], labels)


def test_log_spaced_epochs():
    epochs = log_spaced_epochs(1000, 4)
    assert epochs == [1, 10, 100, 1000]
    assert log_spaced_epochs(3, 10) == [1, 2, 3]


def test_compression_is_peak_minus_final():
    i_xt = np.array([[1.0, 2.0], [3.0, 2.5], [2.0, 3.0]])
    assert compression(i_xt) == [1.0, 0.0]
