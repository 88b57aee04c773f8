import logging
import os

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tensorflow.python.data.experimental.ops.distribute import _AutoShardDataset

import tfrecords
from tests import harness
from tests.tfrecords.helpers import collect


def _write_ids(tmp_path, n=600, num_shards=2, compression=None):
    data = {"id": np.arange(n), "x": np.arange(n * 8, dtype=np.float32).reshape(n, 8)}
    prefix = str(tmp_path / "d")
    return tfrecords.write(data, prefix, num_shards=num_shards, compression=compression)


def _record_offsets(path):
    """Start offset of each record of an uncompressed shard (8-byte length, 4 CRC, data, 4 CRC)."""
    with open(path, "rb") as handle:
        data = handle.read()
    offsets, offset = [], 0
    while offset < len(data):
        offsets.append(offset)
        offset += 16 + int(np.frombuffer(data[offset : offset + 8], "<u8")[0])
    return offsets


def test_missing_files_and_schema(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        tfrecords.read(str(tmp_path / "nothing-here-*"))
    files = _write_ids(tmp_path, n=4)
    os.remove(str(tmp_path / "d.schema.json"))
    with pytest.raises(FileNotFoundError, match="d.schema.json"):
        tfrecords.read(files)


def test_truncated_shard_names_the_file_or_is_skipped(tmp_path, caplog):
    files = _write_ids(tmp_path)
    offsets = _record_offsets(files[1])
    with open(files[1], "r+b") as handle:
        handle.truncate(offsets[100] + 10)  # record 100 cut short; 0..99 intact
    message = "d-00001-of-00002.tfrecord.*holds 100"
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        collect(tfrecords.read(str(tmp_path), batch_size=64))
    with pytest.raises(tfrecords.CorruptRecordError, match="00001-of-00002") as error:
        tfrecords.validate(str(tmp_path))
    assert (error.value.intact_records, error.value.expected_records) == (100, 300)
    assert isinstance(error.value, OSError) and isinstance(error.value, tfrecords.TFRecordError)

    with caplog.at_level(logging.WARNING, logger="tfrecords"):
        ids = collect(tfrecords.read(str(tmp_path), batch_size=64, on_error="skip"))["id"]
    # Shard 1 holds the odd ids (round-robin); its first 100 records survive.
    assert ids == sorted([*range(0, 600, 2), *range(1, 200, 2)])
    assert "Skipped 200 damaged record(s)" in caplog.text and "00001-of-00002" in caplog.text


def test_flipped_byte_fails_the_crc_check(tmp_path, caplog):
    files = _write_ids(tmp_path)
    offsets = _record_offsets(files[0])
    with open(files[0], "r+b") as handle:
        handle.seek(offsets[250] + 20)  # inside record 250's body
        byte = handle.read(1)
        handle.seek(offsets[250] + 20)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="d-00000-of-00002.tfrecord"):
        collect(tfrecords.read(str(tmp_path), batch_size=64))
    with caplog.at_level(logging.WARNING, logger="tfrecords"):
        ids = collect(tfrecords.read(str(tmp_path), batch_size=64, on_error="skip"))["id"]
    assert ids == sorted([*range(0, 500, 2), *range(1, 600, 2)])
    assert "Skipped 50 damaged record(s)" in caplog.text


def test_truncated_gzip_shard_is_reported(tmp_path):
    files = _write_ids(tmp_path, compression="GZIP")
    size = os.path.getsize(files[0])
    with open(files[0], "r+b") as handle:
        handle.truncate(size // 2)
    with pytest.raises(tfrecords.CorruptRecordError, match="00000-of-00002.tfrecord.gz"):
        tfrecords.validate(files)
    ids = collect(tfrecords.read(files, batch_size=64, on_error="skip"))["id"]
    assert set(range(1, 600, 2)) <= set(ids) and len(ids) < 600


def test_read_argument_errors(tmp_path):
    _write_ids(tmp_path, n=4)
    with pytest.raises(ValueError, match="on_error='ignore'"):
        tfrecords.read(str(tmp_path), on_error="ignore")
    with pytest.raises(ValueError, match="batch_size=0"):
        tfrecords.read(str(tmp_path), batch_size=0)
    with pytest.raises(ValueError, match=r"features=\['nope'\]"):
        tfrecords.read(str(tmp_path), features=["nope"])


def test_auto_shard_by_file(tmp_path):
    _write_ids(tmp_path, n=40, num_shards=4)
    dataset = tfrecords.read(str(tmp_path), batch_size=5)
    policy = dataset.options().experimental_distribute.auto_shard_policy
    assert policy == tf.data.experimental.AutoShardPolicy.FILE
    # What each of two workers reads: shards 0 and 2 (ids = 0, 2 mod 4) for worker 0.
    worker0 = _AutoShardDataset(dataset, num_workers=2, index=0)
    ids = sorted(np.concatenate([b["id"].numpy() for b in worker0]).tolist())
    assert ids == [i for i in range(40) if i % 4 in (0, 2)]

    def one_pass(strategy):
        distributed = strategy.experimental_distribute_dataset(dataset)
        total = 0
        for batch in distributed:
            total += sum(int(t.shape[0]) for t in strategy.experimental_local_results(batch["id"]))
        return total

    assert harness.run_in_mirrored_strategy(one_pass) == 40


def test_input_context_splits_shards(tmp_path):
    _write_ids(tmp_path, n=40, num_shards=4)
    context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=1)
    ids = collect(tfrecords.read(str(tmp_path), batch_size=8, input_context=context))["id"]
    assert ids == [i for i in range(40) if i % 4 in (1, 3)]


def test_inspect_and_format(tmp_path):
    _write_ids(tmp_path, n=10)
    inspection = tfrecords.inspect(str(tmp_path / "d"), verify=True)
    assert inspection.num_records == 10 and len(inspection.files) == 2
    assert inspection.example["id"] in (0, 1)
    assert inspection.schema.features["x"] == tfrecords.FeatureSpec("float32", (8,))
    text = tfrecords.format_inspection(inspection)
    assert "records: 10" in text and "x   float32  shape=(8,)" in text
    with pytest.raises(FileNotFoundError, match="missing"):
        tfrecords.inspect(str(tmp_path / "missing"))


_FEATURE_DTYPES = st.sampled_from(["uint8", "int16", "int64", "float32", "float64", "bool"])


@settings(max_examples=15, deadline=None)
@given(
    arrays=st.lists(
        _FEATURE_DTYPES.flatmap(
            lambda dtype: hnp.arrays(
                dtype, st.tuples(st.just(5), *[st.integers(0, 3)] * 2), elements=None
            )
        ),
        min_size=1,
        max_size=3,
    ),
    num_shards=st.integers(1, 3),
    compression=st.sampled_from([None, "GZIP"]),
)
def test_property_round_trip(tmp_path_factory, arrays, num_shards, compression):
    directory = tmp_path_factory.mktemp("p")
    data = {"id": np.arange(5), **{f"f{i}": a for i, a in enumerate(arrays)}}
    tfrecords.write(data, str(directory / "d"), num_shards=num_shards, compression=compression)
    got = collect(tfrecords.read(str(directory), batch_size=2))
    for name, array in data.items():
        result = np.stack(got[name])
        assert result.dtype == array.dtype and result.shape == array.shape
        assert result.tobytes() == np.ascontiguousarray(array).tobytes()
