import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfrecords
from tests.tfrecords.helpers import collect, ragged_column

NUMERIC_DTYPES = [
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64",
    "float16", "float32", "float64", "complex64", "complex128", "bool",
]  # fmt: skip


def _values(dtype: str, shape, rng) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) > 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    values = rng.normal(size=shape) * 1e3
    if dtype.kind == "c":
        values = values + 1j * rng.normal(size=shape)
    return values.astype(dtype)


def _assert_rows_equal(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        g, e = np.asarray(g), np.asarray(e)
        assert g.dtype == e.dtype and g.shape == e.shape, (g.dtype, e.dtype, g.shape, e.shape)
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
def test_numeric_features_round_trip_exactly(tmp_path, dtype):
    rng = np.random.default_rng(0)
    data = {"id": np.arange(11), "x": _values(dtype, (11, 2, 3), rng), "s": _values(dtype, 11, rng)}
    tfrecords.write(data, str(tmp_path / "d"), num_shards=2)
    dataset = tfrecords.read(str(tmp_path / "d"), batch_size=4)
    assert dataset.element_spec["x"] == tf.TensorSpec([None, 2, 3], tf.as_dtype(dtype))
    got = collect(dataset)
    _assert_rows_equal(got["x"], list(data["x"]))
    _assert_rows_equal(got["s"], list(data["s"]))


def test_extreme_float_values_round_trip_bit_exactly(tmp_path):
    values = np.array([np.nan, np.inf, -np.inf, -0.0, 5e-324, np.finfo(np.float64).max])
    tfrecords.write({"id": np.arange(6), "x": values}, str(tmp_path / "d"))
    got = np.array(collect(tfrecords.read(str(tmp_path / "d"), batch_size=6))["x"])
    assert got.tobytes() == values.tobytes()


def test_strings_and_bytes_round_trip(tmp_path):
    text = np.array([["héllo", ""], ["日本", "a b"], ["x", "y"]])
    raw = np.array([b"\x00\xff", b"", b"abc"], dtype=object)
    tfrecords.write({"id": np.arange(3), "text": text, "raw": raw}, str(tmp_path / "d"))
    dataset = tfrecords.read(str(tmp_path / "d"), batch_size=2)
    assert dataset.element_spec["text"] == tf.TensorSpec([None, 2], tf.string)
    got = collect(dataset)
    assert [[v.decode("utf-8") for v in row] for row in got["text"]] == text.tolist()
    assert got["raw"] == list(raw)


def test_variable_length_features_read_back_ragged(tmp_path):
    ints = ragged_column([[1, 2, 3], [], [7], [4, 5]], "int32")
    pairs = [np.zeros((0, 2)), [[1.5, 2.5]], [[1, 2], [3, 4], [5, 6]], [[9, 9]]]
    pairs = ragged_column(pairs, "float64")
    words = ragged_column([["a", "bc"], [], ["d"], ["e", "f", "g"]], object)
    data = {"id": np.arange(4), "ints": ints, "pairs": pairs, "words": words}
    tfrecords.write(data, str(tmp_path / "d"), num_shards=2)
    dataset = tfrecords.read(str(tmp_path / "d"), batch_size=3)
    assert isinstance(dataset.element_spec["ints"], tf.RaggedTensorSpec)
    assert dataset.element_spec["pairs"].shape.as_list() == [None, None, 2]
    got = collect(dataset)
    _assert_rows_equal(got["ints"], list(ints))
    _assert_rows_equal(got["pairs"], list(pairs))
    assert [[w.decode() for w in row] for row in got["words"]] == [list(r) for r in words]


def test_unbatched_read_yields_single_examples(tmp_path):
    data = {"id": np.arange(5), "seq": ragged_column([[1], [2, 3], [], [4], [5, 6, 7]], "int64")}
    tfrecords.write(data, str(tmp_path / "d"))
    examples = list(tfrecords.read(str(tmp_path / "d")))
    assert [int(e["id"]) for e in examples] == [0, 1, 2, 3, 4]
    assert [e["seq"].numpy().tolist() for e in examples] == [[1], [2, 3], [], [4], [5, 6, 7]]


def test_png_is_lossless_and_jpeg_close(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (6, 8, 8, 3), dtype=np.uint8)
    ramp = np.linspace(0, 250, 8).astype(np.uint8)
    photos = np.ascontiguousarray(np.broadcast_to(ramp[None, None, :, None], (6, 8, 8, 3)))
    data = {"id": np.arange(6), "png": images, "jpeg": photos}
    tfrecords.write(data, str(tmp_path / "d"), schema={"png": "png", "jpeg": {"encoding": "jpeg"}})
    got = collect(tfrecords.read(str(tmp_path / "d"), batch_size=4))
    _assert_rows_equal(got["png"], list(images))
    assert np.abs(np.array(got["jpeg"], np.int32) - photos).mean() < 10  # lossy, but close


def test_image_encoding_needs_an_image_shape(tmp_path):
    with pytest.raises(ValueError, match="PNG encoding of feature 'x'"):
        tfrecords.write({"x": np.zeros((2, 4), np.uint8)}, str(tmp_path / "d"), schema={"x": "png"})


@pytest.mark.parametrize(
    ("compression", "suffix"),
    [(None, ".tfrecord"), ("GZIP", ".tfrecord.gz"), ("ZLIB", ".tfrecord.zlib")],
)
def test_compression_round_trip(tmp_path, compression, suffix):
    data = {"id": np.arange(20), "x": np.tile(np.arange(50, dtype=np.float32), (20, 1))}
    files = tfrecords.write(data, str(tmp_path / "d"), num_shards=2, compression=compression)
    assert all(f.endswith(suffix) for f in files)
    got = collect(tfrecords.read(str(tmp_path / "d"), batch_size=8))
    _assert_rows_equal(got["x"], list(data["x"]))
    assert tfrecords.inspect(str(tmp_path)).schema.compression == compression


def test_sharding_by_count_and_by_size(tmp_path):
    data = {"id": np.arange(10), "x": np.zeros((10, 1000), np.uint8)}
    files = tfrecords.write(data, str(tmp_path / "a"), num_shards=4)
    names = [os.path.basename(f) for f in files]
    assert names == [f"a-{i:05d}-of-00004.tfrecord" for i in range(4)]
    counts = [s["records"] for s in tfrecords.inspect(files).schema.shards]
    assert counts == [3, 3, 2, 2]
    files = tfrecords.write(data, str(tmp_path / "b"), shard_size_mb=2500 / 2**20)
    assert len(files) == 5  # two ~1 KB records fit in 2,500 bytes
    assert collect(tfrecords.read(files, batch_size=3))["id"] == list(range(10))


def test_rewrite_replaces_stale_shards(tmp_path):
    prefix = str(tmp_path / "d")
    tfrecords.write({"id": np.arange(8)}, prefix, num_shards=4)
    files = tfrecords.write({"id": np.arange(3)}, prefix + ".tfrecord", num_shards=2)
    assert sorted(os.listdir(tmp_path)) == sorted([*map(os.path.basename, files), "d.schema.json"])
    assert collect(tfrecords.read(prefix, batch_size=8))["id"] == [0, 1, 2]


def test_write_from_dataset_and_iterable(tmp_path):
    dataset = tf.data.Dataset.from_tensor_slices(
        {"id": np.arange(6), "x": np.arange(12, dtype=np.float32).reshape(6, 2)}
    ).map(lambda e: {**e, "seq": tf.range(e["id"], dtype=tf.int32)})
    tfrecords.write(dataset, str(tmp_path / "ds"))
    got = collect(tfrecords.read(str(tmp_path / "ds"), batch_size=4))
    assert [row.tolist() for row in got["seq"]] == [list(range(i)) for i in range(6)]

    examples = ({"id": i, "tokens": list(range(i)), "name": f"n{i}"} for i in range(4))
    tfrecords.write(examples, str(tmp_path / "it"), schema={"tokens": {"shape": [None]}})
    got = collect(tfrecords.read(str(tmp_path / "it"), batch_size=4))
    assert [row.tolist() for row in got["tokens"]] == [[], [0], [0, 1], [0, 1, 2]]
    assert got["name"] == [b"n0", b"n1", b"n2", b"n3"]


def test_write_refuses_inexact_casts_and_shape_changes(tmp_path):
    with pytest.raises(ValueError, match="uint8 cannot represent"):
        tfrecords.write([{"x": 300}], str(tmp_path / "d"), schema={"x": {"dtype": "uint8"}})
    with pytest.raises(ValueError, match=r"Feature 'x' has shape \(2,\)"):
        tfrecords.write([{"x": [1, 2]}, {"x": [1, 2, 3]}], str(tmp_path / "d"))
    with pytest.raises(ValueError, match="same number of examples"):
        tfrecords.write({"a": np.zeros(3), "b": np.zeros(4)}, str(tmp_path / "d"))
    with pytest.raises(ValueError, match="num_shards=0"):
        tfrecords.write({"a": np.zeros(3)}, str(tmp_path / "d"), num_shards=0)
    with pytest.raises(ValueError, match="compression='zip'"):
        tfrecords.write({"a": np.zeros(3)}, str(tmp_path / "d"), compression="zip")
    with pytest.raises(ValueError, match=r"not in the data: \['b'\]"):
        tfrecords.write({"a": np.zeros(3)}, str(tmp_path / "d"), schema={"b": "png"})
    assert os.listdir(tmp_path) == []


def test_interrupted_write_leaves_no_shard_or_schema(tmp_path):
    def examples():
        for i in range(5):
            if i == 3:
                raise RuntimeError("source failed")
            yield {"x": i}

    with pytest.raises(RuntimeError, match="source failed"):
        tfrecords.write(examples(), str(tmp_path / "d"), num_shards=2)
    assert os.listdir(tmp_path) == []


def test_progress_bar_only_for_large_writes(tmp_path, capsys):
    tfrecords.write({"x": np.zeros(10)}, str(tmp_path / "small"))
    assert capsys.readouterr().out == ""
    tfrecords.write({"x": np.zeros(10)}, str(tmp_path / "forced"), verbose=1)
    assert "10/10" in capsys.readouterr().out


def test_label_and_feature_selection_feed_fit(tmp_path):
    rng = np.random.default_rng(0)
    data = {"x": rng.normal(size=(32, 4)).astype("float32"), "label": rng.integers(0, 2, 32)}
    data["extra"] = np.zeros(32, np.float32)
    tfrecords.write(data, str(tmp_path / "d"), num_shards=2)
    with pytest.raises(ValueError, match="label='y'"):
        tfrecords.read(str(tmp_path / "d"), label="y")
    both = tfrecords.read(str(tmp_path / "d"), batch_size=8, label="label")
    assert set(both.element_spec[0]) == {"x", "extra"}
    dataset = tfrecords.read(str(tmp_path / "d"), batch_size=8, label="label", features="x")
    assert dataset.element_spec[0] == tf.TensorSpec([None, 4], tf.float32)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(dataset, epochs=1, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"][0])

    tfrecords.write({"x": data["x"], "label": data["label"]}, str(tmp_path / "two"))
    single = tfrecords.read(str(tmp_path / "two"), batch_size=8, label="label")
    assert single.element_spec[0] == tf.TensorSpec([None, 4], tf.float32)


def test_shuffle_is_seeded_and_cache_keeps_every_record(tmp_path):
    tfrecords.write({"id": np.arange(50)}, str(tmp_path / "d"), num_shards=3)

    def ids(**kwargs):
        dataset = tfrecords.read(str(tmp_path / "d"), batch_size=10, **kwargs)
        return np.concatenate([b["id"].numpy() for b in dataset]).tolist()

    shuffled = ids(shuffle=True, seed=3, shuffle_buffer_size=50)
    assert sorted(shuffled) == list(range(50)) and shuffled != sorted(shuffled)
    assert ids(shuffle=True, seed=3, shuffle_buffer_size=50) == shuffled
    assert ids() == ids()
    cached = tfrecords.read(str(tmp_path / "d"), batch_size=10, cache=True)
    first = [b["id"].numpy().tolist() for b in cached]
    assert [b["id"].numpy().tolist() for b in cached] == first
