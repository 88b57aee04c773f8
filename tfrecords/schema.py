"""The schema file written next to the shards: feature specs, compression and record counts."""

from __future__ import annotations

import dataclasses
import json
import os
import re

import numpy as np

from tfrecords.errors import SchemaError

SCHEMA_VERSION = 1
SCHEMA_SUFFIX = ".schema.json"
COMPRESSIONS = (None, "GZIP", "ZLIB")
ENCODINGS = ("raw", "png", "jpeg")
STRING_DTYPES = ("str", "bytes")
_SHARD_EXTENSIONS = {None: ".tfrecord", "GZIP": ".tfrecord.gz", "ZLIB": ".tfrecord.zlib"}
_SHARD_PATTERN = re.compile(r"^(?P<prefix>.*)-\d{5}-of-\d{5}\.tfrecord(\.gz|\.zlib)?$")


@dataclasses.dataclass(frozen=True)
class FeatureSpec:
    """How one feature is stored and parsed back.

    Args:
        dtype: NumPy dtype name (`"uint8"`, `"float32"`, ...), `"str"` (text, stored UTF-8) or
            `"bytes"`. Both string kinds read back as `tf.string`.
        shape: shape of one example's value. A leading `None` marks a variable-length feature,
            read back as a `tf.RaggedTensor` when batched. Defaults to `()`.
        encoding: `"raw"` (numbers as their little-endian bytes, strings as a bytes list),
            `"png"` or `"jpeg"` (fixed-shape `(height, width, channels)` images). Defaults to
            `"raw"`.
    """

    dtype: str
    shape: tuple = ()
    encoding: str = "raw"

    def __post_init__(self):
        object.__setattr__(self, "shape", tuple(self.shape))
        if self.encoding not in ENCODINGS:
            raise SchemaError(
                f"`encoding` must be one of {ENCODINGS}. Received: encoding={self.encoding!r}"
            )
        if self.dtype not in STRING_DTYPES:
            try:
                kind = np.dtype(self.dtype).kind
            except TypeError as error:
                raise SchemaError(f"Unknown dtype. Received: dtype={self.dtype!r}") from error
            if kind not in "biufc":
                raise SchemaError(
                    "`dtype` must be numeric, bool, 'str' or 'bytes'. "
                    f"Received: dtype={self.dtype!r}"
                )
        if any(d is not None and (not isinstance(d, int) or d < 0) for d in self.shape) or (
            None in self.shape[1:]
        ):
            raise SchemaError(
                "`shape` must hold non-negative integers, with `None` allowed only first. "
                f"Received: shape={self.shape}"
            )

        if self.shape and self.shape[0] is None and 0 in self.shape[1:]:
            # A row's length is read from its byte count, which a zero-sized row does not have.
            raise SchemaError(
                "A variable-length feature needs non-zero inner dimensions. "
                f"Received: shape={self.shape}"
            )

    @property
    def is_string(self) -> bool:
        return self.dtype in STRING_DTYPES

    @property
    def is_ragged(self) -> bool:
        return bool(self.shape) and self.shape[0] is None

    @property
    def is_image(self) -> bool:
        return self.encoding in ("png", "jpeg")

    def to_json(self) -> dict:
        return {"dtype": self.dtype, "shape": list(self.shape), "encoding": self.encoding}

    @classmethod
    def from_json(cls, config: dict) -> FeatureSpec:
        return cls(config["dtype"], tuple(config["shape"]), config.get("encoding", "raw"))


@dataclasses.dataclass
class Schema:
    """Everything a reader needs: feature specs, compression and each shard's record count.

    Args:
        features: feature name to `FeatureSpec`, in writing order.
        compression: `None`, `"GZIP"` or `"ZLIB"`. Defaults to `None`.
        shards: one `{"file": basename, "records": count}` per shard. Defaults to `[]`.
    """

    features: dict[str, FeatureSpec]
    compression: str | None = None
    shards: list[dict] = dataclasses.field(default_factory=list)

    @property
    def num_records(self) -> int:
        return sum(shard["records"] for shard in self.shards)

    def to_json(self) -> dict:
        return {
            "format": "keras_zoo.tfrecords",
            "version": SCHEMA_VERSION,
            "compression": self.compression,
            "num_records": self.num_records,
            "features": {name: spec.to_json() for name, spec in self.features.items()},
            "shards": self.shards,
        }

    @classmethod
    def from_json(cls, config: dict) -> Schema:
        try:
            features = {n: FeatureSpec.from_json(c) for n, c in config["features"].items()}
            return cls(features, config.get("compression"), list(config["shards"]))
        except (KeyError, TypeError) as error:
            raise SchemaError(f"Malformed schema: missing or bad field {error}") from error

    def save(self, path: str) -> None:
        """Writes the schema atomically (a temporary file, then a rename)."""
        temporary = temporary_name(path)
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(self.to_json(), handle, indent=2)
            handle.write("\n")
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: str) -> Schema:
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"No schema file '{path}' next to the shards; tfrecords.read() needs the "
                "schema that tfrecords.write() saves."
            )
        with open(path, encoding="utf-8") as handle:
            try:
                config = json.load(handle)
            except json.JSONDecodeError as error:
                raise SchemaError(f"Schema file '{path}' is not valid JSON: {error}") from error
        return cls.from_json(config)


def dataset_prefix(path: str) -> str:
    """`"out/train.tfrecord"` and `"out/train"` both name the dataset prefix `"out/train"`."""
    for extension in sorted(_SHARD_EXTENSIONS.values(), key=len, reverse=True):
        if path.endswith(extension):
            return path[: -len(extension)]
    return path


def shard_path(prefix: str, index: int, count: int, compression: str | None) -> str:
    """Shard `index` of `count`: `PREFIX-00000-of-00004.tfrecord` (`.gz`/`.zlib` compressed)."""
    return f"{prefix}-{index:05d}-of-{count:05d}{_SHARD_EXTENSIONS[compression]}"


def schema_path(prefix: str) -> str:
    return prefix + SCHEMA_SUFFIX


def parse_shard_path(path: str) -> str | None:
    """The dataset prefix of a shard written by `tfrecords.write`, or `None`."""
    match = _SHARD_PATTERN.match(path)
    return match.group("prefix") if match else None


def temporary_name(path: str) -> str:
    """A hidden name in the same folder (so the rename is atomic) that no shard glob matches."""
    directory, name = os.path.split(path)
    return os.path.join(directory, f".{name}.{os.getpid()}.partial")
