"""`inspect` and `validate`: what a set of shards holds, and whether every record is intact."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow as tf

from tfrecords.errors import CorruptRecordError
from tfrecords.files import load_schema, resolve_files
from tfrecords.reader import read
from tfrecords.schema import Schema

_COUNT_BATCH = 1024


@dataclasses.dataclass
class Inspection:
    """What `inspect` found.

    Attributes:
        files: the shards, sorted.
        schema: their `Schema`.
        num_records: records in `files` (from the schema, or counted when `verify=True`).
        num_bytes: bytes on disk.
        example: the first example, decoded, as a dict of NumPy values (`None` when empty).
    """

    files: list[str]
    schema: Schema
    num_records: int
    num_bytes: int
    example: dict | None

    def to_dict(self) -> dict:
        return {
            "files": self.files,
            "num_records": self.num_records,
            "num_bytes": self.num_bytes,
            "schema": self.schema.to_json(),
            "example": self.example,
        }


def validate(files) -> dict[str, int]:
    """Reads every record of every shard and checks the counts against the schema.

    Args:
        files: a shard path, glob pattern, directory, prefix, or a list of them.

    Returns:
        Each shard's path mapped to its record count.

    Raises:
        CorruptRecordError: a shard is truncated, fails a CRC check, or holds a different
            number of records than its schema lists; names the shard.

    Example:

    ```python
    counts = tfrecords.validate("data/train")
    ```
    """
    paths = resolve_files(files)
    schema, expected_counts = load_schema(paths)
    counts = {}
    for path, expected in zip(paths, expected_counts, strict=True):
        records = tf.data.TFRecordDataset(path, compression_type=schema.compression or "")
        intact = sum(int(tf.size(chunk)) for chunk in records.ignore_errors().batch(_COUNT_BATCH))
        if intact != expected:
            raise CorruptRecordError(path, intact, expected, _first_error(records, intact))
        counts[path] = intact
    return counts


def _first_error(records: tf.data.Dataset, intact: int) -> str:
    try:
        for _ in records.skip(intact).take(1):
            pass
    except tf.errors.OpError as error:
        return error.message
    return ""


def inspect(files, verify: bool = False) -> Inspection:
    """Describes a TFRecord dataset: its shards, schema, record count and first example.

    Args:
        files: a shard path, glob pattern, directory, prefix, or a list of them.
        verify: read every record to count and check them (see `validate`) instead of
            trusting the schema's counts. Defaults to `False`.

    Returns:
        An `Inspection`; `format_inspection` renders it as text.

    Example:

    ```python
    print(tfrecords.format_inspection(tfrecords.inspect("data/train")))
    ```
    """
    paths = resolve_files(files)
    schema, counts = load_schema(paths)
    num_records = sum(validate(paths).values()) if verify else sum(counts)
    example = None
    for decoded in read(paths, on_error="skip").take(1):
        example = tf.nest.map_structure(lambda t: t.numpy(), decoded)
    return Inspection(
        files=paths,
        schema=schema,
        num_records=num_records,
        num_bytes=sum(os.path.getsize(p) for p in paths),
        example=example,
    )


def _describe_value(value) -> str:
    array = np.asarray(value)
    if array.dtype == object or array.size > 8:
        flat = array.ravel()
        head = ", ".join(repr(v) if isinstance(v, bytes) else str(v) for v in flat[:8])
        more = ", ..." if flat.size > 8 else ""
        return f"shape={array.shape} [{head}{more}]"
    return f"shape={array.shape} {array.tolist()!r}"


def format_inspection(inspection: Inspection) -> str:
    """The text `zoo data inspect` prints."""
    schema = inspection.schema
    lines = [
        f"files: {len(inspection.files)} shard(s), {inspection.num_bytes:,} bytes, "
        f"compression: {schema.compression or 'none'}",
        f"records: {inspection.num_records:,}",
        "features:",
    ]
    width = max(len(name) for name in schema.features)
    for name, spec in schema.features.items():
        shape = "(" + ", ".join("None" if d is None else str(d) for d in spec.shape) + ")"
        if len(spec.shape) == 1:
            shape = shape[:-1] + ",)"
        encoding = "" if spec.encoding == "raw" else f"  encoding={spec.encoding}"
        lines.append(f"  {name:<{width}}  {spec.dtype:<8} shape={shape}{encoding}")
    if inspection.example is None:
        lines.append("first example: (none)")
    else:
        lines.append("first example:")
        for name, value in inspection.example.items():
            lines.append(f"  {name:<{width}}  {_describe_value(value)}")
    return "\n".join(lines)
