"""TF Serving's JSON through orjson: NumPy arrays, b64 strings, NaN and Infinity."""

import json

import numpy as np
import pytest
import tensorflow as tf

from serving import json_codec
from serving.errors import ServingError
from serving.rest_client import encode_json_value
from serving.tensor_proto import from_tensor_proto, to_tensor_proto


def test_arrays_are_written_directly_and_read_back_exactly():
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    payload = {
        "outputs": {
            "x": x,
            "transposed": x.T,  # not C-contiguous
            "scalar": np.array(2.5),  # 0-d
            "ints": np.arange(3, dtype=np.int64),
            "flags": np.array([True, False]),
        }
    }
    data = json_codec.dumps(payload)
    assert json.loads(data)["outputs"]["scalar"] == 2.5
    decoded = json_codec.loads(data)["outputs"]
    np.testing.assert_array_equal(np.asarray(decoded["x"], np.float32), x)
    np.testing.assert_array_equal(np.asarray(decoded["transposed"], np.float32), x.T)
    assert decoded["ints"] == [0, 1, 2] and decoded["flags"] == [True, False]


def test_non_finite_floats_travel_as_nan_and_infinity():
    values = np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)
    data = json_codec.dumps({"outputs": values})
    assert data == b'{"outputs": [NaN, Infinity, -Infinity, 1.0]}'
    back = np.asarray(json_codec.loads(data)["outputs"], np.float32)
    np.testing.assert_array_equal(back, values)


def test_b64_objects_are_decoded_and_bad_ones_named():
    assert json_codec.loads(b'{"instances": [{"b64": "aGk="}, "plain"]}') == {
        "instances": [b"hi", "plain"]
    }
    assert json_codec.dumps(encode_json_value([b"\x00\xff", b"hi"])) == (
        b'[{"b64":"AP8="},{"b64":"aGk="}]'
    )
    with pytest.raises(ServingError, match="Invalid base64"):
        json_codec.loads(b'{"b64": "not base64!"}')
    with pytest.raises(ValueError):
        json_codec.loads(b"{not json")


def test_client_values_keep_dtype_and_layout():
    x = np.arange(6, dtype=np.float64).reshape(2, 3).T
    encoded = encode_json_value({"a": x, "b": [1, 2], "s": ["text"]})
    assert encoded["a"].flags.c_contiguous and encoded["a"].dtype == np.float64
    assert json.loads(json_codec.dumps(encoded)) == {
        "a": x.tolist(),
        "b": [1, 2],
        "s": ["text"],
    }


@pytest.mark.parametrize(
    "value",
    [
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.array([[1, 2]], np.int64),
        np.array([True, False]),
        np.array([1.5], np.float16),
        np.array([b"a", b"bc"], dtype=object),
        np.array(["text"]),
    ],
    ids=["float32", "int64", "bool", "float16", "bytes", "str"],
)
def test_tensor_protos_round_trip_like_tensorflow(value):
    proto = to_tensor_proto(value)
    back = from_tensor_proto(proto)
    expected = tf.make_ndarray(
        tf.make_tensor_proto(np.char.encode(value, "utf-8") if value.dtype.kind == "U" else value)
    )
    assert back.dtype == expected.dtype and back.shape == expected.shape
    np.testing.assert_array_equal(back, expected)
    assert back.flags.writeable
