"""The shared argument checks: what each accepts, what it returns and how it says no."""

import numpy as np
import pytest

from layers import validation as v


def test_integer_checks_name_the_value_and_reject_bools():
    assert v.check_positive_int("units", 3) == 3
    assert v.check_non_negative_int("seed", 0) == 0
    for check, value in ((v.check_positive_int, 0), (v.check_non_negative_int, -1)):
        with pytest.raises(ValueError, match=rf"Received: units={value}$"):
            check("units", value)
    for value in (True, 2.0, "2", None):
        with pytest.raises(ValueError, match="must be a"):
            v.check_positive_int("units", value)


def test_allow_none_and_allow_numpy():
    assert v.check_positive_int("version", None, allow_none=True) is None
    assert v.check_non_negative_int("seed", None, allow_none=True) is None
    with pytest.raises(ValueError, match="a positive integer or None. Received: version=0"):
        v.check_positive_int("version", 0, allow_none=True)
    with pytest.raises(ValueError, match=r"Received: n_envs=np.int64\(2\)|Received: n_envs=2"):
        v.check_positive_int("n_envs", np.int64(2))
    assert v.check_positive_int("n_envs", np.int64(2), allow_numpy=True) == 2
    assert v.check_non_negative_int("learning_starts", np.int32(0), allow_numpy=True) == 0
    assert v.check_positive_ints("sizes", (np.int64(4), 8), allow_numpy=True) == (4, 8)
    assert v.check_positive_float("clip", np.float32(0.5), allow_numpy=True) == 0.5
    with pytest.raises(ValueError, match="must be a positive number"):
        v.check_positive_float("clip", np.float32(0.5))
    with pytest.raises(ValueError, match="must be a positive integer"):
        v.check_positive_int("n_envs", np.bool_(True), allow_numpy=True)


def test_check_int_in_range():
    assert v.check_int_in_range("port", 0, 0, 65535) == 0
    assert v.check_int_in_range("port", 65535, 0, 65535) == 65535
    with pytest.raises(ValueError, match=r"an integer in \[0, 65535\]. Received: port=65536"):
        v.check_int_in_range("port", 65536, 0, 65535)
    assert v.check_int_in_range("rewind", 2, 0, 3, include_high=False) == 2
    message = r"an integer in \[0, epochs=3\). Received: rewind=3"
    with pytest.raises(ValueError, match=message):
        v.check_int_in_range("rewind", 3, 0, 3, include_high=False, high_name="epochs")
    for value in (-1, 1.0, "1", True):
        with pytest.raises(ValueError, match="must be an integer in"):
            v.check_int_in_range("rewind", value, 0, 3)


def test_float_checks_and_number_pair():
    assert v.check_positive_float("rate", 2) == 2.0
    assert v.check_non_negative_float("weight", 0) == 0.0
    for check, value in ((v.check_positive_float, 0.0), (v.check_non_negative_float, -0.5)):
        with pytest.raises(ValueError, match=rf"Received: x={value}$"):
            check("x", value)
    with pytest.raises(ValueError, match="Received: x=nan"):
        v.check_non_negative_float("x", float("nan"))
    assert v.check_number_pair("value_range", [0, 255]) == (0.0, 255.0)
    for value in ([1.0], (1, 2, 3), "0,1", (0, "1"), (True, 1)):
        with pytest.raises(ValueError, match="must be a pair of numbers"):
            v.check_number_pair("value_range", value)


def test_int_at_least_says_where_the_bound_comes_from():
    assert v.check_int_at_least("sequence_length", 3, 3) == 3
    message = r"at least 3 \(room for \[CLS\] and \[SEP\]\). Received: sequence_length=2$"
    with pytest.raises(ValueError, match=message):
        v.check_int_at_least("sequence_length", 2, 3, "room for [CLS] and [SEP]")
    for value in (3.0, True, None):
        with pytest.raises(ValueError, match="must be an integer of at least 1"):
            v.check_int_at_least("sequence_length", value, 1)


def test_finite_number_above():
    assert v.check_finite_number_above("kl_weight", 0, 0.0) == 0.0
    assert v.check_finite_number_above("scale", 0.5, 0.1, inclusive=False) == 0.5
    with pytest.raises(ValueError, match=r"a number > 0.1. Received: scale=0.1$"):
        v.check_finite_number_above("scale", 0.1, 0.1, inclusive=False)
    for value in (-1.0, float("inf"), float("nan"), True, "1"):
        with pytest.raises(ValueError, match=r"must be a number >= 0.0. Received: kl_weight="):
            v.check_finite_number_above("kl_weight", value, 0.0)


def test_edge_index_returns_the_integer_array():
    edges = np.array([[0, 1, 4], [1, 2, 0]], dtype=np.int32)
    assert v.check_edge_index(edges, 5) is edges  # int32 kept, no copy
    checked = v.check_edge_index([[0, 1], [1, 0]], np.int64(2))
    assert checked.dtype == np.int64 and checked.tolist() == [[0, 1], [1, 0]]
    assert v.check_edge_index(np.array([[1], [2]], np.uint8), 3).dtype == np.int64
    assert v.check_edge_index([[], []], 0).shape == (2, 0)  # an empty list has any dtype


def test_edge_index_names_the_first_offending_edge():
    message = (
        r"`edge_index\[:, 3\] = \(2, 7\)` refers to node 7, but the graph has 5 nodes. "
        r"Received: edge_index with value 7$"
    )
    with pytest.raises(ValueError, match=message):
        v.check_edge_index(np.array([[0, 1, 2, 2, 9], [1, 2, 4, 7, 0]]), 5)
    message = r"`edges\[:, 1\] = \(-1, 2\)` refers to node -1, .* Received: edges with value -1$"
    with pytest.raises(ValueError, match=message):
        v.check_edge_index([[0, -1], [1, 2]], 5, name="edges")
    with pytest.raises(ValueError, match=r"\(0, 5\)` refers to node 5, but the graph has 5"):
        v.check_edge_index([[0], [5]], 5)


def test_edge_index_must_be_integers_of_shape_2_by_e():
    import re

    with pytest.raises(
        ValueError, match="`edge_index` must hold integers .* Received: dtype=float32$"
    ):
        v.check_edge_index(np.zeros((2, 3), np.float32), 5)
    with pytest.raises(ValueError, match="Received: dtype=bool$"):
        v.check_edge_index(np.zeros((2, 3), bool), 5)
    for shape in ((3, 2), (2,), (2, 2, 2)):
        with pytest.raises(
            ValueError, match=rf"\[2, num_edges\].*Received: shape={re.escape(str(shape))}$"
        ):
            v.check_edge_index(np.zeros(shape, np.int64), 5)
    with pytest.raises(ValueError, match="Received: num_nodes=-1"):
        v.check_edge_index([[0], [0]], -1)
