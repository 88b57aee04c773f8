"""Exceptions raised by the `tfrecords` package."""

from __future__ import annotations


class TFRecordError(Exception):
    """Base class of every error the `tfrecords` package raises on its own."""


class SchemaError(TFRecordError, ValueError):
    """A schema file is missing a field, disagrees with the shards, or cannot describe the data."""


class CorruptRecordError(TFRecordError, OSError):
    """A shard is truncated or holds a record whose checksum does not match.

    Attributes:
        path: the damaged shard.
        intact_records: how many records before the damage read back correctly.
        expected_records: how many records the schema lists for the shard (`None` if unknown).
    """

    def __init__(self, path: str, intact_records: int, expected_records: int | None, detail=""):
        self.path = path
        self.intact_records = intact_records
        self.expected_records = expected_records
        expected = "" if expected_records is None else f" of the {expected_records} it should hold"
        message = (
            f"Corrupt TFRecord shard '{path}': only the first {intact_records} records"
            f"{expected} are intact (the file is truncated or a record fails its CRC check)."
        )
        if detail:
            message += f" TensorFlow said: {detail}"
        super().__init__(message)
