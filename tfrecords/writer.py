"""`write`: data in memory, a `tf.data.Dataset` or an iterable of dicts to sharded TFRecords."""

from __future__ import annotations

import glob
import itertools
import os
from collections.abc import Iterable, Iterator, Mapping

import keras
import numpy as np
import tensorflow as tf

from layers.validation import check_positive_float, check_positive_int
from tfrecords import encoding
from tfrecords.schema import (
    COMPRESSIONS,
    FeatureSpec,
    Schema,
    dataset_prefix,
    parse_shard_path,
    schema_path,
    shard_path,
    temporary_name,
)

PROGRESS_THRESHOLD = 10_000
_PROGRESS_EVERY = 1_000


def write(
    data,
    path: str,
    num_shards: int | None = None,
    shard_size_mb: float = 100,
    compression: str | None = None,
    schema: Mapping | None = None,
    verbose: str | int = "auto",
) -> list[str]:
    """Writes examples to sharded TFRecord files plus a schema file, atomically.

    Shards are named `PATH-00000-of-00004.tfrecord` (`.tfrecord.gz` / `.tfrecord.zlib` when
    compressed) and the schema `PATH.schema.json` sits next to them: feature names, dtypes,
    shapes, encodings, the compression and each shard's record count. Every file is written
    under a hidden temporary name and renamed when complete, and the schema is written last, so
    an interrupted write never leaves a shard that looks complete. Rewriting a `PATH` replaces
    its previous shards.

    Supported features: any numeric or bool dtype with a fixed shape (stored as raw bytes, read
    back bit-exact), text and bytes (any fixed shape), variable-length arrays (an object array of
    arrays that differ in their first axis; read back ragged), and PNG/JPEG-encoded images.

    Args:
        data: a dict of arrays (the first axis indexes examples), a `tf.data.Dataset` of dicts
            of unbatched examples, or an iterable of dicts (one per example).
        path: shard prefix, e.g. `"data/train"`; a trailing `.tfrecord` is dropped.
        num_shards: number of shards; examples go to them round-robin. Defaults to `None`:
            a new shard starts every `shard_size_mb`.
        shard_size_mb: shard size (uncompressed) when `num_shards` is `None`. Defaults to `100`.
        compression: `None`, `"GZIP"` or `"ZLIB"`. Defaults to `None`.
        schema: per-feature overrides: `{"image": "png"}`, or `{"tokens": {"dtype": "int32",
            "shape": [None]}}` (declare variable-length features this way when writing from an
            iterable or dataset, whose first example alone cannot tell). Defaults to `None`.
        verbose: `"auto"` shows a progress bar from 10,000 examples on, `1` always, `0` never.
            Defaults to `"auto"`.

    Returns:
        The shard paths, in order.

    Example:

    ```python
    files = tfrecords.write({"image": images, "label": labels}, "data/train", num_shards=4)
    dataset = tfrecords.read("data/train-*", batch_size=128, label="label")
    ```
    """
    _check_arguments(num_shards, shard_size_mb, compression, verbose)
    specs, examples, total = _prepare(data, dict(schema or {}))
    prefix = dataset_prefix(os.fspath(path))
    os.makedirs(os.path.dirname(prefix) or ".", exist_ok=True)
    options = tf.io.TFRecordOptions(compression_type=compression or "")

    temporaries, counts = [], []
    writers: list[tf.io.TFRecordWriter] = []

    def open_shard() -> tf.io.TFRecordWriter:
        name = temporary_name(f"{prefix}-{len(temporaries):05d}")
        temporaries.append(name)
        counts.append(0)
        writers.append(tf.io.TFRecordWriter(name, options))
        return writers[-1]

    progress = _progress_bar(verbose, total)
    written = 0
    try:
        if num_shards is not None:
            for _ in range(num_shards):
                open_shard()
        else:
            open_shard()
            shard_bytes, limit = 0, shard_size_mb * 2**20
        for values in examples:
            record = encoding.encode_example(specs, values)
            if num_shards is not None:
                index = written % num_shards
            else:
                if shard_bytes and shard_bytes + len(record) > limit:
                    writers[-1].close()
                    open_shard()
                    shard_bytes = 0
                shard_bytes += len(record)
                index = len(writers) - 1
            writers[index].write(record)
            counts[index] += 1
            written += 1
            if written % _PROGRESS_EVERY == 0:
                if progress is None and verbose == "auto" and written >= PROGRESS_THRESHOLD:
                    progress = keras.utils.Progbar(total, unit_name="example")
                if progress is not None:
                    progress.update(written)
        for writer in writers:
            writer.close()
    except BaseException:
        for writer in writers:
            writer.close()
        for name in temporaries:
            if os.path.exists(name):
                os.remove(name)
        raise
    if progress is not None:
        progress.update(written, finalize=True)
    return _publish(prefix, temporaries, counts, specs, compression)


def _check_arguments(num_shards, shard_size_mb, compression, verbose) -> None:
    check_positive_int("num_shards", num_shards, allow_none=True, allow_numpy=True)
    check_positive_float("shard_size_mb", shard_size_mb)
    if compression not in COMPRESSIONS:
        raise ValueError(
            f"`compression` must be one of {COMPRESSIONS}. Received: compression={compression!r}"
        )
    if verbose not in ("auto", 0, 1):
        raise ValueError(f"`verbose` must be 'auto', 0 or 1. Received: verbose={verbose!r}")


def _progress_bar(verbose, total: int | None):
    if verbose == 1 or (verbose == "auto" and total is not None and total >= PROGRESS_THRESHOLD):
        return keras.utils.Progbar(total, unit_name="example")
    return None


def _publish(prefix, temporaries, counts, specs, compression) -> list[str]:
    """Renames the finished shards into place, drops stale ones, then writes the schema."""
    finals = [shard_path(prefix, i, len(temporaries), compression) for i in range(len(counts))]
    schema_file = schema_path(prefix)
    # Removing the old schema first means a crash below leaves "no dataset", never a mix of
    # new shards and old record counts.
    if os.path.exists(schema_file):
        os.remove(schema_file)
    for stale in glob.glob(glob.escape(prefix) + "-*-of-*.tfrecord*"):
        if parse_shard_path(stale) == prefix and stale not in finals:
            os.remove(stale)
    for temporary, final in zip(temporaries, finals, strict=True):
        os.replace(temporary, final)
    shards = [
        {"file": os.path.basename(f), "records": c} for f, c in zip(finals, counts, strict=True)
    ]
    Schema(specs, compression, shards).save(schema_file)
    return finals


def _prepare(data, overrides: dict) -> tuple[dict[str, FeatureSpec], Iterator[Mapping], int | None]:
    """Feature specs, an iterator of per-example dicts, and the example count when known."""
    if isinstance(data, Mapping):
        return _prepare_columns(data, overrides)
    if isinstance(data, tf.data.Dataset):
        return _prepare_dataset(data, overrides)
    if isinstance(data, Iterable) and not isinstance(data, str | bytes | np.ndarray):
        return _prepare_iterable(data, overrides)
    raise TypeError(
        "`data` must be a dict of arrays, a tf.data.Dataset of dicts or an iterable of dicts. "
        f"Received: data of type {type(data).__name__}"
    )


def _finish_specs(inferred: dict, overrides: dict) -> dict[str, FeatureSpec]:
    unknown = sorted(set(overrides) - set(inferred))
    if unknown:
        raise ValueError(
            f"`schema` names features that are not in the data: {unknown}. "
            f"The data holds {sorted(inferred)}"
        )
    if not inferred:
        raise ValueError("`data` holds no features.")
    specs = {}
    for name, spec in inferred.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"Feature names must be non-empty strings. Received: {name!r}")
        override = overrides.get(name)
        if override is not None:
            spec = encoding.merge_override(name, spec, encoding.spec_from_override(name, override))
        specs[name] = spec
    return specs


def _prepare_columns(data: Mapping, overrides: dict):
    columns = {name: encoding.as_column(column) for name, column in data.items()}
    lengths = {name: len(column) if np.ndim(column) else None for name, column in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(
            f"Every feature must hold the same number of examples. Received lengths {lengths}"
        )
    inferred = {name: encoding.infer_column_spec(name, col) for name, col in columns.items()}
    specs = _finish_specs(inferred, overrides)
    total = next(iter(lengths.values()), 0)
    examples = ({name: col[i] for name, col in columns.items()} for i in range(total))
    return specs, examples, total


def _to_numpy(value):
    if isinstance(value, tf.RaggedTensor):
        return np.asarray(value.to_list())
    return value.numpy()


def _prepare_dataset(data: tf.data.Dataset, overrides: dict):
    element_spec = data.element_spec
    if not isinstance(element_spec, Mapping):
        raise TypeError(
            "A `data` dataset must yield dicts of feature name to tensor. Received elements "
            f"of spec {element_spec}"
        )
    inferred = {}
    for name, tensor_spec in element_spec.items():
        shape = tuple(tensor_spec.shape.as_list())
        if tensor_spec.dtype == tf.string:
            dtype = "bytes"
        else:
            dtype = np.dtype(tensor_spec.dtype.as_numpy_dtype).name
        if None in shape[1:]:
            override = encoding.spec_from_override(name, overrides.get(name, {}))
            if "shape" not in override:
                raise ValueError(
                    f"Feature {name!r} has shape {shape}; only the first axis may vary. Pass "
                    "its shape in `schema` or pad it."
                )
            shape = tuple(override["shape"])
        inferred[name] = FeatureSpec(dtype, shape)
    specs = _finish_specs(inferred, overrides)
    cardinality = int(data.cardinality())
    total = cardinality if cardinality >= 0 else None
    examples = ({k: _to_numpy(v) for k, v in element.items()} for element in data)
    return specs, examples, total


def _prepare_iterable(data: Iterable, overrides: dict):
    total = len(data) if hasattr(data, "__len__") else None
    iterator = iter(data)
    try:
        first = next(iterator)
    except StopIteration:
        raise ValueError("`data` is empty; there is nothing to infer a schema from.") from None
    if not isinstance(first, Mapping):
        raise TypeError(
            "An iterable `data` must yield dicts of feature name to value. Received an element "
            f"of type {type(first).__name__}"
        )
    inferred = {}
    for name, value in first.items():
        override = encoding.spec_from_override(name, overrides[name]) if name in overrides else {}
        if override.get("shape") and override["shape"][0] is None:
            inferred[name] = encoding.infer_column_spec(name, _as_single_row(value))
        else:
            inferred[name] = encoding.infer_value_spec(name, value)
    specs = _finish_specs(inferred, overrides)
    return specs, itertools.chain([first], iterator), total


def _as_single_row(value) -> np.ndarray:
    column = np.empty(1, dtype=object)
    column[0] = np.asarray(value)
    return column
